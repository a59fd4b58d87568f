package dev.bufsync.ww;

import static dev.bufsync.ww.WwMisuseException.Rule.MIXED_LOCKING;
import static dev.bufsync.ww.WwMisuseException.Rule.RECURSIVE_LOCK;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_FOREIGN;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_NOT_HELD;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.locks.AbstractOwnableSynchronizer;
import java.util.concurrent.locks.LockSupport;

/**
 * A wound/wait mutex: a non-reentrant mutual-exclusion lock that transactions
 * ({@link AcquireContext}s) of one {@link WwClass} can take in any order, and in any number,
 * without deadlock and without starvation. When two transactions conflict, the older one wins and
 * the younger one is told to back off ({@link BackoffException}); it keeps its stamp, so it wins
 * eventually. The first lock of a transaction never backs off, nor does
 * {@link #lockSlow(AcquireContext)}, which blocks on the contended mutex after a back-off.
 *
 * <p>Locking with a context has three outcomes, kept distinct: acquired
 * ({@link LockResult#ACQUIRED}), already held by this context ({@link LockResult#ALREADY_HELD},
 * the kernel's {@code -EALREADY}), and must back off ({@link BackoffException}, the kernel's
 * {@code -EDEADLK}). Timed and non-blocking forms add {@link LockResult#TIMED_OUT} and
 * {@link LockResult#BUSY}. See {@link AcquireContext} for the retry idiom; {@code
 * dev.bufsync.exec.Exec} runs it for you.
 *
 * <p>Without a context a {@code WwMutex} is a plain mutex: {@link #lock()}, {@link #tryLock()},
 * {@link #unlock()}. A thread may hold one such lock of a class while it takes no other lock of
 * that class blocking; anything else could deadlock undetected and is reported as a misuse.
 *
 * <p><b>Fairness.</b> Waiters queue in stamp order, oldest first; waiters without a context keep
 * their arrival (FIFO) order among them. An unlock frees the mutex and wakes the first waiter; a
 * running thread may take it before the waiter runs (barging keeps the mutex busy instead of
 * idle for a context switch), but only once: the waiter is then marked, and the next unlock hands
 * the mutex directly to it. No waiter is starved by barging, and queued waiters never overtake
 * each other.
 *
 * <p><b>Diagnostics.</b> A held mutex records its owner thread as an
 * {@link AbstractOwnableSynchronizer}, and waiters park with the mutex as blocker, so thread dumps
 * and {@code java.lang.management.ThreadMXBean} show who holds it and who waits for it (for
 * platform threads). {@link #toString()} shows the class, the holder and the waiters.
 *
 * <p><b>Virtual threads.</b> Waiting parks with {@link LockSupport}; no monitor is ever held.
 *
 * <p><b>Implementation notes.</b> An unlocked mutex without waiters is 32 bytes with compressed
 * pointers. Misuse checks are always on; they cost a few comparisons on the uncontended path.
 */
