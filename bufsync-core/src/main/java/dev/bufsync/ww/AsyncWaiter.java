package dev.bufsync.ww;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A queued asynchronous lock ({@link WwMutex#lockAsync(AcquireContext, java.util.concurrent.Executor)}): a waiter that carries a future and an
 * executor instead of a parked thread. Whoever would unpark a thread waiter schedules this one's
 * look on its executor instead; the look decides, as a woken thread would, and completes the
 * future when the lock is held or the transaction must back off.
 */
final class AsyncWaiter extends QueuedMutex.Waiter implements Runnable {
    /*
     * Overview.
     *
     * Looks never run at once: `run` serialises them. IDLE (queued, nothing to do) -> SCHEDULED
     * (a look is on its way to the executor) -> RUNNING (a thread looks) -> IDLE again, or RERUN
     * when a wake came during the look (the runner looks again), or DONE (the future is settled
     * or the request withdrawn). The first run is the caller's own, inside lockAsync, so a node
     * starts RUNNING. schedule() is what a waker calls where it would unpark a thread: it may run
     * under a queue bit, so it neither allocates nor runs foreign code: it flips IDLE -> SCHEDULED
     * and pushes the node on the wake stack, a Treiber stack linked through the nodes themselves.
     * Every push happens under some lock's queue bit, and the unlockQueue of WwMutex and of
     * WwSharedMutex (whose wounds reach pending contexts too) drains the stack after it frees
     * its bit: so the pusher itself, or whoever drained first, hands each node to its executor,
     * with no bit held (dispatch). A node is on the stack at most once (only the
     * IDLE -> SCHEDULED flip pushes it).
     *
     * Who settles the future: `claim` is CASed once from UNCLAIMED by the runner when the look
     * has an outcome (BY_RUNNER: it completes the future), by the caller of cancel, complete or
     * completeExceptionally on the future, orTimeout included (BY_CALLER), or by a dispatch that
     * the executor refused (BY_REJECTION: the future fails with the rejection). Once claimed by
     * anyone but the runner the request is withdrawn: the next look leaves the queue, or, if the
     * mutex was handed over meanwhile, releases it, so nothing stays locked. A caller that claims
     * runs that look itself if no look is running; else it waits for the running one to end (a
     * few queue operations and perhaps a before-unlock hook), unless that look runs below it on
     * its own stack (a direct executor), so that cancel() returns with the context detached.
     *
     * Memory: run and claim are volatile (VarHandles); wakeNext is written by the pusher before
     * its releasing CAS and read by the drainer after its acquiring getAndSet; rejection and
     * releaseFailure are written before a volatile write that their readers read first.
     */

    static final int IDLE = 0, SCHEDULED = 1, RUNNING = 2, RERUN = 3, DONE = 4;
    private static final int UNCLAIMED = 0, BY_RUNNER = 1, BY_CALLER = 2, BY_REJECTION = 3;

    /** The wake stack: nodes scheduled under a queue bit, for the next unlockQueue to dispatch. */
    static volatile AsyncWaiter wakes;

    final WwMutex mutex;
    final boolean slow;                      // lockSlowAsync
    final Executor executor;
    final LockFuture future;
    private volatile int run = RUNNING;      // see Overview; CAS (RUN)
    private volatile int claim;              // UNCLAIMED until CAS (CLAIM) once
    private volatile Thread runner;          // the thread in runLooks, for withdraw; written by it
    private Throwable rejection;             // the executor's refusal; written before CLAIM
    Throwable releaseFailure;                // a hook's throwable when a withdrawn lock was released
    private AsyncWaiter wakeNext;            // the wake stack's link; see Memory

    AsyncWaiter(WwMutex mutex, AcquireContext ctx, Executor executor, boolean slow) {
        super(Thread.currentThread());
        forWait(ctx);
        this.mutex = mutex;
        this.executor = executor;
        this.slow = slow;
        this.future = new LockFuture(this);
    }

    /**
     * Wakes this waiter to look at its fate, where a thread waiter would be unparked. Allocates
     * nothing and runs no foreign code: callers hold a queue bit, whose release dispatches it.
     */
    void schedule() {
        for (;;) {
            int s = run;
            if (s == IDLE) {
                if (RUN.compareAndSet(this, IDLE, SCHEDULED)) {
                    push(this);
                    return;
                }
            } else if (s == RUNNING) {
                if (RUN.compareAndSet(this, RUNNING, RERUN)) {
                    return;
                }
            } else {
                return;                              // scheduled already, rerun pending, or done
            }
        }
    }

    /** Ends the caller's first run in lockAsync: queued now, or to look again on the executor. */
    void endFirstRun() {
        if (!RUN.compareAndSet(this, RUNNING, IDLE)) {
            run = SCHEDULED;                         // RERUN: woken meanwhile
            dispatch();
        }
    }

    /** The caller's first run settled the request without queueing. */
    void endFirstRunDone() {
        run = DONE;
    }

    /** Hands the scheduled look to the executor; no queue bit held. */
    private void dispatch() {
        try {
            executor.execute(this);
        } catch (Throwable refused) {               // rejected, or out of memory: withdraw here
            rejection = refused;
            CLAIM.compareAndSet(this, UNCLAIMED, BY_REJECTION);
            if (RUN.compareAndSet(this, SCHEDULED, RUNNING)) {
                runLooks();
            }
        }
    }

    /** The executor runs a scheduled look; a stale task (the look was taken over) does nothing. */
    @Override
    public void run() {
        if (RUN.compareAndSet(this, SCHEDULED, RUNNING)) {
            runLooks();
        }
    }

    /**
     * Looks until the request ends or nothing new happened during a look. {@code runner} is
     * cleared before the run state is given up, so it never names a thread that left.
     */
    private void runLooks() {
        Thread me = Thread.currentThread();
        runner = me;
        for (;;) {
            boolean ended;
            try {
                ended = mutex.lookAsync(this);
            } catch (Throwable t) {                  // the future could not be completed (out of
                runner = null;                       // memory): never leave a canceller waiting
                run = DONE;
                throw t;
            }
            runner = null;
            if (ended) {
                run = DONE;
                return;
            }
            if (RUN.compareAndSet(this, RUNNING, IDLE)) {
                return;
            }
            runner = me;                             // RERUN: woken during the look
            run = RUNNING;
        }
    }

    /** Tells whether the request was withdrawn (its future completed by the caller, or refused). */
    boolean withdrawn() {
        int c = claim;
        return c == BY_CALLER || c == BY_REJECTION;
    }

    /** The runner claims the future for the look's outcome; {@code false} if withdrawn. */
    boolean claimForRunner() {
        return CLAIM.compareAndSet(this, UNCLAIMED, BY_RUNNER);
    }

    /** Settles the future after the look's outcome; the context is detached already. */
    void settle(boolean claimed, LockResult value, Throwable failure) {
        if (claimed) {
            future.settle(value, failure);
        } else if (claim == BY_REJECTION) {
            Throwable t = rejection;
            if (failure != null && failure != t) {
                t.addSuppressed(failure);
            }
            future.settle(null, t);
        }
    }

    /**
     * The caller completed the future (cancel, complete, completeExceptionally, a timeout): the
     * request is withdrawn; returns once no look runs any more, with the context detached.
     *
     * @return {@code false} if the runner had claimed the future first (it completes it)
     */
    private boolean withdraw() {
        if (!CLAIM.compareAndSet(this, UNCLAIMED, BY_CALLER)) {
            return false;
        }
        for (;;) {
            int s = run;
            if (s == DONE) {
                break;
            } else if (s == IDLE || s == SCHEDULED) {
                if (RUN.compareAndSet(this, s, RUNNING)) {
                    runLooks();                      // a withdrawn look always ends the request
                    break;
                }
            } else if (s == RERUN || RUN.compareAndSet(this, RUNNING, RERUN)) {
                if (runner == Thread.currentThread()) {
                    break;                           // the look below us on this stack ends it
                }
                while (run != DONE) {                // a few queue operations, perhaps a hook
                    Thread.onSpinWait();
                    Thread.yield();
                }
                break;
            }
        }
        return true;
    }

    private static void push(AsyncWaiter w) {
        for (;;) {
            AsyncWaiter top = wakes;
            w.wakeNext = top;
            if (WAKES.compareAndSet(top, w)) {
                return;
            }
        }
    }

    /** Dispatches every scheduled node; called with no queue bit held. */
    static void dispatchWakes() {
        AsyncWaiter w = (AsyncWaiter) WAKES.getAndSet((AsyncWaiter) null);
        while (w != null) {
            AsyncWaiter next = w.wakeNext;
            w.wakeNext = null;
            w.dispatch();                            // never throws
            w = next;
        }
    }

    /**
     * The future of an asynchronous lock. Completing it from outside (cancel, complete,
     * completeExceptionally, orTimeout, completeOnTimeout) withdraws the request first: the
     * waiter leaves the queue, or releases the mutex if it had just been handed to it.
     */
    static final class LockFuture extends CompletableFuture<LockResult> {
        private final AsyncWaiter waiter;

        LockFuture(AsyncWaiter waiter) {
            this.waiter = waiter;
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (!waiter.withdraw()) {
                return isCancelled();
            }
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            rethrowReleaseFailure();
            return cancelled;
        }

        @Override
        public boolean complete(LockResult value) {
            if (!waiter.withdraw()) {
                return false;
            }
            boolean completed = super.complete(value);
            rethrowReleaseFailure();
            return completed;
        }

        @Override
        public boolean completeExceptionally(Throwable ex) {
            if (!waiter.withdraw()) {
                return false;
            }
            boolean completed = super.completeExceptionally(ex);
            rethrowReleaseFailure();
            return completed;
        }

        /** A before-unlock hook threw while the withdrawal released the handed-over mutex. */
        private void rethrowReleaseFailure() {
            Throwable t = waiter.releaseFailure;
            if (t != null) {
                waiter.releaseFailure = null;
                throw WwMutex.rethrow(t);
            }
        }

        /** The runner's completion (never withdraws). */
        void settle(LockResult value, Throwable failure) {
            if (failure == null) {
                super.complete(value);
            } else {
                super.completeExceptionally(failure);
            }
        }
    }

    // VarHandle mechanics
    private static final VarHandle RUN;
    private static final VarHandle CLAIM;
    private static final VarHandle WAKES;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            RUN = l.findVarHandle(AsyncWaiter.class, "run", int.class);
            CLAIM = l.findVarHandle(AsyncWaiter.class, "claim", int.class);
            WAKES = l.findStaticVarHandle(AsyncWaiter.class, "wakes", AsyncWaiter.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        // Link the call sites used under a queue bit now: linking allocates.
        AsyncWaiter probe = new AsyncWaiter(null, null, null, false);
        probe.schedule();                            // RUNNING -> RERUN
        probe.run = IDLE;
        probe.schedule();                            // IDLE -> SCHEDULED, and the push
        WAKES.getAndSet((AsyncWaiter) null);         // nothing else can be on the stack yet
    }
}
