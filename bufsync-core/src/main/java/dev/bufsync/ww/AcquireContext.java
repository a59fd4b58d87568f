package dev.bufsync.ww;

import dev.bufsync.check.Checker;
import static dev.bufsync.ww.WwMisuseException.Rule.CLOSE_WITH_LOCKS_HELD;
import static dev.bufsync.ww.WwMisuseException.Rule.CONCURRENT_USE;
import static dev.bufsync.ww.WwMisuseException.Rule.CONTEXT_CLOSED;
import static dev.bufsync.ww.WwMisuseException.Rule.DONE_TWICE;
import static dev.bufsync.ww.WwMisuseException.Rule.FOREIGN_THREAD;
import static dev.bufsync.ww.WwMisuseException.Rule.LOCKS_HELD_AFTER_BACKOFF;
import static dev.bufsync.ww.WwMisuseException.Rule.LOCK_AFTER_DONE;
import static dev.bufsync.ww.WwMisuseException.Rule.MIXED_LOCKING;
import static dev.bufsync.ww.WwMisuseException.Rule.SLOW_WITHOUT_BACKOFF;
import static dev.bufsync.ww.WwMisuseException.Rule.TWO_CONTEXTS;
import static dev.bufsync.ww.WwMisuseException.Rule.WRONG_CLASS;
import static dev.bufsync.ww.WwMisuseException.Rule.WRONG_MUTEX_AFTER_BACKOFF;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A transaction over mutexes of one {@link WwClass}: it holds a stamp taken when it began (see
 * {@link WwClass}, "Ages"), kept across every back-off, so that it eventually becomes the oldest
 * transaction of its class, and the oldest is never asked to back off (it may back off politely,
 * a bounded number of times per transaction, if its class says so:
 * {@link WwClass.Builder#politeBackoffs(int)}). That bounds starvation.
 *
 * <p>Usage (the kernel's "method 3"; {@code dev.bufsync.exec.Exec} runs this loop for you):
 *
 * <pre>{@code
 * try (AcquireContext ctx = wwClass.begin()) {
 *     WwMutex contended = null;
 *     for (;;) {
 *         try {
 *             if (contended != null) contended.lockSlow(ctx);
 *             for (WwMutex m : mutexes) m.lock(ctx);      // ALREADY_HELD for the slow-locked one
 *             break;
 *         } catch (BackoffException e) {
 *             ctx.unlockAll();
 *             contended = e.mutex();
 *         }
 *     }
 *     ctx.acquireDone();
 *     // ... work under all the locks ...
 *     ctx.unlockAll();
 * }
 * }</pre>
 *
 * <p>A context from {@link WwClass#begin()} belongs to the thread that began it; every method
 * except the read-only accessors and {@link #toString()} must be called from that thread. A
 * context from {@link WwClass#beginTransferable()} belongs to the transaction instead: it is
 * <em>attached</em> to one thread at a time, may be {@linkplain #detach() detached} there and
 * {@linkplain #attach() attached} in another (a virtual thread, an executor's task, a subtask of a
 * structured-concurrency scope), and can lock asynchronously
 * ({@link WwMutex#lockAsync(AcquireContext, java.util.concurrent.Executor)}). Its own methods
 * attach a detached context for their duration; locking and unlocking its mutexes synchronously
 * needs it attached. Two threads using it at once is a misuse
 * ({@link WwMisuseException.Rule#CONCURRENT_USE}). A thread may have one attached context per
 * class. Contexts of different classes may nest.
 *
 * <p><b>Caveats.</b> {@link #close()} with locks still held is a misuse: it unlocks them, so that
 * nothing stays locked, and then throws. A second {@code close()} does nothing. A context whose
 * thread dies without closing it keeps its locks, as any lock would.
 */
public final class AcquireContext implements AutoCloseable {
    /*
     * Overview.
     *
     * Nearly all state is confined to the owner thread and kept in plain fields: the count and
     * list of held mutexes, the phase flags, the contended mutex after a back-off, the injection
     * schedule and the local acquisition counter. Mutexes read two things from other threads:
     *
     *  - acquired, by threads holding a mutex's queue lock while this context is queued on that
     *    mutex. The owner wrote it before it took the same queue lock to enqueue, and does not
     *    change it while queued, so the queue lock orders the accesses.
     *  - wounded, a volatile hint written by older waiters (under the queue bit of a
     *    mutex this context holds, after queueing there) and read by the owner on its contended
     *    lock paths. The owner clears it when it holds nothing, as the kernel does, and confirms
     *    it before backing off (confirmWound): it clears the flag, then looks for an older waiter
     *    that holds locks in the queues of the mutexes it holds, under each queue bit. A waiter
     *    queued before the clear is found by the look; one queued after it sets the flag again.
     *    So a back-off for a wound always names a context that waits, live, at that moment, and
     *    a wound from a context that has left (or closed) never makes anyone back off.
     */

    private static final int DONE = 1, CLOSED = 2, CONTENDING = 4;
    private static final int NO_INJECTION = -1;
    private static final Object[] EMPTY = new Object[0];
    private static final int INITIAL_HELD = 4;
    private static final int MAX_SPARE_HELD = 256;  // larger lists are left to the GC (1 KB per thread and class)

    /** The owner while an asynchronous lock is pending: no thread may use the context. */
    static final Object PENDING = new Object();

    private final WwClass wwClass;
    private final long stamp;
    private final boolean transferable;
    private Object owner;                // thread-bound: the thread that began it, never changed;
                                         // transferable: the attached Thread, null, or PENDING (see Overview)
    private Thread lastOwner;            // transferable: the last thread attached (diagnostics; racy reads)
    private WwClass.ThreadState threadState; // the attached thread's bookkeeping; carrier only
    volatile AsyncWaiter asyncWaiter; // the pending asynchronous lock, or null; written by the carrier

    int acquired;                        // owner writes; read under a queue lock while queued
    private Object[] held;               // owner only: WwMutex and WwSharedMutex entries; the
                                         // thread's spare array when it has one
    private int flags;                   // owner only
    private Object contending;           // owner only: the WwMutex or WwSharedMutex of the last back-off
    private long acquisitions;           // owner only; flushed to the class on close
    private long backoffs;               // owner only
    long olderStamp;                     // owner only: the older context of the last kill check
    private int injectCountdown;         // owner only; NO_INJECTION when off
    private int injectInterval;          // owner only
    private int politeLeft;              // owner only: polite back-offs this transaction may still take
    private volatile boolean wounded;    // a hint: set by wounders, read and cleared by the owner
                                         // (a plain volatile, so no call site needs linking)

    AcquireContext(WwClass wwClass, long stamp, WwClass.ThreadState threadState, boolean transferable) {
        this.wwClass = wwClass;
        this.stamp = stamp;
        this.transferable = transferable;
        this.owner = Thread.currentThread();
        this.lastOwner = Thread.currentThread();
        this.threadState = threadState;
        Object[] spare = threadState.spareHeld;
        if (spare != null) {
            threadState.spareHeld = null;
            this.held = spare;
        } else {
            this.held = new Object[INITIAL_HELD];
        }
        setInjection(wwClass.injectsBackoff());
        this.politeLeft = wwClass.politeBackoffs();
    }

    /**
     * The stamp (ticket) taken when this context began, unique in its class; a smaller stamp,
     * compared wrap-safely with {@link WwClass#isOlder(long, long)}, is an older transaction. On
     * one thread stamps follow begin order; across threads, the order in which the threads took
     * their blocks of stamps ({@link WwClass}, "Ages").
     *
     * @return the stamp
     */
    public long stamp() {
        return stamp;
    }

    /** The owner thread's bookkeeping for this class. */
    WwClass.ThreadState threadState() {
        return threadState;
    }

    /**
     * The class this context belongs to.
     *
     * @return the class
     */
    public WwClass wwClass() {
        return wwClass;
    }

    /**
     * The thread this context is attached to: for a context from {@link WwClass#begin()} the
     * thread that began it, for a transferable one the thread using it now.
     *
     * @return the owner thread, or {@code null} while a transferable context is detached or has an
     *     asynchronous lock pending
     */
    public Thread owner() {
        return owner instanceof Thread t ? t : null;
    }

    /**
     * Tells whether this context was begun with {@link WwClass#beginTransferable()}.
     *
     * @return {@code true} if it may move between threads
     */
    public boolean isTransferable() {
        return transferable;
    }

    /**
     * Attaches this transferable context to the current thread, after another thread
     * {@linkplain #detach() detached} it (or an asynchronous lock completed). From then on this
     * thread may lock and unlock with it, until it detaches it. The mutexes it holds record this
     * thread as their owner, so thread dumps and {@link WwMutex#owner()} show who holds them now.
     *
     * @throws WwMisuseException ({@link WwMisuseException.Rule#CONCURRENT_USE}) if it is attached
     *     to a thread (this one included) or an asynchronous lock of it is pending,
     *     ({@link WwMisuseException.Rule#FOREIGN_THREAD}) if it is not transferable,
     *     ({@link WwMisuseException.Rule#TWO_CONTEXTS}) if this thread has another context of the
     *     class attached, ({@link WwMisuseException.Rule#CONTEXT_CLOSED}) after close
     */
    public void attach() {
        if (!transferable) {
            throw notTransferable("attach");
        }
        WwClass.ThreadState ts = wwClass.threadState();      // may allocate: before the hand-off
        take("attach", ts);
        if (ts.live != null) {
            OWNER.setVolatile(this, (Object) null);
            throw misuse(TWO_CONTEXTS, Thread.currentThread() + " attached " + this + " while "
                    + ts.live + " is live on it; detach or close that first");
        }
        ts.live = this;
        for (int i = 0; i < acquired; i++) {
            if (held[i] instanceof WwMutex m) {
                m.carrierChanged();
            }
        }
    }

    /**
     * Takes a detached transferable context for the current thread, whose bookkeeping is
     * {@code ts}: the hand-off CAS, then the closed check.
     */
    private void take(String op, WwClass.ThreadState ts) {
        if (!OWNER.compareAndSet(this, (Object) null, (Object) Thread.currentThread())) {
            throw notOwner(op);
        }
        if ((flags & CLOSED) != 0) {
            OWNER.setVolatile(this, (Object) null);
            throw misuse(CONTEXT_CLOSED, op + " on closed " + this);
        }
        threadState = ts;
        lastOwner = Thread.currentThread();
    }

    private WwMisuseException notTransferable(String op) {
        return misuse(FOREIGN_THREAD, Thread.currentThread() + " called " + op + " on " + this
                + ", which belongs to the thread that began it; begin it with"
                + " beginTransferable() to move it between threads or lock asynchronously");
    }

    /**
     * Detaches this transferable context from the current thread, so that another thread may
     * {@linkplain #attach() attach} it. Its locks stay held by the transaction; the mutexes keep
     * showing this thread as their owner until another attaches.
     *
     * @throws WwMisuseException ({@link WwMisuseException.Rule#FOREIGN_THREAD} or
     *     {@link WwMisuseException.Rule#CONCURRENT_USE}) if it is not attached to this thread,
     *     ({@link WwMisuseException.Rule#CONTEXT_CLOSED}) after close
     */
    public void detach() {
        checkOwner("detach");
        if (!transferable) {
            throw notTransferable("detach");
        }
        release();
    }

    /** The attached carrier lets go: the thread forgets it, then the hand-off (volatile). */
    private void release() {
        forgetLive();
        OWNER.setVolatile(this, (Object) null);
    }

    /** The carrier's thread no longer has this context live (if it was registered there). */
    private void forgetLive() {
        if (threadState.live == this) {
            threadState.live = null;
        }
    }

    /**
     * Attaches a detached transferable context for one of its own methods. Those never block, so
     * the context is not made the thread's live one: a thread may run them while it has another
     * context of the class attached (a stage run by an executor inside another's unlock).
     *
     * @return {@code true} if the method must detach it again at the end ({@link #leave})
     */
    private boolean enter(String op) {
        if (Thread.currentThread() == owner || !transferable || owner() != null) {
            checkOwner(op);
            return false;
        }
        take(op, wwClass.threadState());                 // the fetch may allocate: before the CAS
        return true;
    }

    /**
     * Marks the end of the acquire phase: any later lock with this context is a misuse. Optional,
     * but it documents intent and catches code that locks too late.
     *
     * @throws WwMisuseException if called twice, from another thread, or after close
     */
    public void acquireDone() {
        boolean entered = enter("acquireDone");
        try {
            if ((flags & DONE) != 0) {
                throw misuse(DONE_TWICE, this + " called acquireDone() twice");
            }
            flags |= DONE;
        } finally {
            leave(entered);
        }
    }

    private void leave(boolean entered) {
        if (entered) {
            OWNER.setVolatile(this, (Object) null);
        }
    }

    /**
     * Unlocks every mutex this context holds ({@link WwMutex}es and {@link WwSharedMutex}es in
     * either mode), newest first. Every mutex is unlocked even if a mutex's
     * {@linkplain WwMutex#WwMutex(WwClass, Runnable) before-unlock hook} throws; the first
     * throwable is rethrown at the end, with the others suppressed.
     *
     * @throws WwMisuseException if called from another thread or after close
     */
    public void unlockAll() {
        boolean entered = enter("unlockAll");
        try {
            Throwable first = null;
            while (acquired > 0) {
                try {
                    unlockHeld(held[acquired - 1]);       // releases even when its hook throws
                } catch (Throwable t) {
                    first = addTo(first, t);
                }
            }
            if (first != null) {
                throw WwMutex.rethrow(first);
            }
        } finally {
            leave(entered);
        }
    }

    /** Unlocks a held WwMutex or WwSharedMutex of this context. */
    private void unlockHeld(Object m) {
        if (m instanceof WwMutex x) {
            x.unlock();
        } else {
            ((WwSharedMutex) m).unlock(this);
        }
    }

    /** A short name of a WwMutex or WwSharedMutex, for messages. */
    static String describe(Object m) {
        return m instanceof WwMutex x ? x.describe() : ((WwSharedMutex) m).describe();
    }

    /** Keeps the first throwable of a loop and suppresses the later ones in it. */
    private static Throwable addTo(Throwable first, Throwable t) {
        if (first == null) {
            return t;
        }
        try {
            first.addSuppressed(t);
        } catch (Throwable lost) {                    // out of memory, or t is first: keep first
        }
        return first;
    }

    /**
     * Turns back-off injection on or off for this context, overriding its class's setting. With it
     * on, a successful {@code lock} or {@code lockInterruptibly} of a context that already holds a
     * lock reports a back-off on a geometric schedule: first after {@code stamp & 0xf} such locks,
     * then after intervals growing 3.5 times each time. The first lock of a transaction is never
     * affected.
     *
     * @param on whether to inject
     * @throws WwMisuseException if called from another thread or after close
     */
    public void injectBackoff(boolean on) {
        boolean entered = enter("injectBackoff");
        try {
            setInjection(on);
        } finally {
            leave(entered);
        }
    }

    private void setInjection(boolean on) {
        if (on) {
            injectInterval = 1;
            injectCountdown = (int) (stamp & 0xf);
        } else {
            injectCountdown = NO_INJECTION;
        }
    }

    /**
     * The number of mutexes this context holds, {@link WwSharedMutex}es included (each once,
     * whatever its mode).
     *
     * @return the count
     */
    public int heldCount() {
        return acquired;
    }

    /**
     * The {@link WwMutex}es this context holds, oldest acquisition first.
     *
     * @return an immutable snapshot (only meaningful when called from the owner thread)
     */
    public List<WwMutex> heldLocks() {
        return heldOf(WwMutex.class);
    }

    /**
     * The {@link WwSharedMutex}es this context holds, shared or exclusively, oldest acquisition
     * first.
     *
     * @return an immutable snapshot (only meaningful when called from the owner thread)
     */
    public List<WwSharedMutex> heldSharedMutexes() {
        return heldOf(WwSharedMutex.class);
    }

    private <T> List<T> heldOf(Class<T> type) {
        List<T> list = new ArrayList<>(acquired);
        for (int i = 0; i < acquired; i++) {
            if (type.isInstance(held[i])) {
                list.add(type.cast(held[i]));
            }
        }
        return List.copyOf(list);
    }

    /** Every held lock's name, for messages. */
    private String heldNames() {
        List<String> names = new ArrayList<>(acquired);
        for (int i = 0; i < acquired; i++) {
            names.add(describe(held[i]));
        }
        return names.toString();
    }

    /**
     * The mutex of the last back-off that has not been locked again yet, or {@code null} (also
     * when the back-off was on a {@link WwSharedMutex}: see {@link #contendedSharedMutex()}).
     * After a {@link BackoffException} the next lock of this context must be of this mutex, with
     * nothing else held.
     *
     * @return the contended mutex, or {@code null}
     */
    public WwMutex contended() {
        return contending instanceof WwMutex m ? m : null;
    }

    /**
     * The readers-writer lock of the last back-off that has not been locked again yet, or
     * {@code null} (also when the back-off was on a {@link WwMutex}).
     *
     * @return the contended lock, or {@code null}
     */
    public WwSharedMutex contendedSharedMutex() {
        return contending instanceof WwSharedMutex m ? m : null;
    }

    /**
     * Tells whether an older transaction has wounded this one (wound-wait). A hint: at its next
     * contended lock the context backs off only if an older transaction that holds locks still
     * waits for a mutex this one holds; otherwise the wound is dropped.
     *
     * @return {@code true} if wounded and not yet reset
     */
    public boolean isWounded() {
        return wounded;
    }

    /**
     * The number of back-offs this context has reported to its caller.
     *
     * @return the count
     */
    public long backoffs() {
        return backoffs;
    }

    /**
     * Tells whether {@link #acquireDone()} was called.
     *
     * @return {@code true} after {@code acquireDone}
     */
    public boolean isDone() {
        return (flags & DONE) != 0;
    }

    /**
     * Tells whether this context is closed.
     *
     * @return {@code true} after {@link #close()}
     */
    public boolean isClosed() {
        return (flags & CLOSED) != 0;
    }

    /**
     * Ends the transaction (the kernel's {@code ww_acquire_fini}). All locks should have been
     * released; if some are still held they are unlocked and a misuse is reported.
     *
     * @throws WwMisuseException ({@link WwMisuseException.Rule#CLOSE_WITH_LOCKS_HELD}) after
     *     unlocking what was still held (if a before-unlock hook threw meanwhile, the context is
     *     closed all the same and the hook's throwable is thrown instead),
     *     ({@link WwMisuseException.Rule#FOREIGN_THREAD}) from another thread while open; closing
     *     a closed context does nothing (close is idempotent; every other use of a closed context
     *     is a {@link WwMisuseException.Rule#CONTEXT_CLOSED} misuse)
     */
    @Override
    public void close() {
        if (isClosed()) {
            return;                                   // idempotent, as AutoCloseable recommends
        }
        boolean entered;
        try {
            entered = enter("close");
        } catch (WwMisuseException e) {
            if (e.rule() == CONTEXT_CLOSED) {
                return;                               // closed by another carrier meanwhile
            }
            throw e;
        }
        try {
            closeAttached();
        } finally {
            leave(entered);
        }
    }

    private void closeAttached() {
        int stillHeld = acquired;
        String heldNames = stillHeld > 0 ? heldNames() : "";
        Throwable hookFailure = null;
        try {
            unlockAll();                              // releases everything even if a hook throws
        } catch (Throwable t) {
            hookFailure = t;
        }
        flags |= CLOSED;
        forgetLive();
        if (held.length <= MAX_SPARE_HELD) {
            threadState.spareHeld = held;             // every slot is null again after unlockAll
        }
        held = EMPTY;
        if (acquisitions != 0) {
            wwClass.counters.addInStripe(threadState.stripe, Counters.ACQUISITIONS, acquisitions);
        }
        if (hookFailure != null) {
            throw WwMutex.rethrow(hookFailure);
        }
        if (stillHeld > 0) {
            throw misuse(CLOSE_WITH_LOCKS_HELD, this + " was closed while holding " + stillHeld
                    + " lock(s) " + heldNames + "; they have been unlocked");
        }
    }

    // ------------------------------------------------------------ checks

    /** Checks a blocking lock (lock, lockInterruptibly, timed tryLock) of {@code m}. */
    void checkLock(WwMutex m) {
        if (Thread.currentThread() != owner || flags != 0 || m.wwClass() != wwClass
                || threadState.noContextHeld != 0) {
            checkSlowly(m, m.wwClass(), "lock", true);
        }
    }

    /** Checks a non-blocking tryLock of {@code m}. */
    void checkTryLock(WwMutex m) {
        if (Thread.currentThread() != owner || flags != 0 || m.wwClass() != wwClass) {
            checkSlowly(m, m.wwClass(), "tryLock", false);
        }
    }

    /** Checks lock {@code op} of readers-writer lock {@code m} of class {@code cls}. */
    void checkLock(WwSharedMutex m, WwClass cls, String op, boolean blocking) {
        if (Thread.currentThread() != owner || flags != 0 || cls != wwClass
                || (blocking && threadState.noContextHeld != 0)) {
            checkSlowly(m, cls, op, blocking);
        }
    }

    /** Checks lockSlow of {@code m}: it must follow a back-off on {@code m}, with nothing held. */
    void checkLockSlow(WwMutex m) {
        checkLockSlow(m, m.wwClass());
    }

    /** Checks a slow lock of {@code m} (a WwMutex or WwSharedMutex) of class {@code cls}. */
    void checkLockSlow(Object m, WwClass cls) {
        checkOwner("lockSlow");
        if (contending == null) {
            throw misuse(SLOW_WITHOUT_BACKOFF, this + " called lockSlow on " + describe(m)
                    + " without a preceding back-off; use lock() instead");
        }
        checkSlowly(m, cls, "lockSlow", true);
    }

    private void checkSlowly(Object m, WwClass cls, String op, boolean blocking) {
        checkOwner(op);
        if ((flags & DONE) != 0) {
            throw misuse(LOCK_AFTER_DONE, this + " called " + op + " on " + describe(m)
                    + " after acquireDone()");
        }
        if (cls != wwClass) {
            throw misuse(WRONG_CLASS, this + " called " + op + " on " + describe(m)
                    + ", which belongs to class " + cls.name());
        }
        if ((flags & CONTENDING) != 0) {
            if (acquired > 0) {
                throw misuse(LOCKS_HELD_AFTER_BACKOFF, this + " called " + op + " on "
                        + describe(m) + " after backing off on " + describe(contending)
                        + " while still holding " + heldNames() + "; unlock everything first");
            }
            if (m != contending) {
                throw misuse(WRONG_MUTEX_AFTER_BACKOFF, this + " called " + op + " on "
                        + describe(m) + " after backing off on " + describe(contending)
                        + "; lock the contended mutex first");
            }
        }
        if (blocking && threadState.noContextHeld != 0) {
            throw misuse(MIXED_LOCKING, this + " called a blocking " + op + " on " + describe(m)
                    + " while " + owner + " holds " + threadState.noContextHeld
                    + " mutex(es) of class " + wwClass.name() + " without a context");
        }
    }

    private void checkOwner(String op) {
        if (Thread.currentThread() != owner) {
            throw notOwner(op);
        }
        if ((flags & CLOSED) != 0) {
            throw misuse(CONTEXT_CLOSED, op + " on closed " + this);
        }
    }

    /** The misuse of a thread that is not this context's owner calling {@code op}. */
    private WwMisuseException notOwner(String op) {
        Object o = OWNER.getVolatile(this);
        String who = Thread.currentThread() + " called " + op + " on " + this;
        if (!transferable) {
            return misuse(FOREIGN_THREAD, who + ", which belongs to " + o);
        } else if (o == PENDING) {
            return misuse(CONCURRENT_USE, who + " while an asynchronous lock of it is pending;"
                    + " use it when that lock's future has completed");
        } else if (o == null) {
            return misuse(FOREIGN_THREAD, who + ", which is detached; attach() it first");
        }
        return misuse(CONCURRENT_USE, who + ", which is attached to " + o + "; one thread at a"
                + " time: detach() it there first");
    }

    /**
     * Checks an asynchronous lock ({@code slow}: lockSlowAsync) of {@code m} and hands the
     * context to it: from the attached thread, or from nobody, to PENDING, with {@code w} as its
     * pending waiter. The rules are those of a lock from a thread, without the blocking ones.
     */
    void enterAsync(WwMutex m, AsyncWaiter w, boolean slow) {
        String op = slow ? "lockSlowAsync" : "lockAsync";
        if (!transferable) {
            throw notTransferable(op + " of " + m.describe());
        }
        boolean wasAttached = owner == Thread.currentThread();
        if (!wasAttached && !OWNER.compareAndSet(this, (Object) null, (Object) Thread.currentThread())) {
            throw notOwner(op);
        }
        try {
            if (slow) {
                checkLockSlow(m);
            } else {
                checkSlowly(m, m.wwClass(), op, false);
            }
        } catch (RuntimeException | Error e) {
            if (!wasAttached) {
                OWNER.setVolatile(this, (Object) null);
            }
            throw e;
        }
        if (wasAttached) {
            forgetLive();
        }
        asyncWaiter = w;
        OWNER.setVolatile(this, PENDING);
    }

    /** The runner of a pending asynchronous lock carries the context until it completes. */
    void carryAsync() {
        owner = Thread.currentThread();
    }

    /** The asynchronous lock has ended: the context is detached before its future completes. */
    void exitAsync() {
        asyncWaiter = null;
        OWNER.setVolatile(this, (Object) null);
    }

    /**
     * Wakes whoever carries this context after a wound, so that it notices: unparks its thread,
     * or schedules its pending asynchronous waiter; a detached context notices at its next lock.
     * Called by a wounder after {@link #wound()}, under the queue bit of a lock this context holds.
     */
    void wakeCarrier() {
        Object carrier = ownerForWound();             // after the wound: see the Overview
        if (carrier instanceof Thread t) {
            if (t != Thread.currentThread()) {
                LockSupport.unpark(t);
            }
        } else if (carrier == PENDING) {
            AsyncWaiter a = asyncWaiter;              // queued elsewhere, asynchronously
            if (a != null) {
                a.schedule();
            }
        }
    }

    /** The owner as a wounder sees it: a Thread to unpark, PENDING, or null. */
    Object ownerForWound() {
        return OWNER.getVolatile(this);
    }

    /** The last thread attached (for a thread-bound context, its owner); for thread dumps. */
    Thread lastCarrier() {
        return lastOwner;
    }

    /** Who carries the context, for messages: the thread, or what it waits for. */
    String carrierName() {
        Object o = owner;
        if (o instanceof Thread t) {
            return t.getName().isEmpty() ? t.toString() : t.getName();
        }
        Thread last = lastOwner;
        String lastName = last.getName().isEmpty() ? last.toString() : last.getName();
        return (o == PENDING ? "async" : "detached") + " (last on " + lastName + ")";
    }

    private WwMisuseException misuse(WwMisuseException.Rule rule, String message) {
        return new WwMisuseException(rule, message);
    }

    // ------------------------------------------------------------ bookkeeping (owner thread)

    /**
     * Prepares a lock: clears a stale wound before the first lock of a round, as the kernel does,
     * and makes room in the held list, so that nothing is allocated once the mutex is acquired.
     */
    void beforeAcquire() {
        if (acquired == 0) {
            wounded = false;
        } else if (acquired == held.length) {
            held = Arrays.copyOf(held, held.length * 2);
        }
    }

    /**
     * Wound-wait: tells whether this context, which holds locks, must back off now. The wounded
     * flag is a hint: the wounder may have left its queue since (timed out, interrupted, backed
     * off, closed), or wounded this context just as it released the mutex. So the owner clears
     * the flag and then looks, in the queue of each mutex it holds, for a context that holds
     * locks and is older; only if one waits there now does it set the flag again, record that
     * waiter's stamp in {@code olderStamp} and back off. A wound delivered after the clear sets
     * the flag again (its wounder queued first), so no wound is lost. Owner thread only, holding
     * no queue bit.
     *
     * @return {@code true} if an older context that holds locks waits for a mutex this one holds
     */
    boolean confirmWound() {
        if (!wounded) {
            return false;
        }
        wounded = false;
        for (int i = 0; i < acquired; i++) {
            Object m = held[i];
            if (m instanceof WwMutex x ? x.hasOlderWaiterHoldingLocks(this)
                    : ((WwSharedMutex) m).hasOlderWaiterHoldingLocks(this)) {
                wounded = true;
                return true;
            }
        }
        return false;
    }

    /**
     * Records that {@code m} (a WwMutex or WwSharedMutex) was acquired; {@link #beforeAcquire()}
     * made room for it.
     */
    void recordAcquired(Object m) {
        if (!transferable) {                          // the checker follows threads
            if (m instanceof WwMutex x) {
                Checker.acquired(x);
            } else {
                Checker.acquired((WwSharedMutex) m);
            }
        }
        held[acquired++] = m;
        acquisitions++;
        if ((flags & CONTENDING) != 0) {
            contending = null;
            flags &= ~CONTENDING;
        }
    }

    /**
     * Records that {@code m} was acquired; then, if injection says so, unlocks it again and throws
     * a back-off.
     */
    void onAcquired(Object m) throws BackoffException {
        onAcquired(m, false);
    }

    /** As {@link #onAcquired(Object)}, for a request that was {@code shared} or not. */
    void onAcquired(Object m, boolean shared) throws BackoffException {
        recordAcquired(m);
        if (injectCountdown != NO_INJECTION && acquired > 1 && injectCountdown-- == 0) {
            int next = injectInterval;
            next = next > Integer.MAX_VALUE / 4 ? Integer.MAX_VALUE - 1 : next * 3 + next / 2;
            injectInterval = next;
            injectCountdown = next;
            unlockHeld(m);
            wwClass.counters.add(Counters.INJECTED, 1);
            throw backoff(m, BackoffException.Reason.INJECTED, stamp, shared);
        }
    }

    /** Records that {@code m} was released. */
    void onReleased(Object m) {
        int i = acquired - 1;
        if (held[i] == m) {                  // the usual case: newest first
            held[i] = null;
            acquired = i;
            return;
        }
        while (held[i] != m) {
            i--;
        }
        System.arraycopy(held, i + 1, held, i, acquired - 1 - i);
        held[--acquired] = null;
    }

    /** Records a back-off on {@code m} and builds the exception to throw. */
    BackoffException backoff(Object m, BackoffException.Reason reason, long olderStamp) {
        return backoff(m, reason, olderStamp, false);
    }

    /** Records a back-off on {@code m} of a request that was shared or not, and builds the exception. */
    BackoffException backoff(Object m, BackoffException.Reason reason, long olderStamp, boolean shared) {
        contending = m;
        flags |= CONTENDING;
        backoffs++;
        wwClass.counters.add(Counters.BACKOFFS, 1);
        if (reason == BackoffException.Reason.WOUNDED) {
            wounded = false;
        }
        WwEvents.backoff(this, m, reason, olderStamp);
        return new BackoffException(m, this, reason, olderStamp, shared);
    }

    /**
     * Polite waiting: tells whether this context, about to wait for a mutex while holding locks,
     * backs off instead, and counts the back-off against its class's bound. Owner only; allocates
     * nothing (mutexes call it under their queue bit).
     */
    boolean backsOffPolitely() {
        if (acquired == 0 || politeLeft == 0) {
            return false;
        }
        politeLeft--;
        olderStamp = stamp;                           // it yields to nobody in particular
        return true;
    }

    boolean woundedAcquire() {
        return wounded;
    }

    /**
     * Wounds this context; called by an older waiter that holds locks, holding the queue bit of
     * a mutex this context holds, after it queued there (see {@link #confirmWound()}).
     *
     * @return {@code true} if this call delivered the wound (it was not wounded before)
     */
    boolean wound() {
        boolean delivered = !wounded;                 // two wounders at once may both count it
        wounded = true;
        return delivered;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AcquireContext#").append(stamp)
                .append("[class=").append(wwClass.name())
                .append(transferable ? ", transferable" : "")
                .append(", owner=").append(carrierName())
                .append(", held=").append(acquired);
        if ((flags & CONTENDING) != 0 && contending != null) {
            sb.append(", contended=").append(describe(contending));
        }
        if (wounded) {
            sb.append(", wounded");
        }
        if ((flags & DONE) != 0) {
            sb.append(", done");
        }
        if ((flags & CLOSED) != 0) {
            sb.append(", closed");
        }
        return sb.append(']').toString();
    }

    // VarHandle mechanics
    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(AcquireContext.class, "owner", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