public final class WwMutex extends AbstractOwnableSynchronizer {
    /*
     * Overview.
     *
     * The lock word is `holder`: null when free, else the holding AcquireContext, or the holding
     * Thread for a lock taken without a context. Taking a free mutex is one CAS on it (the fast
     * path); releasing it without waiters is one volatile store.
     *
     * Waiters live in a circular doubly-linked list (head.prev is the tail) guarded by the queue
     * lock, a spin bit (QLOCKED) in `state`, held only for a few list operations and never across
     * a park. The WAITERS bit in `state` says the list is non-empty; it is changed only by the
     * queue-lock holder.
     *
     * Queue order (the kernel's wait-list invariants):
     *  1. Waiters with a context are sorted by stamp, oldest first. Waiters without a context are
     *     appended at the tail and skipped by the sort, so they keep FIFO order among themselves.
     *  2. Wait-die: among waiters with a context only the first may hold other locks; a younger
     *     one that holds locks dies instead of queueing behind an older one, and an older one that
     *     queues ahead of younger lock-holders wakes them so that they die.
     *
     * Bounded barging (the kernel mutex's lock stealing with its HANDOFF flag). Unlock, seeing
     * WAITERS, takes the queue lock and looks at the first waiter. Normally it frees the mutex and
     * wakes that waiter (`freed`), which takes it with a CAS under the queue lock; a running
     * thread that arrives meanwhile may take it first with the fast path's CAS (and its [A]
     * check of the waiters), which keeps a mutex busy while the woken thread is still being
     * scheduled. A woken first waiter that finds the mutex taken marks itself `handoff`, and the
     * next unlock hands the mutex to it: it stores the waiter's context (or thread) into
     * `holder`, unlinks it and sets `granted` before unparking it, and the waiter owns the mutex
     * without a CAS. So a first waiter is overtaken at most once. Who waits in which order, and
     * every wound and death, is decided by the queue as before; barging changes only whether the
     * mutex idles while a woken waiter is scheduled.
     *
     * Liveness: whenever the mutex is free while the list is non-empty, the first waiter has been
     * woken to take it (release), or is granted it by whoever finds it free under the queue lock
     * (an enqueuing waiter, a waiter that gives up, the [W]/[R] race below).
     *
     * The one race (the kernel's, solved the kernel's way): a waiter announces itself by setting
     * WAITERS [W] and then reads `holder`; a releaser stores null into `holder` and then reads
     * WAITERS [R]; a fast-path acquirer CASes `holder` and then reads WAITERS [A]. All of these
     * are volatile accesses, so of each pair at least one side sees the other's write:
     *  - [W] vs [R]: either the waiter sees holder == null and grants the mutex to the first
     *    waiter itself, or the releaser sees WAITERS and does (grantHead, CAS null -> first).
     *  - [W] vs [A]: either the waiter sees the new holder's context and wounds it (wound-wait),
     *    or the acquirer sees WAITERS and checks the waiters itself (checkWaiters), as a context
     *    that acquires a mutex with waiters always does.
     *
     * Spinning: before queueing, a thread spins briefly (SPINS iterations) for the holder to
     * release, but only while nobody is queued and only when queueing would merely wait (it must
     * not delay a wound or a death: see spinAcquire); taking the mutex there is the fast path's
     * CAS with its [A] check. The first waiter also spins briefly before parking, so that a
     * hand-off to it needs no wake-up, and while it spins the granter skips the unpark ([S]/[G]).
     * Spinning never changes who gets the mutex, only how a thread waits for it.
     *
     * Wound-wait: a waiter that holds locks and is older than the holder sets the holder's
     * wounded flag and unparks its thread; the holder backs off at its next contended lock (or at
     * once, if it is queued on another mutex). Wait-die: a waiter that holds locks and is younger
     * than the holder, or than any context waiter ahead of it, backs off instead of waiting.
     * Neither ever asks a context that holds nothing to back off, so the first lock of a
     * transaction, and lockSlow, cannot fail; the oldest live context is never asked either.
     *
     * Memory: holder and state are volatile (VarHandles HOLDER and STATE for CAS); head and the
     * Waiter links are guarded by the queue lock; Waiter.granted is a volatile written by the
     * granter after it has set holder and the owner thread, so a granted waiter sees the mutex as
     * its own and everything the previous holder did before unlocking.
     */

    private static final int SPINS = 256;   // spin iterations before queueing, and before parking
    private static final int QLOCKED = 1;   // the queue lock (spin bit)
    private static final int WAITERS = 2;   // the wait list is non-empty

    // acquireQueued outcomes
    static final int ACQUIRED = 0, TIMED_OUT = 1, INTERRUPTED = 2, DIED = 3, WOUNDED = 4;
    // acquireQueued modes
    private static final int INTERRUPTIBLE = 1, TIMED = 2;

    /** The class whose contexts may lock this mutex. */
    private final WwClass wwClass;
    /** The holder: null, an AcquireContext or a Thread; CAS from null, else holder/granter writes. */
    private volatile Object holder;
    /** QLOCKED | WAITERS; CAS to take QLOCKED, then only its holder writes. */
    private volatile int state;
    /** The first queued waiter; guarded by the queue lock. */
    private Waiter head;

    /** A queued thread. Links are guarded by the queue lock. */
    static final class Waiter {
        final Thread thread;
        final AcquireContext ctx;           // null for a waiter without a context
        Waiter prev, next;                  // guarded by the queue lock
        volatile boolean granted;           // set once by the granter, after holder is set
        volatile boolean recheck;           // set under the queue lock by a thread that wakes it to look again;
                                            // cleared by the waiter under the queue lock
        volatile boolean spinning;          // written by its own thread: true while it spins instead of
                                            // parking; [S] pairs with [G] in handOver and [F] in wakeToTake
        volatile boolean freed;             // set under the queue lock by a releaser that freed the mutex
                                            // for this first waiter to take; cleared by the waiter under it
        boolean handoff;                    // guarded by the queue lock: overtaken once, so the next
                                            // release hands the mutex to it

        Waiter(Thread thread, AcquireContext ctx) {
            this.thread = thread;
            this.ctx = ctx;
        }
    }

    /**
     * Creates an unlocked mutex of a class.
     *
     * @param wwClass the class whose contexts may lock it
     */
    public WwMutex(WwClass wwClass) {
        if (wwClass == null) {
            throw new NullPointerException("wwClass");
        }
        this.wwClass = wwClass;
    }

    /**
     * The class of this mutex.
     *
     * @return the class
     */
    public WwClass wwClass() {
        return wwClass;
    }

    // ------------------------------------------------------------ locking with a context

