package dev.bufsync.ww;

import dev.bufsync.check.Checker;
import static dev.bufsync.ww.WwMisuseException.Rule.MIXED_LOCKING;
import static dev.bufsync.ww.WwMisuseException.Rule.RECURSIVE_LOCK;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_FOREIGN;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_NOT_HELD;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
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
 * idle for a context switch), but only once per wait of that first waiter: the next unlock hands
 * the mutex directly to it, however long it takes to be scheduled. No waiter is starved by
 * barging, and queued waiters never overtake each other.
 *
 * <p><b>Diagnostics.</b> While threads wait for a mutex, it records its holder's thread as an
 * {@link AbstractOwnableSynchronizer} owner, and waiters park with the mutex as blocker, so thread
 * dumps and {@code java.lang.management.ThreadMXBean} show who holds it and who waits for it, and
 * {@code findDeadlockedThreads} finds deadlocks of plain locks (for platform threads). A mutex
 * locked while nobody waits is not listed among its holder's locked synchronizers: recording the
 * owner on every lock is a reference store, and G1's write barrier made it about 3 ns of a
 * 12 ns lock and unlock inside a transaction. {@link #owner()}, {@link #holderContext()} and
 * {@link #toString()} (class, holder and waiters) are always exact.
 *
 * <p><b>Virtual threads.</b> Waiting parks with {@link LockSupport}; no monitor is ever held.
 *
 * <p><b>Without a thread.</b> {@link #lockAsync(AcquireContext, Executor)} and
 * {@link #lockSlowAsync(AcquireContext, Executor)} lock for a
 * {@linkplain WwClass#beginTransferable() transferable} transaction and return a
 * {@link CompletableFuture}: the request queues like a thread, but nothing parks; the release (or
 * wound) that decides its fate hands the completion to the executor.
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
     * wakes that waiter (FREED), which takes it with a CAS under the queue lock; a running
     * thread that arrives meanwhile may take it first with the fast path's CAS (and its [A]
     * check of the waiters), which keeps a mutex busy while the woken thread is still being
     * scheduled. A woken first waiter that finds the mutex taken marks itself HANDOFF, and the
     * next unlock hands the mutex to it: it stores the waiter's context (or thread) into
     * `holder`, unlinks it and sets GRANTED before unparking it, and the waiter owns the mutex
     * without a CAS. A release that finds the first waiter still FREED (woken by an earlier
     * release, not yet run, and so overtaken by whoever holds the mutex now) hands over too once
     * `handoffAfterNanos` (1 ms, Go's starvation threshold) have passed since that wake-up;
     * before that it frees the mutex again, so that a waiter that is slow to be scheduled does
     * not leave the mutex idle (handing over at once cost 7.5 times the old time per operation
     * with 8 threads on 2 mutexes and 2 cores). So a first waiter is overtaken at most once after
     * it ran, and for at most about 1 ms after it was woken, however late it is scheduled. Who
     * waits in which order, and every wound and death, is decided by the
     * queue as before; barging changes only whether the mutex idles while a woken waiter is
     * scheduled.
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
     * once, if it is queued on another mutex). The flag is a hint, confirmed before the back-off
     * (AcquireContext.confirmWound): the holder clears it, then looks in the queue of every mutex
     * it holds, each under its own queue bit and never two at once, for an older waiter that holds
     * locks, and backs off naming that waiter only if one is there. A wounder queued before the
     * clear is found; one that wounds after it sets the flag again; so no wound is lost, and a
     * stale one never causes a back-off: a wounder that has left its queue (timed out,
     * interrupted, backed off, closed), and the "spurious" wound of a holder that was just
     * releasing (a waiter can read `holder` just before the releaser stores null, as in the
     * kernel, whose ww_mutex_unlock clears lock->ctx outside the wait lock) are both dropped.
     * Wait-die: a waiter that holds locks and is younger than the holder, or than any context
     * waiter ahead of it, backs off instead of waiting; what it names holds the mutex or is queued
     * at that moment. A context becomes the holder outside the queue bit only by the fast path's
     * CAS, so the check made before queueing is repeated after [W] against the holder read then: an
     * older context that took the mutex on the fast path and read no waiters [A] is seen there,
     * and the waiter looks (and dies) before it parks; one that read the waiters checks them [A].
     * Neither ever asks a context that holds nothing to back off, so the first lock of a
     * transaction, and lockSlow, cannot fail; and every back-off names a context that
     * is older and live at the decision, so the oldest live context is never asked either.
     * Where the two algorithms differ, the mutex asks its class's ConflictPolicy (who wounds,
     * who dies, who is asked to look); this class is the mechanism that carries the decisions out.
     * Polite waiting (a class option) is the one back-off a context asks of itself: after the
     * kill check, a context that holds locks and would queue returns POLITE instead, at most the
     * class's bound times per transaction (AcquireContext.backsOffPolitely, under the queue bit:
     * it touches only the owner's plain fields).
     *
     * Exception safety (AQS is the model). Nothing under the queue bit allocates, counts into a
     * LongAdder or runs foreign code: the Waiter is allocated before the bit is taken, counters
     * are preallocated striped cells (Counters), toString copies the queue into arrays allocated
     * before it; the only calls out are LockSupport.unpark, which never throws (for a virtual
     * thread it retries its submission on OutOfMemoryError, so while the heap stays exhausted a
     * releaser waking a virtual thread holds the bit until memory returns: a stall, never a
     * corruption; moving the unparks out of the bit is left to do), and Thread.onSpinWait. Every section
     * under the bit still releases it in a finally, and taking the bit never throws (the pause
     * swallows a virtual thread's failed yield; the VarHandle call sites, whose linking
     * allocates, are funnelled into casHolder/casState and linked when the class initializes).
     * Nothing that can throw runs after a mutex is acquired and before the caller knows it: the
     * context's held list grows, and the thread's bookkeeping is fetched, before the acquiring
     * CAS. Out of memory for a Waiter, a locker queues its thread's spare waiter (one per thread
     * and class, allocated with the thread's bookkeeping; a thread waits for one mutex at a time),
     * where AQS falls back to polling in acquireOnOOME: so it keeps its place in the queue, can
     * wound, and nothing polls. A throwable while queued leaves
     * through abandon (AQS's cancelAcquire): unlinked, or the mutex released again if it was
     * granted meanwhile. A before-unlock hook runs before the release, with no bit held; the
     * release happens even if it throws.
     *
     * Asynchronous waiters (AsyncWaiter) queue like threads and are decided by the same code
     * (look); where a thread waiter would be unparked, an asynchronous one is scheduled: a flag
     * and a push on a lock-free wake stack, nothing allocated and no foreign code, so it may
     * happen under the bit. unlockQueue, after it frees the bit, hands every scheduled waiter to
     * its executor; the look there completes the future. They never spin, so the [S]/[G]
     * skipping of unparks never applies to them. A wound of a context that is locking
     * asynchronously schedules its waiter (AcquireContext.asyncWaiter) instead of unparking.
     *
     * toString and waiterCount take the queue bit only to copy or count, so diagnostics never
     * build strings under it.
     *
     * The owner thread that thread dumps show (AbstractOwnableSynchronizer's, a plain field) is
     * not written on the fast path, only under the queue bit on contended paths (showOwner): a
     * waiter that queues shows the holder it read after [W]; a holder that takes the mutex while
     * threads wait shows itself, in its [A] section or when admitted from the queue; a release
     * that frees the mutex under the bit, and the section that empties the queue, show nobody;
     * and a releaser clears it before it frees the mutex. So while a thread waits its holder is
     * shown, and a shown thread never outlives its hold: only a waiter shows a thread other than
     * its own, from a holder h it read; if that lands after h's clear, the waiter is queued, so
     * h's release either sees WAITERS [R] and clears it under the bit, or a later section empties
     * the queue and does. A mutex locked while nobody waits is not shown.
     *
     * Memory: holder and state are volatile (VarHandles HOLDER and STATE for CAS); head, the
     * Waiter links and the owner thread shown are guarded by the queue lock (the owner thread is
     * also cleared, plain, by a releaser before its volatile store of holder); a Waiter's status
     * (GRANTED, RECHECK, FREED, SPINNING, HANDOFF) is one volatile int changed only by atomic
     * read-modify-writes, and the granter sets GRANTED after it has set holder, so a granted
     * waiter sees the mutex as its own and everything the previous holder did before unlocking.
     */

    private static final int SPINS = 256;   // spin iterations before queueing, and before parking
    /**
     * How long a woken first waiter that has not run yet may be overtaken before a release hands
     * the mutex to it: 1 ms, Go's sync.Mutex starvation threshold. Written only by tests (plain;
     * a test sets it before the threads it checks start).
     */
    static long handoffAfterNanos = 1_000_000L;
    /**
     * With assertions on (tests), every release of the queue bit first checks the queue's
     * invariants 1 and 2 under it, and fails after the bit is released, so that a broken
     * invariant fails the test instead of leaving the bit held.
     */
    private static final boolean CHECK_INVARIANTS = WwMutex.class.desiredAssertionStatus();
    private static final int QLOCKED = 1;   // the queue lock (spin bit)
    private static final int WAITERS = 2;   // the wait list is non-empty

    // acquireQueued outcomes, and WAIT: no outcome yet, wait on
    static final int ACQUIRED = 0, TIMED_OUT = 1, INTERRUPTED = 2, DIED = 3, WOUNDED = 4, WAIT = 5,
            POLITE = 7;
    private static final int ALREADY_HELD = 6;   // an asynchronous lock's outcome only
    // acquireQueued modes
    private static final int INTERRUPTIBLE = 1, TIMED = 2;

    /** The WwClass, or a Hooked pairing it with a beforeUnlock hook; final. */
    private final Object binding;
    /** The holder: null, an AcquireContext or a Thread; CAS from null, else holder/granter writes. */
    private volatile Object holder;
    /** QLOCKED | WAITERS; CAS to take QLOCKED, then only its holder writes. */
    private volatile int state;
    /** The first queued waiter; guarded by the queue lock. */
    private Waiter head;

    /**
     * A queued thread (or, as {@link AsyncWaiter}, an asynchronous lock). Links are guarded by the
     * queue lock; what happens to the waiter is one status word, as in AQS's nodes.
     */
    static class Waiter {
        /** Set once by the granter, under the queue bit, after {@code holder}: the mutex is its own. */
        static final int GRANTED = 1;
        /** Set under the queue bit by a thread that wakes it to look again; cleared by it there. */
        static final int RECHECK = 2;
        /** Set under the queue bit by a releaser that freed the mutex for it; it clears it there. */
        static final int FREED = 4;
        /** Set by its own thread under the queue bit, cleared by it outside: it spins instead of parking. */
        static final int SPINNING = 8;
        /** Set by its own thread under the queue bit: overtaken once, so the next release hands over. */
        static final int HANDOFF = 16;

        final Thread thread;
        AcquireContext ctx;                 // null for a waiter without a context; written by its thread
                                            // before it queues, read by others under the queue lock
        Waiter prev, next;                  // guarded by the queue lock
        long freedAt;                       // guarded by the queue lock: System.nanoTime() when a
                                            // releaser first set FREED since the waiter last ran
        /**
         * GRANTED | RECHECK | FREED | SPINNING | HANDOFF. Every change is an atomic read-modify-write
         * (set, clear), because the waiter clears SPINNING without the queue bit while others set
         * bits under it; each returns the bits before it, so that one side of each race ([S]
         * against [G] and [F]) sees the other.
         */
        private volatile int status;

        Waiter(Thread thread) {
            this.thread = thread;
        }

        /**
         * Readies this waiter for a wait of its thread with {@code ctx}. A spare waiter is used
         * again only by its own thread, after its last wait ended; no other thread touches a
         * waiter after the set that granted it.
         */
        Waiter forWait(AcquireContext ctx) {
            this.ctx = ctx;
            prev = next = null;
            status = 0;
            return this;
        }

        /** Tells whether any of {@code bits} is set. */
        final boolean is(int bits) {
            return (status & bits) != 0;
        }

        /**
         * Sets {@code bits}; the only site that does.
         *
         * @return the bits before
         */
        final int set(int bits) {
            return (int) STATUS.getAndBitwiseOr(this, bits);
        }

        /**
         * Clears {@code bits}; the only site that does.
         *
         * @return the bits before
         */
        final int clear(int bits) {
            return (int) STATUS.getAndBitwiseAnd(this, ~bits);
        }

        // VarHandle mechanics
        private static final VarHandle STATUS;

        static {
            try {
                STATUS = MethodHandles.lookup().findVarHandle(Waiter.class, "status", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
            // Link both call sites now (linking allocates): see WwMutex's static block.
            Waiter probe = new Waiter(null);
            probe.set(GRANTED);
            probe.clear(GRANTED);
        }
    }

    /** A mutex's class with the hook that runs before each release (kept apart: 32-byte mutex). */
    private record Hooked(WwClass wwClass, Runnable beforeUnlock) { }

    /**
     * Creates an unlocked mutex of a class.
     *
     * @param wwClass the class whose contexts may lock it
     */
    public WwMutex(WwClass wwClass) {
        this.binding = Objects.requireNonNull(wwClass, "wwClass");
    }

    /**
     * Creates an unlocked mutex of a class that runs {@code beforeUnlock} on every release: its
     * holder's {@link #unlock()}, {@link AcquireContext#unlockAll()} (and so
     * {@link AcquireContext#close()}), and the release that an injected back-off makes. The hook
     * runs in the releasing thread while the mutex is still held (its holder and the context's
     * {@link AcquireContext#heldLocks()} still show it), before anything is released, and with no
     * internal lock or spin bit held; so what it writes happens-before the next acquisition of the
     * mutex. A layer that keeps per-holder state beside the mutex uses it to void that state
     * whichever way the holder lets go.
     *
     * <p>If the hook throws, the mutex is released all the same and the throwable propagates after
     * the release. {@link AcquireContext#unlockAll()} then goes on with the remaining mutexes and
     * rethrows the first throwable at the end, with the others suppressed. The hook must not lock
     * or unlock this mutex.
     *
     * @param wwClass the class whose contexts may lock it
     * @param beforeUnlock runs before every release, in the releasing thread
     */
    public WwMutex(WwClass wwClass, Runnable beforeUnlock) {
        this.binding = new Hooked(Objects.requireNonNull(wwClass, "wwClass"),
                Objects.requireNonNull(beforeUnlock, "beforeUnlock"));
    }

    /**
     * The class of this mutex.
     *
     * @return the class
     */
    public WwClass wwClass() {
        return binding instanceof WwClass c ? c : ((Hooked) binding).wwClass();
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
            ctx.beforeAcquire();
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
        ctx.beforeAcquire();
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

    // ------------------------------------------------------------ locking asynchronously

    /**
     * Locks this mutex for a transferable transaction without blocking any thread: the returned
     * future completes with {@link LockResult#ACQUIRED} (or {@link LockResult#ALREADY_HELD}) once
     * {@code ctx} holds the mutex, or exceptionally with a {@link BackoffException} when the
     * transaction must back off, exactly where {@link #lock(AcquireContext)} would return or
     * throw. Meanwhile the request waits in the queue like a thread (same order, wounds and
     * deaths) without a thread parked for it; when its turn comes, the thread that released the
     * mutex (or wounded the context) submits the rest to {@code executor}, which completes the
     * future, so dependent stages run there.
     *
     * <p>The context may be attached to the calling thread or detached; from the call until the
     * future completes it is carried by the request, and no thread may use it
     * ({@link WwMisuseException.Rule#CONCURRENT_USE}). When the future completes the context is
     * detached: use it from any one thread, {@linkplain AcquireContext#attach() attaching} it to
     * lock or unlock synchronously.
     *
     * <p>Cancelling the future (or completing it, or a timeout from {@code orTimeout}) withdraws
     * the request: it leaves the queue, or, if the mutex was handed to it meanwhile, releases it,
     * so nothing stays locked; {@code cancel} returns when that is done. A cancel that comes after
     * the request took the mutex returns {@code false}, and the future completes with the lock
     * held. If {@code executor} refuses a task, the request is withdrawn the same way and the
     * future fails with the refusal, completed in the refusing thread.
     *
     * @param ctx the transaction, begun with {@link WwClass#beginTransferable()}
     * @param executor runs the completion and the stages that depend on it
     * @return a future of {@link LockResult#ACQUIRED} or {@link LockResult#ALREADY_HELD}, failing
     *     with {@link BackoffException} if {@code ctx} must back off
     * @throws WwMisuseException if the call breaks a rule: the context is not transferable
     *     ({@link WwMisuseException.Rule#FOREIGN_THREAD}), another thread or request uses it
     *     ({@link WwMisuseException.Rule#CONCURRENT_USE}), or a rule of {@link #lock(AcquireContext)}
     */
    public CompletableFuture<LockResult> lockAsync(AcquireContext ctx, Executor executor) {
        return startAsync(ctx, executor, false);
    }

    /**
     * After a back-off on this mutex, with every other lock released, locks it asynchronously:
     * {@link #lockSlow(AcquireContext)} without a parked thread. The future completes with
     * {@link LockResult#ACQUIRED}; it cannot fail with a back-off, because the context holds
     * nothing. Context hand-off, cancellation and executor as in
     * {@link #lockAsync(AcquireContext, Executor)}; a cancelled slow lock leaves the context in its
     * backed-off state, so it can be repeated.
     *
     * @param ctx the transferable transaction that backed off on this mutex
     * @param executor runs the completion and the stages that depend on it
     * @return a future of {@link LockResult#ACQUIRED}
     * @throws WwMisuseException as for {@link #lockSlow(AcquireContext)} and
     *     {@link #lockAsync(AcquireContext, Executor)}
     */
    public CompletableFuture<LockResult> lockSlowAsync(AcquireContext ctx, Executor executor) {
        return startAsync(ctx, executor, true);
    }

    /**
     * Both asynchronous locks. The caller's thread makes the first run: fast path, wound check,
     * queue (as acquireQueued, without spinning); if it must wait, later looks run on the
     * executor (lookAsync), scheduled by whoever would unpark a thread waiter.
     */
    private CompletableFuture<LockResult> startAsync(AcquireContext ctx, Executor executor, boolean slow) {
        Objects.requireNonNull(executor, "executor");
        AsyncWaiter w = new AsyncWaiter(this, ctx, executor, slow);   // before anything changes
        ctx.enterAsync(this, w, slow);
        int r;
        if (holder == ctx) {
            r = ALREADY_HELD;
        } else {
            try {
                ctx.beforeAcquire();                 // may allocate: the last step that can throw
            } catch (Throwable t) {
                ctx.exitAsync();
                throw t;
            }
            if (tryAcquireFree(ctx, w.thread)) {
                r = ACQUIRED;
            } else if (wwClass().policy().woundedNow(ctx)) {
                r = WOUNDED;
            } else {
                r = enqueueOrTake(w, ctx);
            }
        }
        if (r != WAIT) {
            finishAsync(w, r);
            w.endFirstRunDone();
            return w.future;
        }
        wwClass().counters.add(Counters.CONTENDED, 1);
        if (ctx.acquired > 0 && ctx.woundedAcquire()) {
            w.schedule();                            // wounded before asyncWaiter was visible
        }
        w.endFirstRun();
        return w.future;
    }

    /**
     * A look of a queued asynchronous waiter, on its executor (or in a withdrawing caller): as a
     * woken thread's look in awaitTurn.
     *
     * @return {@code true} if the request has ended (future settled or withdrawn)
     */
    boolean lookAsync(AsyncWaiter w) {
        AcquireContext ctx = w.ctx;
        int r;
        if (w.is(Waiter.GRANTED)) {
            r = ACQUIRED;
        } else {
            boolean wounded = !w.withdrawn() && wwClass().policy().woundedNow(ctx);
            lockQueue();
            try {
                r = look(w, ctx, 0, 0L, wounded);
            } finally {
                unlockQueue();
            }
            if (r == WAIT) {
                return false;
            }
        }
        finishAsync(w, r);
        return true;
    }

    /**
     * Ends an asynchronous lock with outcome {@code r}: this thread carries the context while it
     * records the outcome (an injected back-off unlocks as {@code lock} does), detaches it, then
     * completes the future. A withdrawn request that was handed the mutex releases it.
     */
    private void finishAsync(AsyncWaiter w, int r) {
        AcquireContext ctx = w.ctx;
        ctx.carryAsync();
        boolean claimed = w.claimForRunner();
        LockResult value = null;
        Throwable failure = null;
        try {
            if (r == ACQUIRED && !claimed) {
                ctx.recordAcquired(this);
                unlock();                            // withdrawn after the hand-off: let it go
            } else if (r == ACQUIRED) {
                if (w.slow) {
                    ctx.recordAcquired(this);
                } else {
                    ctx.onAcquired(this);            // may inject a back-off
                }
                value = LockResult.ACQUIRED;
            } else if (r == ALREADY_HELD) {
                value = LockResult.ALREADY_HELD;
            } else if (claimed) {
                failure = backoff(ctx, r);           // WOUNDED or DIED
            }
        } catch (Throwable t) {                      // an injected back-off, a hook, out of memory
            failure = t;
        }
        ctx.exitAsync();
        if (!claimed && failure != null) {
            w.releaseFailure = failure;
        }
        w.settle(claimed, value, failure);
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
        Checker.acquiring(this);
        if (!tryAcquireFree(null, Thread.currentThread())) {
            acquireQueued(null, 0, 0L);
        }
        ts.noContextHeld++;
        Checker.acquired(this);
        wwClass().counters.add(Counters.ACQUISITIONS, 1);
    }

    /**
     * Locks this mutex without a context, giving up if the thread is interrupted.
     *
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException as for {@link #lock()}
     */
    public void lockInterruptibly() throws InterruptedException {
        WwClass.ThreadState ts = checkBlockingNoContext();
        Checker.acquiring(this);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        if (!tryAcquireFree(null, Thread.currentThread())
                && acquireQueued(null, INTERRUPTIBLE, 0L) == INTERRUPTED) {
            throw new InterruptedException();
        }
        ts.noContextHeld++;
        Checker.acquired(this);
        wwClass().counters.add(Counters.ACQUISITIONS, 1);
    }

    /**
     * Locks this mutex without a context only if it is free now.
     *
     * @return {@code true} if acquired; {@code false} if anyone, this thread included, holds it
     */
    public boolean tryLock() {
        if (holder != null) {
            return false;
        }
        WwClass.ThreadState ts = wwClass().threadState();   // before acquiring: it may allocate
        if (!tryAcquireFree(null, Thread.currentThread())) {
            return false;
        }
        ts.noContextHeld++;
        Checker.acquired(this);
        wwClass().counters.add(Counters.ACQUISITIONS, 1);
        return true;
    }

    /**
     * Locks this mutex without a context, waiting at most {@code timeout}; interruptible. A timed
     * wait cannot deadlock forever, so it is allowed while the thread holds other mutexes of the
     * class. Waiting for a mutex the thread holds itself (with or without a context) could only
     * time out, so it is reported as a misuse, as {@link #lock()} reports it.
     *
     * @param timeout how long to wait at most; not negative
     * @return {@code true} if acquired; {@code false} if the time ran out
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws WwMisuseException ({@link WwMisuseException.Rule#RECURSIVE_LOCK}) if the thread
     *     holds this mutex already
     */
    public boolean tryLock(Duration timeout) throws InterruptedException {
        long nanos = toNanos(timeout);
        Thread me = Thread.currentThread();
        if (isHeldByCurrentThread()) {
            throw new WwMisuseException(RECURSIVE_LOCK, me + " called tryLock(" + timeout + ") on "
                    + describe() + ", which it already holds" + (holder == me ? ""
                            : " through " + holder) + "; a WwMutex is not reentrant");
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        WwClass.ThreadState ts = wwClass().threadState();   // before acquiring: it may allocate
        Checker.acquiring(this);
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
        ts.noContextHeld++;
        Checker.acquired(this);
        wwClass().counters.add(Counters.ACQUISITIONS, 1);
        return true;
    }

    private WwClass.ThreadState checkBlockingNoContext() {
        Thread me = Thread.currentThread();
        if (holder == me) {
            throw new WwMisuseException(RECURSIVE_LOCK, me + " called lock() on " + describe()
                    + ", which it already holds; a WwMutex is not reentrant");
        }
        WwClass.ThreadState ts = wwClass().threadState();
        if (ts.noContextHeld != 0 || (ts.live != null && ts.live.acquired > 0)) {
            throw new WwMisuseException(MIXED_LOCKING, me + " called a blocking lock() without a"
                    + " context on " + describe() + " while holding other mutexes of class "
                    + wwClass().name() + (ts.live != null && ts.live.acquired > 0
                            ? " through " + ts.live : " without a context")
                    + "; this can deadlock undetected, lock them all with one context instead");
        }
        return ts;
    }

    // ------------------------------------------------------------ unlocking and queries

    /**
     * Unlocks this mutex, whether it was locked with a context or without one. If threads wait,
     * the first of them is woken to take it; a running thread may take it first (bounded
     * barging), but only once per wait of that first waiter: the release after such an overtaking
     * hands the mutex directly to the waiter, which then owns it before it runs. A mutex made with a
     * {@linkplain #WwMutex(WwClass, Runnable) before-unlock hook} runs it first, while still held;
     * if the hook throws, the mutex is released and then the throwable propagates.
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
        } else if (h == null) {
            throw new WwMisuseException(UNLOCK_NOT_HELD, me + " called unlock() on "
                    + describe() + ", which is not locked");
        } else if (h != me) {
            throw new WwMisuseException(UNLOCK_FOREIGN, me + " called unlock() on " + describe()
                    + ", which is held by " + h);
        }
        if (binding instanceof Hooked hooked) {
            try {
                hooked.beforeUnlock().run();
            } finally {
                releaseHeld(h);
            }
        } else {
            releaseHeld(h);
        }
    }

    /**
     * A transferable context that holds this mutex was attached to the current thread: if dumps
     * show an owner (the context's previous carrier), they show this thread from now on.
     */
    void carrierChanged() {
        lockQueue();
        try {
            if (getExclusiveOwnerThread() != null) {
                showOwner(Thread.currentThread());
            }
        } finally {
            unlockQueue();
        }
    }

    /** Its holder {@code h} (context or thread) lets go: bookkeeping, then the release. */
    private void releaseHeld(Object h) {
        Checker.released(this);
        if (h instanceof AcquireContext c) {
            c.onReleased(this);
        } else {
            wwClass().threadState().noContextHeld--;
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
     * The thread holding this mutex, or {@code null} if it is free. For a mutex held by a
     * {@linkplain AcquireContext#isTransferable() transferable} context, the thread it is attached
     * to, or {@code null} while it is detached or locking asynchronously ({@link #toString()} then
     * names the last one). A snapshot, for monitoring.
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
        return "WwMutex@" + Integer.toHexString(System.identityHashCode(this)) + "(" + wwClass().name()
                + ")";
    }

    /**
     * Describes the mutex: class, holder (context stamp and thread, or thread) and waiters in queue
     * order; a waiter that was overtaken once, and gets the mutex at the next unlock, is marked
     * "(hand-off)". Nothing is allocated under the queue bit: the waiters are counted, arrays for
     * them allocated, then filled under the bit; waiters that queued in between are shown as "…".
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        int n = waiterCount();
        Thread[] threads = new Thread[n];
        AcquireContext[] contexts = new AcquireContext[n];
        boolean[] handoffs = new boolean[n];
        Object h;
        int shown = 0;
        boolean more;
        lockQueue();
        try {
            h = holder;
            Waiter w = head;
            for (; w != null && shown < n; w = next(w), shown++) {
                threads[shown] = w instanceof AsyncWaiter ? null : w.thread;
                contexts[shown] = w.ctx;
                handoffs[shown] = w.is(Waiter.HANDOFF);
            }
            more = w != null;
        } finally {
            unlockQueue();
        }
        StringBuilder sb = new StringBuilder(describe()).append('[');
        if (h == null) {
            sb.append("unlocked");
        } else if (h instanceof AcquireContext c) {
            sb.append("held by context #").append(c.stamp()).append(" on ").append(c.carrierName());
        } else {
            sb.append("held by ").append(((Thread) h).getName()).append(" without a context");
        }
        if (shown > 0 || more) {
            sb.append(", waiters=[");
            for (int i = 0; i < shown; i++) {
                sb.append(i > 0 ? ", " : "").append(contexts[i] != null ? "#" + contexts[i].stamp() + " on " : "")
                        .append(threads[i] != null ? threads[i].getName() : "async")
                        .append(handoffs[i] ? " (hand-off)" : "");
            }
            sb.append(more ? (shown > 0 ? ", …" : "…") : "").append(']');
        }
        return sb.append(']').toString();
    }

    // ------------------------------------------------------------ the algorithm

    /** With a context: the fast path, else queue and wait. Returns an acquireQueued outcome. */
    private int acquire(AcquireContext ctx, int mode, long deadline) {
        Checker.acquiring(this);
        ctx.beforeAcquire();
        return tryAcquireFree(ctx, ctx.owner()) ? ACQUIRED : acquireQueued(ctx, mode, deadline);
    }

    /**
     * The fast path: takes the mutex if it is free with one CAS, records the owner and, if
     * threads wait, lets a context check them [A].
     *
     * @return {@code true} if the caller now holds the mutex
     */
    private boolean tryAcquireFree(AcquireContext ctx, Thread me) {
        if (!casHolder(null, owned(ctx, me))) {
            return false;
        }
        if (ctx != null && (state & WAITERS) != 0) {   // [A] pairs with [W] in enqueueOrTake
            lockQueue();
            try {
                showOwner(me);
                checkWaiters(ctx);
            } finally {
                unlockQueue();
            }
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
        if (ctx != null && wwClass().policy().woundedNow(ctx)) {
            return WOUNDED;
        }
        return queueAndWait(newWaiter(ctx), ctx, mode, deadline);
    }

    /**
     * A Waiter for the current thread, allocated before the queue bit is taken. When the heap is
     * exhausted the thread's spare waiter is used instead (where AQS, whose queue needs a node too,
     * falls back to polling in acquireOnOOME): so an out-of-memory locker still queues in order, a
     * wound-wait waiter can still wound, and nothing polls.
     */
    private Waiter newWaiter(AcquireContext ctx) {
        try {
            return new Waiter(Thread.currentThread()).forWait(ctx);
        } catch (OutOfMemoryError oome) {
            WwClass.ThreadState ts = ctx != null ? ctx.threadState() : wwClass().threadState();
            return ts.spareWaiter.forWait(ctx);
        }
    }

    /** Queues {@code w} (or takes the free mutex) and waits; counts the contended acquisition. */
    private int queueAndWait(Waiter w, AcquireContext ctx, int mode, long deadline) {
        WwEvents.ContendedLock event = WwEvents.beginContended(this, ctx);
        int result = enqueueOrTake(w, ctx);
        if (result != WAIT) {
            return result;
        }
        Counters counters = wwClass().counters;
        counters.add(Counters.CONTENDED, 1);
        long start = System.nanoTime();
        try {
            result = awaitTurn(w, ctx, mode, deadline);
        } catch (Throwable t) {
            abandon(w);
            throw t;
        }
        counters.add(Counters.WAIT_NANOS, System.nanoTime() - start);
        WwEvents.endContended(event, outcomeName(result));
        return result;
    }

    /** The contended-lock event's name for an outcome of {@link #awaitTurn}. */
    private static String outcomeName(int outcome) {
        return switch (outcome) {
            case ACQUIRED -> "acquired";
            case TIMED_OUT -> "timed out";
            case INTERRUPTED -> "interrupted";
            case DIED -> "died";
            case WOUNDED -> "wounded";
            default -> "unknown";                    // no exception: the outcome has taken effect
        };
    }

    /**
     * Under the queue bit: takes the mutex if nobody holds or awaits it; else, after the wait-die
     * check and the polite check of a context that holds locks, queues {@code w}, announces it
     * [W] and makes the announcement's checks: grant the mutex if it was freed meanwhile, wound
     * a younger holder (wound-wait), die for an older one (wait-die).
     *
     * @return ACQUIRED, DIED, POLITE (a polite back-off instead of queueing while holding locks),
     *     or WAIT (queued; SPINNING in {@code w} tells whether to spin first)
     */
    private int enqueueOrTake(Waiter w, AcquireContext ctx) {
        lockQueue();
        try {
            if (head == null && holder == null && casHolder(null, owned(ctx, w.thread))) {
                return ACQUIRED;
            }
            if (ctx != null && ctx.acquired > 0) {
                if (wwClass().policy().diesBeforeQueue(this, ctx)) {
                    return DIED;
                }
                if (ctx.backsOffPolitely()) {
                    return POLITE;
                }
            }
            enqueue(w);
            state = state | WAITERS;                     // [W] pairs with [R] in release, [A]
            Object h = holder;
            if (h == null) {
                grantHead();
            } else {
                showOwner(h instanceof AcquireContext hc ? hc.lastCarrier() : (Thread) h);
                if (ctx != null && h instanceof AcquireContext hc) {
                    wwClass().policy().afterAnnouncing(this, w, ctx, hc);   // wound it, or die for it
                }
            }
            if (head == w && !w.is(Waiter.GRANTED) && !(w instanceof AsyncWaiter)) {
                w.set(Waiter.SPINNING);                  // only the first waiter spins before parking
            }
            return WAIT;
        } finally {
            unlockQueue();
        }
    }

    /**
     * Waits, queued, until granted or until {@link #look} ends the wait. The queue bit is not held
     * between looks; a wound is confirmed before the look, outside any queue bit.
     */
    private int awaitTurn(Waiter w, AcquireContext ctx, int mode, long deadline) {
        boolean interrupted = false;
        ConflictPolicy policy = wwClass().policy();
        int result;
        for (boolean spin = w.is(Waiter.SPINNING); ; ) {
            if (spin && spinUntilGranted(w, ctx, mode, deadline)) {
                result = ACQUIRED;
                break;
            }
            while (!w.is(Waiter.GRANTED) && !mustLook(w, ctx, mode, deadline)) {
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
            if (w.is(Waiter.GRANTED)) {
                result = ACQUIRED;
                break;
            }
            boolean wounded = ctx != null && policy.woundedNow(ctx);
            lockQueue();
            try {
                result = look(w, ctx, mode, deadline, wounded);
            } finally {
                unlockQueue();
            }
            if (result != WAIT) {
                break;
            }
            spin = w.is(Waiter.SPINNING);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return result;
    }

    /**
     * A queued waiter looks at its fate, under the queue bit: granted meanwhile; must back off
     * ({@code wounded}, confirmed by the caller, or a wait-die death); timed out; interrupted;
     * the first waiter takes the free mutex; or waits on. A first waiter that was freed to take
     * the mutex and finds it taken by a barger is marked for hand-off.
     *
     * @return an acquireQueued outcome, or WAIT (SPINNING set in {@code w} to spin first)
     */
    private int look(Waiter w, AcquireContext ctx, int mode, long deadline, boolean wounded) {
        assert queueLocked();
        int was = w.clear(Waiter.RECHECK | Waiter.FREED);
        if ((was & Waiter.GRANTED) != 0) {
            return ACQUIRED;
        }
        boolean freed = (was & Waiter.FREED) != 0;
        int result = wounded ? WOUNDED
                : ctx != null && ctx.acquired > 0 && wwClass().policy().diesQueued(this, ctx, w) ? DIED
                : ACQUIRED;
        if (result == ACQUIRED && (mode & TIMED) != 0 && deadline - System.nanoTime() <= 0L) {
            result = TIMED_OUT;
        }
        if (result == ACQUIRED && interrupted(w, mode)) {
            result = INTERRUPTED;                     // an asynchronous waiter: withdrawn
        }
        if (result != ACQUIRED) {
            dequeue(w);
            return result;
        }
        if (head == w && holder == null && casHolder(null, owned(ctx, w.thread))) {
            admit(w);
            return ACQUIRED;
        }
        if (freed) {                                  // overtaken: the next release hands over,
            boolean spin = head == w && !(w instanceof AsyncWaiter);   // likely soon: spin for it first
            w.set(spin ? Waiter.HANDOFF | Waiter.SPINNING : Waiter.HANDOFF);
        }
        return WAIT;
    }

    /**
     * A waiter leaves on a throwable (AQS's cancelAcquire): unlinks it, or, if it was granted the
     * mutex meanwhile, releases the mutex again so that nobody waits behind a holder that left.
     */
    private void abandon(Waiter w) {
        boolean granted;
        lockQueue();
        try {
            granted = w.is(Waiter.GRANTED);
            if (!granted && w.next != null) {
                dequeue(w);
            }
        } finally {
            unlockQueue();
        }
        if (granted) {
            release();
        }
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
        return !(h instanceof AcquireContext hc) || wwClass().policy().waitsFor(ctx, hc);
    }

    /**
     * The first waiter spins briefly before parking: a holder with a short critical section then
     * hands the mutex to a running thread, which sees GRANTED without a wake-up, and the
     * granter, seeing SPINNING, skips the unpark. The waiter clears SPINNING [S] and the granter
     * sets GRANTED [G] in the same word, each by an atomic read-modify-write that returns the bits
     * before it: whichever comes second sees the first, so either the waiter sees the grant or
     * the granter sees that it must unpark. The same holds for a releaser's FREED [F].
     *
     * @return {@code true} if granted while spinning; {@code false} to park (or to look again)
     */
    private static boolean spinUntilGranted(Waiter w, AcquireContext ctx, int mode, long deadline) {
        for (int i = 0; i < SPINS && !w.is(Waiter.GRANTED) && !mustLook(w, ctx, mode, deadline); i++) {
            Thread.onSpinWait();
        }
        return (w.clear(Waiter.SPINNING) & Waiter.GRANTED) != 0;   // [S]: pairs with [G] and [F]
    }

    /**
     * Tells a waiter that looks whether it must give up for an interrupt (interruptible mode) or,
     * for an asynchronous waiter, because its request was withdrawn.
     */
    private static boolean interrupted(Waiter w, int mode) {
        if (w instanceof AsyncWaiter a) {
            return a.withdrawn();
        }
        return (mode & INTERRUPTIBLE) != 0 && Thread.interrupted();
    }

    /**
     * Tells a parked waiter whether something may have changed its fate: its releaser freed the
     * mutex for it to take, another thread asked it to look again (wait-die), its context was
     * wounded, it was interrupted or its time ran out.
     * Without one of these it parks again without taking the queue lock, so spurious wake-ups
     * cost nothing and cannot starve the threads that need the lock.
     */
    private static boolean mustLook(Waiter w, AcquireContext ctx, int mode, long deadline) {
        return w.is(Waiter.RECHECK | Waiter.FREED)
                || (ctx != null && ctx.acquired > 0 && ctx.woundedAcquire())
                || ((mode & INTERRUPTIBLE) != 0 && Thread.currentThread().isInterrupted())
                || ((mode & TIMED) != 0 && deadline - System.nanoTime() <= 0L);
    }

    /** Wakes a queued waiter so that it re-runs its kill check. Queue lock held. */
    static void askToLook(Waiter w) {
        w.set(Waiter.RECHECK);
        wake(w);
    }

    /** Wakes a waiter to look: unparks its thread, or schedules an asynchronous waiter's look. */
    private static void wake(Waiter w) {
        if (w instanceof AsyncWaiter a) {
            a.schedule();
        } else {
            LockSupport.unpark(w.thread);
        }
    }

    /**
     * Wound-wait: finds a queued context that holds locks and is older than {@code ctx}, which
     * holds this mutex; records its stamp in {@code ctx.olderStamp}. Called by the holder, which
     * holds no other queue bit, to confirm a wound.
     *
     * @return {@code true} if such a waiter is queued now
     */
    boolean hasOlderWaiterHoldingLocks(AcquireContext ctx) {
        lockQueue();
        try {
            for (Waiter c = head; c != null; c = next(c)) {
                if (c.ctx != null && c.ctx.acquired > 0 && WwClass.isOlder(c.ctx.stamp(), ctx.stamp())) {
                    ctx.olderStamp = c.ctx.stamp();
                    return true;
                }
            }
            return false;
        } finally {
            unlockQueue();
        }
    }

    /**
     * Inserts {@code w}: a waiter without a context at the tail; one with a context after the last
     * older context waiter, walking back from the tail over younger ones (wait-die wakes those
     * that hold locks, so that they die: see {@link ConflictPolicy#overtaken}).
     */
    private void enqueue(Waiter w) {
        assert queueLocked();
        Waiter pos = null;                            // insert before pos; null means at the tail
        if (w.ctx != null && head != null) {
            long stamp = w.ctx.stamp();
            ConflictPolicy policy = wwClass().policy();
            for (Waiter c = head.prev; ; c = c.prev) {
                if (c.ctx != null) {
                    if (WwClass.isOlder(c.ctx.stamp(), stamp)) {
                        break;
                    }
                    pos = c;
                    policy.overtaken(c);               // wait-die: it dies if it holds locks
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

    /** Under the queue bit (for assertions; any thread's bit). */
    private boolean queueLocked() {
        return (state & QLOCKED) != 0;
    }

    /** Invariant 1 (for assertions): context waiters are in stamp order, oldest first. */
    private boolean contextWaitersInStampOrder() {
        AcquireContext last = null;
        for (Waiter c = head; c != null; c = next(c)) {
            if (c.ctx != null) {
                if (last != null && WwClass.isOlder(c.ctx.stamp(), last.stamp())) {
                    return false;
                }
                last = c.ctx;
            }
        }
        return true;
    }

    /** Unlinks {@code w}; clears WAITERS when the list empties. Queue lock held. */
    private void unlink(Waiter w) {
        assert queueLocked();
        if (w.next == w) {
            head = null;
            state = state & ~WAITERS;
            showOwner(null);                             // nobody waits: invariant 10
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
        assert queueLocked();
        unlink(w);
        if (head != null && holder == null) {
            grantHead();                             // never leave waiters behind a free mutex
        }
    }

    /** The first waiter in queue order, or null. Queue lock held. */
    Waiter firstWaiter() {
        return head;
    }

    /** The next waiter after {@code w} in queue order, or null at the tail. Queue lock held. */
    Waiter next(Waiter w) {
        Waiter n = w.next;
        return n == head ? null : n;
    }

    /** Hands a free mutex to the first waiter, unless a barger took it first. Queue lock held. */
    private void grantHead() {
        assert queueLocked();
        Waiter g = head;
        if (g != null && casHolder(null, owned(g.ctx, g.thread))) {
            handOver(g);
        }
    }

    /**
     * Waiter {@code w} has become the holder, by its own CAS or a granter's: unlink it and let its
     * context check the other waiters. Queue lock held.
     */
    private void admit(Waiter w) {
        assert queueLocked();
        unlink(w);
        showOwner(w.thread);
        if (w.ctx != null) {
            checkWaiters(w.ctx);
        }
    }

    /**
     * Completes the hand-off to {@code g}, whose context or thread is already in {@code holder}:
     * admit it, publish GRANTED and unpark it unless it spins. Queue lock held.
     */
    private void handOver(Waiter g) {
        assert queueLocked();
        admit(g);
        int was = g.set(Waiter.GRANTED);             // [G] pairs with [S] in spinUntilGranted
        if (g instanceof AsyncWaiter a) {
            a.schedule();
        } else if (g.thread != Thread.currentThread() && (was & Waiter.SPINNING) == 0) {
            LockSupport.unpark(g.thread);
        }
    }

    /**
     * A context has just acquired the mutex while others wait: its class's policy checks them
     * (wound-wait: an older waiter that holds locks wounds it; wait-die: a younger first context
     * waiter that holds locks is asked to look, so that it dies; the kernel's check_waiters).
     * Queue lock held.
     */
    private void checkWaiters(AcquireContext holderCtx) {
        assert queueLocked();
        wwClass().policy().checkWaiters(this, holderCtx);
    }

    /**
     * Releases the mutex: free it [R], or hand it to the first waiter. The first waiter is handed
     * the mutex if it is marked for hand-off, or if it was freed to take it by an earlier release
     * at least {@link #handoffAfterNanos} ago and has not taken it yet (so bargers took it in
     * between): it is overtaken at most once after it ran and for about 1 ms after its wake-up.
     */
    private void release() {
        setExclusiveOwnerThread(null);
        if ((state & WAITERS) == 0) {
            holder = null;
            if ((state & WAITERS) == 0) {        // [R] pairs with [W] in enqueueOrTake
                return;
            }
            lockQueue();
            try {
                if (holder == null) {
                    grantHead();
                }
                if (holder == null) {
                    showOwner(null);              // a waiter that came and went may have shown us
                }
            } finally {
                unlockQueue();
            }
            return;
        }
        lockQueue();
        try {
            Waiter g = head;
            if (g == null) {
                holder = null;                    // the waiters gave up meanwhile
                showOwner(null);
            } else if (g.is(Waiter.HANDOFF)
                    || g.is(Waiter.FREED) && System.nanoTime() - g.freedAt >= handoffAfterNanos) {
                holder = owned(g.ctx, g.thread);
                handOver(g);
            } else {
                holder = null;                    // a running thread may take it before g does, once
                showOwner(null);
                wakeToTake(g);
            }
        } finally {
            unlockQueue();
        }
    }

    /**
     * Wakes the first waiter to take the mutex that its releaser has just freed. Skips the unpark
     * while it spins: setting FREED [F] returns whether SPINNING was set, and the waiter clears
     * SPINNING [S] before its last look. Queue lock held.
     */
    private static void wakeToTake(Waiter g) {
        if (!g.is(Waiter.FREED)) {
            g.freedAt = System.nanoTime();        // the bound runs from the first wake-up
        }
        if ((g.set(Waiter.FREED) & Waiter.SPINNING) == 0) {   // [F] pairs with [S] in spinUntilGranted
            wake(g);
        }
    }

    private BackoffException backoff(AcquireContext ctx, int killed) {
        return ctx.backoff(this, killed == WOUNDED ? BackoffException.Reason.WOUNDED
                : killed == POLITE ? BackoffException.Reason.POLITE
                : BackoffException.Reason.DIED, ctx.olderStamp);
    }

    /** Throws {@code t} unchanged, checked or not (a hook's throwable, caught to finish a loop). */
    @SuppressWarnings("unchecked")
    static <T extends Throwable> RuntimeException rethrow(Throwable t) throws T {
        throw (T) t;
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

    /**
     * Takes the queue bit. Never throws, so that a caller may take it in the middle of a step: a
     * virtual thread's Thread.yield can throw OutOfMemoryError, so the pause swallows it, and the
     * one CAS site was linked when the class was initialized (see the static block).
     */
    private void lockQueue() {
        for (int spins = 0; ; spins++) {
            int s = state;
            if ((s & QLOCKED) == 0 && casState(s, s | QLOCKED)) {
                return;
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                try {
                    Thread.yield();
                } catch (Throwable cannotYield) {   // out of memory in a virtual thread: spin on
                }
            }
        }
    }

    private void unlockQueue() {
        boolean invariantsHold = !CHECK_INVARIANTS
                || contextWaitersInStampOrder() && wwClass().policy().queueSettled(this);
        state = state & ~QLOCKED;                     // volatile store: releases the list
        if (AsyncWaiter.wakes != null) {
            AsyncWaiter.dispatchWakes();              // asynchronous waiters woken under a bit
        }
        assert invariantsHold : "queue invariants broken on " + describe();   // after the bit: no hang
    }

    /**
     * Sets the owner thread that thread dumps show ({@link AbstractOwnableSynchronizer}'s), if it
     * differs (invariant 10 of docs/ww.md). Queue lock held.
     */
    private void showOwner(Thread t) {
        if (getExclusiveOwnerThread() != t) {
            setExclusiveOwnerThread(t);
        }
    }

    /** The owner thread that thread dumps show now; for tests. */
    Thread shownOwner() {
        return getExclusiveOwnerThread();
    }

    /** The only CAS site of {@code holder}. */
    private boolean casHolder(Object expect, Object update) {
        return HOLDER.compareAndSet(this, expect, update);
    }

    /** The only CAS site of {@code state}. */
    private boolean casState(int expect, int update) {
        return STATE.compareAndSet(this, expect, update);
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
        // Link the VarHandle call sites now: linking one allocates, and its first use might
        // otherwise come when the heap is exhausted, halfway through a step.
        new Waiter(null);                          // initialize Waiter, which links its own sites
        WwMutex probe = new WwMutex(WwClass.woundWait("link"));
        probe.casHolder(null, probe);
        probe.casHolder(probe, null);
        probe.lockQueue();
        probe.unlockQueue();
    }
}
