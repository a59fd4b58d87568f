package dev.bufsync.ww;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.AbstractOwnableSynchronizer;
import java.util.concurrent.locks.LockSupport;

/**
 * The mechanism of a {@link WwMutex}, as {@code AbstractQueuedSynchronizer} is a
 * {@code ReentrantLock}'s and the kernel's {@code mutex.c} a {@code ww_mutex}'s: the lock word,
 * the wait queue under its spin bit, bounded barging and hand-off, spinning, parking and the
 * asynchronous waiters' wake-ups. Where wound-wait and wait-die differ it asks the class's
 * {@link ConflictPolicy}; the checks, the context's bookkeeping and the API are {@link WwMutex}'s.
 *
 * <p>Package-private and sealed: {@code WwMutex} is its only subclass, and it adds one field, so
 * that a mutex stays 32 bytes with compressed pointers.
 */
abstract sealed class QueuedMutex extends AbstractOwnableSynchronizer permits WwMutex {
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
     * Nothing that can throw runs after a mutex is acquired and before the caller knows it: WwMutex
     * grows the context's held list, and fetches the thread's bookkeeping, before it calls the
     * acquiring CAS here. Out of memory for a Waiter, a locker queues its thread's spare waiter (one per thread
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
     * WwMutex's toString and waiterCount take the queue bit only to copy or count, so
     * diagnostics never build strings under it.
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
    private static final boolean CHECK_INVARIANTS = QueuedMutex.class.desiredAssertionStatus();
    private static final int QLOCKED = 1;   // the queue lock (spin bit)
    private static final int WAITERS = 2;   // the wait list is non-empty

    // acquireQueued outcomes, and WAIT: no outcome yet, wait on
    static final int ACQUIRED = 0, TIMED_OUT = 1, INTERRUPTED = 2, DIED = 3, WOUNDED = 4, WAIT = 5,
            POLITE = 7;
    static final int ALREADY_HELD = 6;   // an asynchronous lock's outcome only
    // acquireQueued modes
    static final int INTERRUPTIBLE = 1, TIMED = 2;

    /**
     * The holder: null, an AcquireContext or a Thread; CAS from null, else holder/granter writes.
     * WwMutex reads it (volatile) for its checks and snapshots, and never writes it.
     */
    volatile Object holder;
    /** QLOCKED | WAITERS; CAS to take QLOCKED, then only its holder writes. */
    private volatile int state;
    /** The first queued waiter; guarded by the queue lock (WwMutex reads it only under it). */
    Waiter head;

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
            // Link both call sites now (linking allocates): see QueuedMutex's static block.
            Waiter probe = new Waiter(null);
            probe.set(GRANTED);
            probe.clear(GRANTED);
        }
    }

    /** The class whose policy decides conflicts, and whose counters and thread states this mutex uses. */
    abstract WwClass wwClass();

    /** A short name for messages: identity and class. */
    String describe() {
        return "WwMutex@" + Integer.toHexString(System.identityHashCode(this)) + "(" + wwClass().name()
                + ")";
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

    // ------------------------------------------------------------ the algorithm

    /**
     * The fast path: takes the mutex if it is free with one CAS, records the owner and, if
     * threads wait, lets a context check them [A].
     *
     * @return {@code true} if the caller now holds the mutex
     */
    boolean tryAcquireFree(AcquireContext ctx, Thread me) {
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
    int acquireQueued(AcquireContext ctx, int mode, long deadline) {
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
    int enqueueOrTake(Waiter w, AcquireContext ctx) {
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
    int look(Waiter w, AcquireContext ctx, int mode, long deadline, boolean wounded) {
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
    void release() {
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

    private static Object owned(AcquireContext ctx, Thread thread) {
        return ctx != null ? ctx : thread;
    }

    // ------------------------------------------------------------ the queue lock

    /**
     * Takes the queue bit. Never throws, so that a caller may take it in the middle of a step: a
     * virtual thread's Thread.yield can throw OutOfMemoryError, so the pause swallows it, and the
     * one CAS site was linked when the class was initialized (see the static block).
     */
    void lockQueue() {
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

    void unlockQueue() {
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
            HOLDER = l.findVarHandle(QueuedMutex.class, "holder", Object.class);
            STATE = l.findVarHandle(QueuedMutex.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        Class<?> ensureLoaded = LockSupport.class; // avoid class loading in the first park
        // Link the VarHandle call sites now: linking one allocates, and its first use might
        // otherwise come when the heap is exhausted, halfway through a step.
        new Waiter(null);                          // initialize Waiter, which links its own sites
        QueuedMutex probe = new WwMutex(WwClass.woundWait("link"));
        probe.casHolder(null, probe);
        probe.casHolder(probe, null);
        probe.lockQueue();
        probe.unlockQueue();
    }
}