    /**
     * Locks this mutex for a transaction, waiting uninterruptibly if another holds it.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, or {@link LockResult#ALREADY_HELD} if {@code ctx}
     *     already held it (nothing changed)
     * @throws BackoffException if {@code ctx} must back off: it holds other locks and lost the
     *     conflict, or injection is on. {@code ctx} does not hold this mutex then.
     * @throws WwMisuseException if the call breaks a rule (see {@link WwMisuseException.Rule})
     */
    public LockResult lock(AcquireContext ctx) throws BackoffException {
        ctx.checkLock(this);
        if (holder == ctx) {
            return LockResult.ALREADY_HELD;
        }
        int r = acquire(ctx, 0, 0L);
        if (r != ACQUIRED) {
            throw backoff(ctx, r);
        }
        ctx.onAcquired(this);
        return LockResult.ACQUIRED;
    }

    /**
     * Locks this mutex for a transaction like {@link #lock(AcquireContext)}, but gives up if the
     * thread is interrupted while waiting (or was interrupted before the call).
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED} or {@link LockResult#ALREADY_HELD}
     * @throws BackoffException if {@code ctx} must back off
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult lockInterruptibly(AcquireContext ctx)
            throws BackoffException, InterruptedException {
        ctx.checkLock(this);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (holder == ctx) {
            return LockResult.ALREADY_HELD;
        }
        int r = acquire(ctx, INTERRUPTIBLE, 0L);
        if (r == INTERRUPTED) {
            throw new InterruptedException();
        } else if (r != ACQUIRED) {
            throw backoff(ctx, r);
        }
        ctx.onAcquired(this);
        return LockResult.ACQUIRED;
    }

    /**
     * Locks this mutex for a transaction, waiting at most {@code timeout}; a zero timeout polls.
     * Interruptible.
     *
     * @param ctx the transaction
     * @param timeout how long to wait at most; not negative
     * @return {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD}, or
     *     {@link LockResult#TIMED_OUT} (nothing acquired)
     * @throws BackoffException if {@code ctx} must back off
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult tryLock(AcquireContext ctx, Duration timeout)
            throws BackoffException, InterruptedException {
        long nanos = toNanos(timeout);
        ctx.checkTryLock(this);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (holder == ctx) {
            return LockResult.ALREADY_HELD;
        }
        int r;
        if (nanos == 0L) {                            // poll: the fast path only
            ctx.resetWoundIfIdle();
            r = tryAcquireFree(ctx, ctx.owner()) ? ACQUIRED : TIMED_OUT;
        } else {
            r = acquire(ctx, INTERRUPTIBLE | TIMED, System.nanoTime() + nanos);
        }
        if (r == TIMED_OUT) {
            return LockResult.TIMED_OUT;
        } else if (r == INTERRUPTED) {
            throw new InterruptedException();
        } else if (r != ACQUIRED) {
            throw backoff(ctx, r);
        }
        ctx.onAcquired(this);
        return LockResult.ACQUIRED;
    }

    /**
     * Locks this mutex for a transaction only if it is free now; never waits and never backs off
     * (the kernel's {@code ww_mutex_trylock} with a context).
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD}, or
     *     {@link LockResult#BUSY} if another holds it
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult tryLock(AcquireContext ctx) {
        ctx.checkTryLock(this);
        Object h = holder;
        if (h == ctx) {
            return LockResult.ALREADY_HELD;
        }
        if (h != null) {
            return LockResult.BUSY;
        }
        ctx.resetWoundIfIdle();
        if (!tryAcquireFree(ctx, ctx.owner())) {
            return LockResult.BUSY;
        }
        ctx.recordAcquired(this);
        return LockResult.ACQUIRED;
    }

    /**
     * After a back-off on this mutex, with every other lock released, blocks until {@code ctx}
     * holds it. It cannot be asked to back off, because the context holds nothing.
     *
     * @param ctx the transaction that backed off on this mutex
     * @throws WwMisuseException ({@link WwMisuseException.Rule#SLOW_WITHOUT_BACKOFF}) without a
     *     preceding back-off, ({@link WwMisuseException.Rule#WRONG_MUTEX_AFTER_BACKOFF}) if the
     *     back-off was on another mutex, ({@link WwMisuseException.Rule#LOCKS_HELD_AFTER_BACKOFF})
     *     if the context still holds locks
     */
    public void lockSlow(AcquireContext ctx) {
        ctx.checkLockSlow(this);
        int r = acquire(ctx, 0, 0L);
        assert r == ACQUIRED : r;
        ctx.recordAcquired(this);
    }

    /**
     * Like {@link #lockSlow(AcquireContext)}, but gives up if the thread is interrupted. The
     * context stays in its backed-off state, so the call can be repeated.
     *
     * @param ctx the transaction that backed off on this mutex
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException as for {@link #lockSlow(AcquireContext)}
     */
    public void lockSlowInterruptibly(AcquireContext ctx) throws InterruptedException {
        ctx.checkLockSlow(this);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (acquire(ctx, INTERRUPTIBLE, 0L) == INTERRUPTED) {
            throw new InterruptedException();
        }
        ctx.recordAcquired(this);
    }

    // ------------------------------------------------------------ locking without a context

