package dev.bufsync.ww;

import dev.bufsync.check.Checker;
import static dev.bufsync.ww.WwMisuseException.Rule.MIXED_LOCKING;
import static dev.bufsync.ww.WwMisuseException.Rule.RECURSIVE_LOCK;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_FOREIGN;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_NOT_HELD;

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
 * pointers. Misuse checks are always on; they cost a few comparisons on the uncontended path. The
 * lock word, the queue and hand-off live in a package-private base class, as
 * {@code AbstractQueuedSynchronizer} holds a {@code ReentrantLock}'s; where wound-wait and
 * wait-die differ, a stateless policy object reached through the class decides.
 */
public final class WwMutex extends QueuedMutex {
    /*
     * Overview.
     *
     * The facade over QueuedMutex, as ReentrantLock is over AbstractQueuedSynchronizer: the lock
     * word, the queue and every decision on them are QueuedMutex's (see its Overview, and
     * docs/ww.md for the invariants); this class adds what the API promises around them:
     *  - the misuse checks (AcquireContext.checkLock and friends, checkBlockingNoContext), made
     *    before anything changes, so that a misuse leaves the mutex and the context as they were;
     *  - the context's bookkeeping: beforeAcquire (which may allocate) before the acquiring CAS,
     *    onAcquired or recordAcquired after it, onReleased before the release, so that nothing
     *    that can throw runs between taking the mutex and the caller knowing it;
     *  - the dependency checker's annotations and the class's acquisition counts;
     *  - the asynchronous locks' first run and completion (AsyncWaiter does the waiting);
     *  - the before-unlock hook, run while the mutex is still held; the release happens even if
     *    it throws;
     *  - the snapshots (isLocked, owner, toString), which read the lock word and copy the queue
     *    under its bit.
     * The one field added here, binding, is final: the class, or a Hooked pairing it with the
     * before-unlock hook.
     */

    /** A mutex's class with the hook that runs before each release (kept apart: 32-byte mutex). */
    private record Hooked(WwClass wwClass, Runnable beforeUnlock) { }

    /** The WwClass, or a Hooked pairing it with a beforeUnlock hook; final. */
    private final Object binding;

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

    // ------------------------------------------------------------ the algorithm's entry

    /** With a context: the fast path, else queue and wait. Returns an acquireQueued outcome. */
    private int acquire(AcquireContext ctx, int mode, long deadline) {
        Checker.acquiring(this);
        ctx.beforeAcquire();
        return tryAcquireFree(ctx, ctx.owner()) ? ACQUIRED : acquireQueued(ctx, mode, deadline);
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
}