    /**
     * Locks this mutex without a context, as a plain mutex, waiting uninterruptibly. Waiters
     * without a context are served in arrival order among themselves.
     *
     * @throws WwMisuseException ({@link WwMisuseException.Rule#RECURSIVE_LOCK}) if the thread
     *     holds it already, ({@link WwMisuseException.Rule#MIXED_LOCKING}) if the thread holds
     *     another mutex of the class, with or without a context
     */
    public void lock() {
        WwClass.ThreadState ts = checkBlockingNoContext();
        if (!tryAcquireFree(null, Thread.currentThread())) {
            acquireQueued(null, 0, 0L);
        }
        ts.noContextHeld++;
        wwClass.acquisitions.increment();
    }

    /**
     * Locks this mutex without a context, giving up if the thread is interrupted.
     *
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException as for {@link #lock()}
     */
    public void lockInterruptibly() throws InterruptedException {
        WwClass.ThreadState ts = checkBlockingNoContext();
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (!tryAcquireFree(null, Thread.currentThread())
                && acquireQueued(null, INTERRUPTIBLE, 0L) == INTERRUPTED) {
            throw new InterruptedException();
        }
        ts.noContextHeld++;
        wwClass.acquisitions.increment();
    }

    /**
     * Locks this mutex without a context only if it is free now.
     *
     * @return {@code true} if acquired; {@code false} if anyone, this thread included, holds it
     */
    public boolean tryLock() {
        if (holder != null || !tryAcquireFree(null, Thread.currentThread())) {
            return false;
        }
        wwClass.threadState().noContextHeld++;
        wwClass.acquisitions.increment();
        return true;
    }

    /**
     * Locks this mutex without a context, waiting at most {@code timeout}; interruptible. A timed
     * wait cannot deadlock forever, so it is allowed while the thread holds other mutexes of the
     * class.
     *
     * @param timeout how long to wait at most; not negative
     * @return {@code true} if acquired; {@code false} if the time ran out or this thread holds it
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        long nanos = toNanos(timeout);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Thread me = Thread.currentThread();
        Object h = holder;
        if (h == me) {
            return false;
        }
        if (!tryAcquireFree(null, me)) {
            if (nanos == 0L) {
                return false;
            }
            int r = acquireQueued(null, INTERRUPTIBLE | TIMED, System.nanoTime() + nanos);
            if (r == INTERRUPTED) {
                throw new InterruptedException();
            } else if (r == TIMED_OUT) {
                return false;
            }
        }
        wwClass.threadState().noContextHeld++;
        wwClass.acquisitions.increment();
        return true;
    }

    private WwClass.ThreadState checkBlockingNoContext() {
        Thread me = Thread.currentThread();
        if (holder == me) {
            throw new WwMisuseException(RECURSIVE_LOCK, me + " called lock() on " + describe()
                    + ", which it already holds; a WwMutex is not reentrant");
        }
        WwClass.ThreadState ts = wwClass.threadState();
        if (ts.noContextHeld != 0 || (ts.live != null && ts.live.acquired > 0)) {
            throw new WwMisuseException(MIXED_LOCKING, me + " called a blocking lock() without a"
                    + " context on " + describe() + " while holding other mutexes of class "
                    + wwClass.name() + (ts.live != null && ts.live.acquired > 0
                            ? " through " + ts.live : " without a context")
                    + "; this can deadlock undetected, lock them all with one context instead");
        }
        return ts;
    }

    // ------------------------------------------------------------ unlocking and queries

    /**
     * Unlocks this mutex, whether it was locked with a context or without one. If threads wait,
     * the mutex passes directly to the first of them.
     *
     * @throws WwMisuseException ({@link WwMisuseException.Rule#UNLOCK_NOT_HELD}) if nobody holds
     *     it, ({@link WwMisuseException.Rule#UNLOCK_FOREIGN}) if another thread or another thread's
     *     context holds it
     */
    public void unlock() {
        Object h = holder;
        Thread me = Thread.currentThread();
        if (h instanceof AcquireContext c) {
            if (c.owner() != me) {
                throw new WwMisuseException(UNLOCK_FOREIGN, me + " called unlock() on "
                        + describe() + ", which is held by " + c);
            }
            c.onReleased(this);
        } else if (h == me) {
            wwClass.threadState().noContextHeld--;
        } else if (h == null) {
            throw new WwMisuseException(UNLOCK_NOT_HELD, me + " called unlock() on "
                    + describe() + ", which is not locked");
        } else {
            throw new WwMisuseException(UNLOCK_FOREIGN, me + " called unlock() on " + describe()
                    + ", which is held by " + h);
        }
        release();
    }

    /**
     * Tells whether anyone holds this mutex. A snapshot, for monitoring.
     *
     * @return {@code true} if locked
     */
    public boolean isLocked() {
        return holder != null;
    }

    /**
     * Tells whether {@code ctx} holds this mutex.
     *
     * @param ctx a context
     * @return {@code true} if {@code ctx} holds it
     */
    public boolean isHeldBy(AcquireContext ctx) {
        return ctx != null && holder == ctx;
    }

    /**
     * Tells whether the current thread holds this mutex, with or without a context.
     *
     * @return {@code true} if the current thread holds it
     */
    public boolean isHeldByCurrentThread() {
        Object h = holder;
        Thread me = Thread.currentThread();
        return h == me || (h instanceof AcquireContext c && c.owner() == me);
    }

    /**
     * The context holding this mutex, or {@code null} if it is free or held without a context. A
     * snapshot, for monitoring (the kernel's {@code dma_resv_locking_ctx}).
     *
     * @return the holding context, or {@code null}
     */
    public AcquireContext holderContext() {
        return holder instanceof AcquireContext c ? c : null;
    }

    /**
     * The thread holding this mutex, or {@code null} if it is free. A snapshot, for monitoring.
     *
     * @return the owner thread, or {@code null}
     */
    public Thread owner() {
        Object h = holder;
        return h instanceof AcquireContext c ? c.owner() : (Thread) h;
    }

    /**
     * The number of threads queued for this mutex. A snapshot, for monitoring.
     *
     * @return the number of waiters
     */
    public int waiterCount() {
        lockQueue();
        try {
            int n = 0;
            for (Waiter w = head; w != null; w = next(w)) {
                n++;
            }
            return n;
        } finally {
            unlockQueue();
        }
    }

    /** A short name for messages: identity and class. */
    String describe() {
        return "WwMutex@" + Integer.toHexString(System.identityHashCode(this)) + "(" + wwClass.name()
                + ")";
    }

    /**
     * Describes the mutex: class, holder (context stamp and thread, or thread) and waiters in queue
     * order; a waiter that was overtaken once, and gets the mutex at the next unlock, is marked
     * "(hand-off)".
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(describe()).append('[');
        lockQueue();
        try {
            Object h = holder;
            if (h == null) {
                sb.append("unlocked");
            } else if (h instanceof AcquireContext c) {
                sb.append("held by context #").append(c.stamp()).append(" on ")
                        .append(c.owner().getName());
            } else {
                sb.append("held by ").append(((Thread) h).getName()).append(" without a context");
            }
            if (head != null) {
                sb.append(", waiters=[");
                for (Waiter w = head; w != null; w = next(w)) {
                    if (w != head) {
                        sb.append(", ");
                    }
                    sb.append(w.ctx != null ? "#" + w.ctx.stamp() + " on " : "")
                            .append(w.thread.getName()).append(w.handoff ? " (hand-off)" : "");
                }
                sb.append(']');
            }
        } finally {
            unlockQueue();
        }
        return sb.append(']').toString();
    }

    // ------------------------------------------------------------ the algorithm

    /** With a context: the fast path, else queue and wait. Returns an acquireQueued outcome. */
    private int acquire(AcquireContext ctx, int mode, long deadline) {
        ctx.resetWoundIfIdle();
        return tryAcquireFree(ctx, ctx.owner()) ? ACQUIRED : acquireQueued(ctx, mode, deadline);
    }

    /**
     * The fast path: takes the mutex if it is free with one CAS, records the owner and, if
     * threads wait, lets a context check them [A].
     *
     * @return {@code true} if the caller now holds the mutex
     */
    private boolean tryAcquireFree(AcquireContext ctx, Thread me) {
        if (!HOLDER.compareAndSet(this, null, owned(ctx, me))) {
            return false;
        }
        setExclusiveOwnerThread(me);
        if (ctx != null && (state & WAITERS) != 0) {   // [A] pairs with [W] in acquireQueued
            lockQueue();
            checkWaiters(ctx);
            unlockQueue();
        }
        return true;
    }

    /**
     * Queues the current thread and waits until the mutex is handed to it, or a kill check, the
     * deadline or an interrupt ends the wait. On any outcome but ACQUIRED the thread is no longer
     * queued and holds nothing new.
     */
    private int acquireQueued(AcquireContext ctx, int mode, long deadline) {
        final Thread me = Thread.currentThread();
        if (spinAcquire(ctx, me)) {
            return ACQUIRED;
        }
        lockQueue();
        if (head == null && holder == null && HOLDER.compareAndSet(this, null, owned(ctx, me))) {
            setExclusiveOwnerThread(me);
            unlockQueue();
            return ACQUIRED;
        }
        if (ctx != null && ctx.acquired > 0) {
            int kill = killBeforeQueue(ctx);
            if (kill != ACQUIRED) {
                unlockQueue();
                return kill;
            }
        }
        Waiter w = new Waiter(me, ctx);
        enqueue(w);
        STATE.setVolatile(this, state | WAITERS);     // [W] pairs with [R] in release, [A] above
        Object h = holder;
        if (h == null) {
            grantHead();
        } else if (ctx != null && !wwClass.isWaitDie() && h instanceof AcquireContext hc) {
            woundIfYounger(hc, ctx);
        }
        wwClass.contended.increment();
        final long start = System.nanoTime();
        boolean interrupted = false;
        int result;
        boolean spin = head == w;                     // only the first waiter spins before parking
        for (;;) {                                    // the queue lock is held here
            if (w.granted) {
                unlockQueue();
                result = ACQUIRED;
                break;
            }
            w.recheck = false;
            boolean freed = w.freed;
            w.freed = false;
            result = ctx != null && ctx.acquired > 0 ? killQueued(ctx, w) : ACQUIRED;
            if (result == ACQUIRED && (mode & TIMED) != 0 && deadline - System.nanoTime() <= 0L) {
                result = TIMED_OUT;
            }
            if (result == ACQUIRED && (mode & INTERRUPTIBLE) != 0 && Thread.interrupted()) {
                result = INTERRUPTED;
            }
            if (result != ACQUIRED) {
                dequeue(w);
                unlockQueue();
                break;
            }
            if (head == w && holder == null && HOLDER.compareAndSet(this, null, owned(ctx, me))) {
                admit(w);
                unlockQueue();
                break;
            }
            if (freed) {
                w.handoff = true;                     // overtaken once: the next release hands over,
                spin = head == w;                     // likely soon: spin for it before parking
            }
            if (spin) {
                w.spinning = true;                    // before the queue lock is released: a
            }                                         // hand-off from then on needs no unpark
            unlockQueue();
            if (spin) {
                spin = false;
                if (spinUntilGranted(w, ctx, mode, deadline)) {
                    result = ACQUIRED;
                    break;
                }
            }
            while (!w.granted && !mustLook(w, ctx, mode, deadline)) {
                // park until granted or a reason to look
                if ((mode & TIMED) != 0) {
                    LockSupport.parkNanos(this, deadline - System.nanoTime());
                } else {
                    LockSupport.park(this);
                }
                if ((mode & INTERRUPTIBLE) == 0 && Thread.interrupted()) {
                    interrupted = true;
                }
            }
            if (w.granted) {
                result = ACQUIRED;
                break;
            }
            lockQueue();
        }
        wwClass.waitNanos.add(System.nanoTime() - start);
        if (interrupted) {
            me.interrupt();
        }
        return result;
    }

    /**
     * Optimistic spinning before queueing (after the kernel's mutex_optimistic_spin): while nobody
     * is queued and the caller would only wait anyway, spin briefly for the holder to release, so
     * that a short critical section costs no park and unpark. The caller would only wait when it
     * has no context or holds nothing (its first lock cannot back off), or when the holder is a
     * plain thread, or (wound-wait) the holder is older, or (wait-die) the holder is younger; in
     * every other case it must wound or die now, and goes straight to the queue. A waiter that
     * appears, or a wound, ends the spin. Taking the mutex here is the fast path's CAS, with its
     * check of the waiters [A], so it cannot overtake a queued waiter.
     *
     * @return {@code true} if the caller now holds the mutex
     */
    private boolean spinAcquire(AcquireContext ctx, Thread me) {
        for (int i = 0; i < SPINS; i++) {
            if ((state & WAITERS) != 0) {
                return false;
            }
            Object h = holder;
            if (h == null) {
                if (tryAcquireFree(ctx, me)) {
                    return true;
                }
            } else if (ctx != null && ctx.acquired > 0 && !waitsFor(ctx, h)) {
                return false;
            }
            Thread.onSpinWait();
        }
        return false;
    }

    /**
     * Tells whether {@code ctx}, which holds locks, would simply wait for holder {@code h}: no
     * wound pending, and neither a wound to deliver (wound-wait) nor a death to die (wait-die).
     */
    private boolean waitsFor(AcquireContext ctx, Object h) {
        if (!(h instanceof AcquireContext hc)) {
            return true;
        }
        if (wwClass.isWaitDie()) {
            return !WwClass.isOlder(hc.stamp(), ctx.stamp());
        }
        return !ctx.woundedAcquire() && WwClass.isOlder(hc.stamp(), ctx.stamp());
    }

    /**
     * The first waiter spins briefly before parking: a holder with a short critical section then
     * hands the mutex to a running thread, which sees {@code granted} without a wake-up, and the
     * granter, seeing {@code spinning}, skips the unpark. The waiter clears {@code spinning} [S]
     * before its last look at {@code granted}; the granter sets {@code granted} before it reads
     * {@code spinning} [G]. Both are volatile, so either the waiter sees the grant or the granter
     * sees that it must unpark.
     *
     * @return {@code true} if granted while spinning; {@code false} to park (or to look again)
     */
    private static boolean spinUntilGranted(Waiter w, AcquireContext ctx, int mode, long deadline) {
        for (int i = 0; i < SPINS && !w.granted && !mustLook(w, ctx, mode, deadline); i++) {
            Thread.onSpinWait();
        }
        w.spinning = false;                           // [S] pairs with [G] in handOver
        return w.granted;
    }

    /**
     * Tells a parked waiter whether something may have changed its fate: its releaser freed the
     * mutex for it to take, another thread asked it to look again (wait-die), its context was
     * wounded, it was interrupted or its time ran out.
     * Without one of these it parks again without taking the queue lock, so spurious wake-ups
     * cost nothing and cannot starve the threads that need the lock.
     */
    private static boolean mustLook(Waiter w, AcquireContext ctx, int mode, long deadline) {
        return w.recheck || w.freed
                || (ctx != null && ctx.acquired > 0 && ctx.woundedAcquire())
                || ((mode & INTERRUPTIBLE) != 0 && Thread.currentThread().isInterrupted())
                || ((mode & TIMED) != 0 && deadline - System.nanoTime() <= 0L);
    }

    /** Wakes a queued waiter so that it re-runs its kill check. Queue lock held. */
    private static void askToLook(Waiter w) {
        w.recheck = true;
        LockSupport.unpark(w.thread);
    }

    /** A context that holds locks checks whether it must back off before it queues. */
    private int killBeforeQueue(AcquireContext ctx) {
        if (!wwClass.isWaitDie()) {
            return ctx.woundedAcquire() ? WOUNDED : ACQUIRED;
        }
        if (holder instanceof AcquireContext hc && WwClass.isOlder(hc.stamp(), ctx.stamp())) {
            ctx.olderStamp = hc.stamp();
            return DIED;
        }
        for (Waiter c = head; c != null; c = next(c)) {
            if (c.ctx != null && WwClass.isOlder(c.ctx.stamp(), ctx.stamp())) {
                ctx.olderStamp = c.ctx.stamp();
                return DIED;
            }
        }
        return ACQUIRED;
    }

    /** A queued context that holds locks checks whether it must back off (the kernel's check_kill). */
    private int killQueued(AcquireContext ctx, Waiter w) {
        if (!wwClass.isWaitDie()) {
            return ctx.woundedAcquire() ? WOUNDED : ACQUIRED;
        }
        if (holder instanceof AcquireContext hc && WwClass.isOlder(hc.stamp(), ctx.stamp())) {
            ctx.olderStamp = hc.stamp();
            return DIED;
        }
        for (Waiter c = head; c != w; c = c.next) {
            if (c.ctx != null) {                     // every context waiter ahead is older
                ctx.olderStamp = c.ctx.stamp();
                return DIED;
            }
        }
        return ACQUIRED;
    }

    /**
     * Inserts {@code w}: a waiter without a context at the tail; one with a context after the last
     * older context waiter, walking back from the tail over younger ones (wait-die wakes those
     * that hold locks, so that they die).
     */
    private void enqueue(Waiter w) {
        Waiter pos = null;                            // insert before pos; null means at the tail
        if (w.ctx != null && head != null) {
            long stamp = w.ctx.stamp();
            boolean waitDie = wwClass.isWaitDie();
            for (Waiter c = head.prev; ; c = c.prev) {
                if (c.ctx != null) {
                    if (WwClass.isOlder(c.ctx.stamp(), stamp)) {
                        break;
                    }
                    pos = c;
                    if (waitDie && c.ctx.acquired > 0) {
                        askToLook(c);                  // it must die now that an older one is ahead
                    }
                }
                if (c == head) {
                    break;
                }
            }
        }
        if (head == null) {
            head = w;
            w.next = w.prev = w;
            return;
        }
        Waiter before = pos != null ? pos : head;
        w.next = before;
        w.prev = before.prev;
        before.prev.next = w;
        before.prev = w;
        if (pos == head) {
            head = w;
        }
    }

    /** Unlinks {@code w}; clears WAITERS when the list empties. Queue lock held. */
    private void unlink(Waiter w) {
        if (w.next == w) {
            head = null;
            STATE.setOpaque(this, state & ~WAITERS);
        } else {
            w.prev.next = w.next;
            w.next.prev = w.prev;
            if (head == w) {
                head = w.next;
            }
        }
        w.next = w.prev = null;
    }

    /** A waiter gives up: unlinks it and, if the mutex is free, grants it to the next. Queue lock held. */
    private void dequeue(Waiter w) {
        unlink(w);
        if (head != null && holder == null) {
            grantHead();                             // never leave waiters behind a free mutex
        }
    }

    /** The next waiter after {@code w} in queue order, or null at the tail. Queue lock held. */
    private Waiter next(Waiter w) {
        Waiter n = w.next;
        return n == head ? null : n;
    }

    /** Hands a free mutex to the first waiter, unless a barger took it first. Queue lock held. */
    private void grantHead() {
        Waiter g = head;
        if (g != null && HOLDER.compareAndSet(this, null, owned(g.ctx, g.thread))) {
            handOver(g);
        }
    }

    /**
     * Waiter {@code w} has become the holder, by its own CAS or a granter's: unlink it, record
     * the owner and let its context check the other waiters. Queue lock held.
     */
    private void admit(Waiter w) {
        unlink(w);
        setExclusiveOwnerThread(w.thread);
        if (w.ctx != null) {
            checkWaiters(w.ctx);
        }
    }

    /**
     * Completes the hand-off to {@code g}, whose context or thread is already in {@code holder}:
     * admit it, publish {@code granted} and unpark it. Queue lock held.
     */
    private void handOver(Waiter g) {
        admit(g);
        g.granted = true;                            // [G] pairs with [S] in spinUntilGranted
        if (g.thread != Thread.currentThread() && !g.spinning) {
            LockSupport.unpark(g.thread);
        }
    }

    /**
     * A context has just acquired the mutex while others wait: wound-wait lets an older waiter
     * that holds locks wound it; wait-die wakes the first context waiter if it holds locks and is
     * younger, so that it dies (the kernel's check_waiters). Queue lock held.
     */
    private void checkWaiters(AcquireContext holderCtx) {
        boolean waitDie = wwClass.isWaitDie();
        for (Waiter c = head; c != null; c = next(c)) {
            if (c.ctx == null) {
                continue;
            }
            if (waitDie) {
                if (c.ctx.acquired > 0 && WwClass.isOlder(holderCtx.stamp(), c.ctx.stamp())) {
                    askToLook(c);
                }
                return;
            }
            if (woundIfYounger(holderCtx, c.ctx)) {
                return;
            }
        }
    }

    /**
     * Wound-wait: if {@code waiter} holds locks and is older than {@code holderCtx}, wound the
     * holder and wake its thread, so that it backs off at its next contended lock, or now if it is
     * queued elsewhere. Queue lock held.
     *
     * @return {@code true} if the holder was wounded
     */
    private boolean woundIfYounger(AcquireContext holderCtx, AcquireContext waiter) {
        if (waiter.acquired == 0 || !WwClass.isOlder(waiter.stamp(), holderCtx.stamp())) {
            return false;
        }
        if (holderCtx.wound(waiter)) {
            wwClass.wounds.increment();
        }
        if (holderCtx.owner() != Thread.currentThread()) {
            LockSupport.unpark(holderCtx.owner());
        }
        return true;
    }

    /** Releases the mutex: free it [R], or hand it to the first waiter. */
    private void release() {
        setExclusiveOwnerThread(null);
        if ((state & WAITERS) == 0) {
            holder = null;
            if ((state & WAITERS) == 0) {        // [R] pairs with [W] in acquireQueued
                return;
            }
            lockQueue();
            if (holder == null) {
                grantHead();
            }
            unlockQueue();
            return;
        }
        lockQueue();
        Waiter g = head;
        if (g == null) {
            holder = null;                        // the waiters gave up meanwhile
        } else if (g.handoff) {
            holder = owned(g.ctx, g.thread);
            handOver(g);
        } else {
            holder = null;                        // a running thread may take it before g does, once
            wakeToTake(g);
        }
        unlockQueue();
    }

    /**
     * Wakes the first waiter to take the mutex that its releaser has just freed. Skips the unpark
     * while it spins: it sets {@code freed} [F] before it reads {@code spinning}, and the waiter
     * clears {@code spinning} [S] before its last look. Queue lock held.
     */
    private static void wakeToTake(Waiter g) {
        g.freed = true;                           // [F] pairs with [S] in spinUntilGranted
        if (!g.spinning) {
            LockSupport.unpark(g.thread);
        }
    }

    private BackoffException backoff(AcquireContext ctx, int killed) {
        return killed == WOUNDED
                ? ctx.backoff(this, BackoffException.Reason.WOUNDED, ctx.woundedBy())
                : ctx.backoff(this, BackoffException.Reason.DIED, ctx.olderStamp);
    }

    private static Object owned(AcquireContext ctx, Thread thread) {
        return ctx != null ? ctx : thread;
    }

    private static long toNanos(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout);
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    // ------------------------------------------------------------ the queue lock

    private void lockQueue() {
        int s = state;
        if ((s & QLOCKED) != 0 || !STATE.compareAndSet(this, s, s | QLOCKED)) {
            lockQueueContended();
        }
    }

    private void lockQueueContended() {
        for (int spins = 0; ; spins++) {
            int s = state;
            if ((s & QLOCKED) == 0) {
                if (STATE.compareAndSet(this, s, s | QLOCKED)) {
                    return;
                }
            } else if (spins < 100) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    private void unlockQueue() {
        STATE.setRelease(this, state & ~QLOCKED);
    }

    // VarHandle mechanics
    private static final VarHandle HOLDER;
    private static final VarHandle STATE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HOLDER = l.findVarHandle(WwMutex.class, "holder", Object.class);
            STATE = l.findVarHandle(WwMutex.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        Class<?> ensureLoaded = LockSupport.class; // avoid class loading in the first park
    }
}
