package dev.bufsync.ww;

import dev.bufsync.check.Checker;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_FOREIGN;
import static dev.bufsync.ww.WwMisuseException.Rule.UNLOCK_NOT_HELD;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * A wound/wait readers-writer lock: transactions ({@link AcquireContext}s) of one {@link WwClass}
 * take it shared (to read) or exclusively (to write), together with any other
 * {@code WwSharedMutex}es and {@link WwMutex}es of the class, in any order, without deadlock and
 * without starvation. Readers never conflict with readers; a writer conflicts with every other
 * holder. Conflicts are resolved by age exactly as for {@link WwMutex}: the older transaction,
 * reader or writer, wins, and the younger one is told to back off ({@link BackoffException}); the
 * first lock of a transaction and the slow path never back off, so the oldest transaction is never
 * asked to.
 *
 * <pre>{@code
 * try (AcquireContext ctx = cls.begin()) {
 *     ... the back-off loop of AcquireContext, with for each object either
 *     table.lockShared(ctx);     // read
 *     row.lock(ctx);             // write
 *     ... and after a BackoffException e: ctx.unlockAll(), then
 *     e.sharedMutex().lockSharedSlow(ctx) or lockSlow(ctx), in the mode that backed off
 * }
 * }</pre>
 *
 * <p><b>Outcomes.</b> {@link #lockShared(AcquireContext)} returns {@link LockResult#ACQUIRED}, or
 * {@link LockResult#ALREADY_HELD} if the context holds the lock in either mode (nothing changed).
 * {@link #lock(AcquireContext)} returns {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD}
 * if the context holds it exclusively, or {@link LockResult#UPGRADED} if the context held it
 * shared and now holds it exclusively. A context that holds the lock shared may thus ask for it
 * exclusively at any time: the upgrade waits for the other readers to leave, under the same
 * wound/die rules as any other request (the older of two upgraders wins); if it must back off, the
 * context still holds the lock shared, like every other lock it holds, until it unlocks everything.
 * Either way the context holds the lock once and unlocks it once, with {@link #unlock(AcquireContext)}
 * or {@link AcquireContext#unlockAll()}.
 *
 * <p><b>Fairness.</b> Requests queue in stamp order, oldest first, and are granted from the head:
 * a younger reader queues behind a waiting older writer, so a stream of newer readers cannot
 * starve a writer; an older reader goes ahead of a younger waiting writer. An upgrade is granted
 * as soon as its context is the only holder, ahead of the queue (it holds the lock already), and
 * requests younger than the upgrade wait behind it.
 *
 * <p><b>Caveats.</b> Locking requires a context (there is no plain-lock form). The lock is not a
 * {@link WwMutex}: {@link AcquireContext#heldLocks()} lists only {@code WwMutex}es, and
 * {@link BackoffException#mutex()} is {@code null} for a back-off on a {@code WwSharedMutex} (use
 * {@link BackoffException#sharedMutex()}). There is no before-unlock hook for it yet. The
 * dependency checker annotates it like a {@code WwMutex}, shared holds included, and a request
 * that queues is recorded by the same JFR event as a {@code WwMutex}'s,
 * {@code dev.bufsync.ww.ContendedLock}, with its mode (shared, exclusive or upgrade).
 *
 * <p><b>Implementation notes.</b> Simple rather than fast: every operation, uncontended ones
 * included, takes an internal spin bit, and each shared acquisition allocates a small holder record
 * (before the bit is taken). The first waiter spins briefly before it parks, as a
 * {@code WwMutex}'s does, so that a short critical section hands over without a wake-up; waits
 * are counted in the class's {@link WwClass#stats() stats} ({@code contended}, {@code waitNanos}).
 * Misuse checks are always on, as for {@code WwMutex}.
 */
public final class WwSharedMutex {
    /*
     * Overview.
     *
     * All state but the spin bit is guarded by the spin bit (QLOCKED in `state`, taken by CAS,
     * released by a volatile store, held for a few list operations only, never across a park):
     *  - writer: the context holding the lock exclusively, or null;
     *  - readers: a circular doubly-linked list of Nodes, one per context holding it shared, and
     *    readerCount;
     *  - head: the wait queue, a circular doubly-linked list of Nodes sorted by stamp, oldest first.
     * A Node is allocated by its thread before the bit is taken; a granted shared Node moves from
     * the queue to the readers list; nothing under the bit allocates or runs foreign code (the only
     * calls out are LockSupport.unpark, the preallocated striped counters and, for a wounded holder
     * whose asynchronous lock of a WwMutex is pending, AsyncWaiter.schedule, which pushes it on the
     * wake stack; unlockQueue hands those to their executors once the bit is free, as WwMutex's does).
     *
     * Granting (grantWaiters, run after every change of holders or queue): walk the queue from the
     * head; an upgrade is granted when its context is the only holder (wherever it is queued); any
     * other request is granted when every request ahead of it has been granted and it is
     * compatible with the holders (shared: no writer; exclusive: no holder at all). The first
     * request that cannot be granted closes the gate for every non-upgrade request behind it. A new
     * request runs the same rule as if it were inserted at its stamp's place, so it takes the lock
     * at once only if it would be granted from the queue.
     *
     * Spinning: a request that is first in the queue when it queues spins SPINS times on its
     * volatile flags before it parks (the ycsb benchmark's hot rows paid a park and a wake-up
     * for nearly every wait). Granters unpark it regardless; a permit left for a spinning thread
     * only makes one later park return at once. So spinning changes how a thread waits, never who
     * gets the lock, and no wake-up can be lost to it.
     *
     * Wait-for structure. Hence, whenever a request waits, it waits (directly or through the
     * requests ahead of it) for every holder except itself: a non-upgrade request at the head waits
     * only because a holder conflicts with it (a shared request at the head waits for the writer,
     * which is then the only holder; an exclusive one for all holders); every later one waits for
     * the head; an upgrade waits for the other readers. And it waits for the requests ahead of it,
     * which are older, except an upgrade, which waits for no queued request.
     *
     * Conflict resolution follows from that structure, with the kernel's rules; the decisions are
     * the class's ConflictPolicy's, made on this lock's holders and queue:
     *  - Wound-wait: a waiter that holds locks (ctx.acquired > 0) wounds every holder younger than
     *    itself, when it queues and whenever a new holder is admitted while it waits (queued,
     *    admitted). The wounded context confirms the wound (AcquireContext.confirmWound) by asking
     *    each lock it holds for an older waiter that holds locks (hasOlderWaiterHoldingLocks): here
     *    every waiter but the context's own upgrade waits for every holder, so any older waiter
     *    that holds locks will do.
     *  - Wait-die: a requester that holds locks dies instead of waiting if a holder other than
     *    itself or a request ahead of it (an upgrade: a holder only) is older (kill); waiters
     *    behind a newly queued request, and waiters younger than a newly admitted holder, are woken
     *    to re-run the check.
     * Neither asks a context that holds nothing to back off, so first locks and slow locks cannot
     * fail, and every back-off names a strictly older context that holds or waits for the lock at
     * the decision: the oldest live context never backs off. No deadlock: an upgrade is the only
     * request that both holds and waits for the same lock, and it waits for no queued request, so
     * a waiter that holds nothing (and is never wounded) can only be waited for by requests behind
     * it, which also wait for the holders it waits for; the kernel's argument then applies.
     *
     * Memory: state is volatile (CAS by STATE); writer, readers, readerCount, head and the Node
     * links are plain fields guarded by the spin bit, whose release is a volatile store and whose
     * acquisition a CAS, so everything a holder did before it unlocked happens-before the next
     * holder's acquisition. Node.granted and Node.recheck are volatile: set under the bit by the
     * granter (after the holder state changed) or by a thread asking the waiter to look again, and
     * read by the parked waiter without the bit.
     */

    private static final int QLOCKED = 1;
    private static final int SPINS = 256;   // spin iterations of the first waiter before it parks
    private static final int WAIT = -1, WAIT_FIRST = -2, WAIT_UPGRADE = -3;
    private static final int ACQUIRED = 0, UPGRADED = 1, ALREADY_HELD = 2, BUSY = 3, INTERRUPTED = 4,
            DIED = 5, WOUNDED = 6, POLITE = 7;
    private static final int SHARED = 0, EXCLUSIVE = 1, POLL = 2, INTERRUPTIBLE = 4;

    private final WwClass wwClass;
    /** QLOCKED; CAS to take, volatile store to release. */
    private volatile int state;
    /** The exclusive holder; guarded by the spin bit. */
    private AcquireContext writer;
    /** The shared holders, circular; guarded by the spin bit. */
    private Node readers;
    /** The number of shared holders; guarded by the spin bit. */
    private int readerCount;
    /** The first waiter, circular and sorted by stamp; guarded by the spin bit. */
    private Node head;

    /** A request of one context: queued, then (shared) a holder record. Links guarded by the bit. */
    static final class Node {
        final Thread thread;                // the requesting thread, which parks while queued
        final AcquireContext ctx;
        final boolean exclusive;
        final boolean upgrade;              // ctx holds the lock shared and asks for it exclusively
        Node prev, next;                    // guarded by the spin bit
        volatile boolean granted;           // set once under the bit, after the holders changed
        volatile boolean recheck;           // set under the bit to make a parked waiter look again

        Node(AcquireContext ctx, boolean exclusive, boolean upgrade) {
            this.thread = Thread.currentThread();
            this.ctx = ctx;
            this.exclusive = exclusive;
            this.upgrade = upgrade;
        }
    }

    /**
     * Creates an unlocked readers-writer lock of a class.
     *
     * @param wwClass the class whose contexts may lock it
     */
    public WwSharedMutex(WwClass wwClass) {
        this.wwClass = Objects.requireNonNull(wwClass, "wwClass");
    }

    /**
     * The class of this lock.
     *
     * @return the class
     */
    public WwClass wwClass() {
        return wwClass;
    }

    // ------------------------------------------------------------ locking

    /**
     * Locks this lock shared for a transaction, waiting uninterruptibly while a writer holds it or
     * an older request waits for it.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, or {@link LockResult#ALREADY_HELD} if {@code ctx}
     *     already held it, shared or exclusively (nothing changed)
     * @throws BackoffException if {@code ctx} must back off; it does not hold this lock then
     * @throws WwMisuseException if the call breaks a rule (see {@link WwMisuseException.Rule})
     */
    public LockResult lockShared(AcquireContext ctx) throws BackoffException {
        ctx.checkLock(this, wwClass, "lockShared", true);
        return lockWithContext(ctx, SHARED);
    }

    /**
     * Like {@link #lockShared(AcquireContext)}, but gives up if the thread is interrupted while
     * waiting (or was interrupted before the call).
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED} or {@link LockResult#ALREADY_HELD}
     * @throws BackoffException if {@code ctx} must back off
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult lockSharedInterruptibly(AcquireContext ctx)
            throws BackoffException, InterruptedException {
        ctx.checkLock(this, wwClass, "lockSharedInterruptibly", true);
        return lockInterruptibly(ctx, SHARED | INTERRUPTIBLE);
    }

    /**
     * Locks this lock shared only if that needs no wait now; never waits and never backs off.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD}, or
     *     {@link LockResult#BUSY} if a writer holds it or an older request waits
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult tryLockShared(AcquireContext ctx) {
        ctx.checkLock(this, wwClass, "tryLockShared", false);
        return tryLockWithContext(ctx, SHARED | POLL);
    }

    /**
     * Locks this lock exclusively for a transaction, waiting uninterruptibly for the other holders
     * to leave. If {@code ctx} holds it shared this is an upgrade.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}; {@link LockResult#ALREADY_HELD} if {@code ctx} already
     *     held it exclusively (nothing changed); {@link LockResult#UPGRADED} if {@code ctx} held it
     *     shared and now holds it exclusively (still one hold, unlocked once)
     * @throws BackoffException if {@code ctx} must back off; it holds this lock as before the call
     *     (not at all, or shared for an upgrade)
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult lock(AcquireContext ctx) throws BackoffException {
        ctx.checkLock(this, wwClass, "lock", true);
        return lockWithContext(ctx, EXCLUSIVE);
    }

    /**
     * Like {@link #lock(AcquireContext)}, but gives up if the thread is interrupted while waiting
     * (or was interrupted before the call).
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD} or {@link LockResult#UPGRADED}
     * @throws BackoffException if {@code ctx} must back off
     * @throws InterruptedException if interrupted; nothing changed
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult lockInterruptibly(AcquireContext ctx) throws BackoffException, InterruptedException {
        ctx.checkLock(this, wwClass, "lockInterruptibly", true);
        return lockInterruptibly(ctx, EXCLUSIVE | INTERRUPTIBLE);
    }

    /**
     * Locks this lock exclusively only if nobody else holds it and no older request waits (an
     * upgrade: if {@code ctx} is its only holder); never waits and never backs off.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD},
     *     {@link LockResult#UPGRADED}, or {@link LockResult#BUSY}
     * @throws WwMisuseException if the call breaks a rule
     */
    public LockResult tryLock(AcquireContext ctx) {
        ctx.checkLock(this, wwClass, "tryLock", false);
        return tryLockWithContext(ctx, EXCLUSIVE | POLL);
    }

    /**
     * After a back-off on this lock, with every other lock released, blocks until {@code ctx} holds
     * it shared. It cannot be asked to back off, because the context holds nothing.
     *
     * @param ctx the transaction that backed off on this lock
     * @throws WwMisuseException as {@link WwMutex#lockSlow(AcquireContext)}
     */
    public void lockSharedSlow(AcquireContext ctx) {
        ctx.checkLockSlow(this, wwClass);
        slow(ctx, SHARED);
    }

    /**
     * After a back-off on this lock, with every other lock released, blocks until {@code ctx} holds
     * it exclusively. It cannot be asked to back off, because the context holds nothing.
     *
     * @param ctx the transaction that backed off on this lock
     * @throws WwMisuseException as {@link WwMutex#lockSlow(AcquireContext)}
     */
    public void lockSlow(AcquireContext ctx) {
        ctx.checkLockSlow(this, wwClass);
        slow(ctx, EXCLUSIVE);
    }

    /**
     * Like {@link #lockSharedSlow(AcquireContext)}, but gives up if the thread is interrupted; the
     * context stays in its backed-off state, so the call can be repeated.
     *
     * @param ctx the transaction that backed off on this lock
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException as {@link WwMutex#lockSlow(AcquireContext)}
     */
    public void lockSharedSlowInterruptibly(AcquireContext ctx) throws InterruptedException {
        ctx.checkLockSlow(this, wwClass);
        slowInterruptibly(ctx, SHARED | INTERRUPTIBLE);
    }

    /**
     * Like {@link #lockSlow(AcquireContext)}, but gives up if the thread is interrupted; the
     * context stays in its backed-off state, so the call can be repeated.
     *
     * @param ctx the transaction that backed off on this lock
     * @throws InterruptedException if interrupted; nothing was acquired
     * @throws WwMisuseException as {@link WwMutex#lockSlow(AcquireContext)}
     */
    public void lockSlowInterruptibly(AcquireContext ctx) throws InterruptedException {
        ctx.checkLockSlow(this, wwClass);
        slowInterruptibly(ctx, EXCLUSIVE | INTERRUPTIBLE);
    }

    /**
     * Releases {@code ctx}'s hold of this lock, shared or exclusive, and grants it to the waiters
     * that can now have it.
     *
     * @param ctx the holding transaction
     * @throws WwMisuseException ({@link WwMisuseException.Rule#UNLOCK_NOT_HELD}) if {@code ctx}
     *     does not hold it, ({@link WwMisuseException.Rule#UNLOCK_FOREIGN}) if called from another
     *     thread than {@code ctx}'s
     */
    public void unlock(AcquireContext ctx) {
        Thread me = Thread.currentThread();
        if (ctx.owner() != me) {
            throw new WwMisuseException(UNLOCK_FOREIGN, me + " called unlock(" + ctx + ") on "
                    + describe() + ", a context of " + ctx.owner());
        }
        Checker.released(this);                       // before the release: if it throws, nothing changed
        if (!release(ctx)) {
            throw new WwMisuseException(UNLOCK_NOT_HELD, me + " called unlock(" + ctx + ") on "
                    + describe() + ", which that context does not hold");
        }
        ctx.onReleased(this);
    }

    // ------------------------------------------------------------ queries

    /**
     * Tells whether {@code ctx} holds this lock, in either mode. A snapshot.
     *
     * @param ctx a context
     * @return {@code true} if {@code ctx} holds it shared or exclusively
     */
    public boolean isHeldBy(AcquireContext ctx) {
        return holdMode(ctx) != null;
    }

    /**
     * Tells whether {@code ctx} holds this lock exclusively. A snapshot.
     *
     * @param ctx a context
     * @return {@code true} if {@code ctx} is the writer
     */
    public boolean isHeldExclusivelyBy(AcquireContext ctx) {
        return holdMode(ctx) == Boolean.TRUE;
    }

    /**
     * Tells whether a writer holds this lock. A snapshot, for monitoring.
     *
     * @return {@code true} if held exclusively
     */
    public boolean isWriteLocked() {
        lockQueue();
        try {
            return writer != null;
        } finally {
            unlockQueue();
        }
    }

    /**
     * The number of contexts holding this lock shared. A snapshot, for monitoring.
     *
     * @return the number of readers
     */
    public int readerCount() {
        lockQueue();
        try {
            return readerCount;
        } finally {
            unlockQueue();
        }
    }

    /**
     * The number of queued requests. A snapshot, for monitoring.
     *
     * @return the number of waiters
     */
    public int waiterCount() {
        lockQueue();
        try {
            int n = 0;
            for (Node w = head; w != null; w = next(head, w)) {
                n++;
            }
            return n;
        } finally {
            unlockQueue();
        }
    }

    /** A short name for messages: identity and class. */
    String describe() {
        return "WwSharedMutex@" + Integer.toHexString(System.identityHashCode(this)) + "("
                + wwClass.name() + ")";
    }

    /**
     * Describes the lock: class, writer or number of readers, and waiters. The counts are read
     * under the spin bit, the text built after.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        AcquireContext w;
        int r;
        int waiting = 0;
        lockQueue();
        try {
            w = writer;
            r = readerCount;
            for (Node n = head; n != null; n = next(head, n)) {
                waiting++;
            }
        } finally {
            unlockQueue();
        }
        return describe() + "[" + (w != null ? "written by context #" + w.stamp()
                : r > 0 ? r + " reader(s)" : "unlocked") + (waiting > 0 ? ", " + waiting + " waiting" : "")
                + "]";
    }

    /** TRUE if {@code ctx} writes, FALSE if it reads, null if it holds nothing. */
    private Boolean holdMode(AcquireContext ctx) {
        if (ctx == null) {
            return null;
        }
        lockQueue();
        try {
            return writer == ctx ? Boolean.TRUE : findReader(ctx) != null ? Boolean.FALSE : null;
        } finally {
            unlockQueue();
        }
    }

    /**
     * For the contended-lock event: the writer, else the oldest reader other than {@code waiter},
     * else {@code null}. A snapshot read under the bit.
     */
    AcquireContext blockingHolder(AcquireContext waiter) {
        lockQueue();
        try {
            if (writer != null) {
                return writer;
            }
            AcquireContext oldest = null;
            for (Node r = readers; r != null; r = next(readers, r)) {
                if (r.ctx != waiter && (oldest == null || WwClass.isOlder(r.ctx.stamp(), oldest.stamp()))) {
                    oldest = r.ctx;
                }
            }
            return oldest;
        } finally {
            unlockQueue();
        }
    }

    // ------------------------------------------------------------ the algorithm

    private LockResult lockWithContext(AcquireContext ctx, int mode) throws BackoffException {
        Checker.acquiring(this);
        int r = acquire(ctx, mode);
        return finish(ctx, r, mode);
    }

    private LockResult lockInterruptibly(AcquireContext ctx, int mode)
            throws BackoffException, InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Checker.acquiring(this);
        int r = acquire(ctx, mode);
        if (r == INTERRUPTED) {
            throw new InterruptedException();
        }
        return finish(ctx, r, mode);
    }

    private LockResult tryLockWithContext(AcquireContext ctx, int mode) {
        int r = acquire(ctx, mode);
        switch (r) {
            case ACQUIRED -> {
                ctx.recordAcquired(this);
                return LockResult.ACQUIRED;
            }
            case UPGRADED -> {
                return LockResult.UPGRADED;
            }
            case ALREADY_HELD -> {
                return LockResult.ALREADY_HELD;
            }
            default -> {
                return LockResult.BUSY;
            }
        }
    }

    /** Maps a blocking outcome to the caller's result; throws the back-off. */
    private LockResult finish(AcquireContext ctx, int r, int mode) throws BackoffException {
        switch (r) {
            case ACQUIRED -> {
                ctx.onAcquired(this, (mode & EXCLUSIVE) == 0);
                return LockResult.ACQUIRED;
            }
            case UPGRADED -> {
                return LockResult.UPGRADED;
            }
            case ALREADY_HELD -> {
                return LockResult.ALREADY_HELD;
            }
            default -> throw ctx.backoff(this, r == WOUNDED ? BackoffException.Reason.WOUNDED
                    : r == POLITE ? BackoffException.Reason.POLITE
                    : BackoffException.Reason.DIED, ctx.olderStamp, (mode & EXCLUSIVE) == 0);
        }
    }

    private void slow(AcquireContext ctx, int mode) {
        Checker.acquiring(this);
        int r = acquire(ctx, mode);
        assert r == ACQUIRED : r;
        ctx.recordAcquired(this);
    }

    private void slowInterruptibly(AcquireContext ctx, int mode) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Checker.acquiring(this);
        if (acquire(ctx, mode) == INTERRUPTED) {
            throw new InterruptedException();
        }
        ctx.recordAcquired(this);
    }

    /**
     * Takes the lock in {@code mode}, or queues and waits. Returns ACQUIRED, UPGRADED,
     * ALREADY_HELD, BUSY (POLL only), INTERRUPTED, DIED, WOUNDED or POLITE; on any outcome but
     * ACQUIRED and UPGRADED the holders are as before and the thread is not queued.
     */
    private int acquire(AcquireContext ctx, int mode) {
        ctx.beforeAcquire();
        boolean exclusive = (mode & EXCLUSIVE) != 0;
        Node mine = new Node(ctx, exclusive, false);     // before the bit: the holder record
        int r = tryTake(mine, mode);
        if (r != WAIT && r != WAIT_UPGRADE) {
            return r;
        }
        if (wwClass.policy().woundedNow(ctx)) {
            return WOUNDED;                               // the kernel's check before queueing
        }
        Node w = r == WAIT_UPGRADE ? new Node(ctx, true, true) : mine;
        WwEvents.ContendedLock event = WwEvents.beginContended(this, ctx,
                w.upgrade ? "upgrade" : exclusive ? "exclusive" : "shared");
        r = enqueueOrTake(w);
        if (r != WAIT && r != WAIT_FIRST) {
            return r;
        }
        Counters counters = wwClass.counters;
        counters.add(Counters.CONTENDED, 1);
        long start = System.nanoTime();
        r = awaitTurn(w, mode, r == WAIT_FIRST ? SPINS : 0);
        counters.add(Counters.WAIT_NANOS, System.nanoTime() - start);
        WwEvents.endContended(event, outcomeName(r));
        return r;
    }

    /** The contended-lock event's name for an outcome of {@link #awaitTurn}. */
    private static String outcomeName(int outcome) {
        return switch (outcome) {
            case ACQUIRED, UPGRADED -> "acquired";
            case INTERRUPTED -> "interrupted";
            case DIED -> "died";
            case WOUNDED -> "wounded";
            default -> "unknown";                    // no exception: the outcome has taken effect
        };
    }

    /**
     * The fast path under the bit: already held, an upgrade or a request that the queue rule
     * grants at once, or BUSY for a poll; else WAIT, or WAIT_UPGRADE for an exclusive request of
     * a context that holds the lock shared beside other readers (only the context's own thread
     * changes what it holds, so that stays true until it queues).
     */
    private int tryTake(Node mine, int mode) {
        AcquireContext ctx = mine.ctx;
        lockQueue();
        try {
            if (writer == ctx) {
                return ALREADY_HELD;
            }
            Node held = findReader(ctx);
            if (held != null && !mine.exclusive) {
                return ALREADY_HELD;
            }
            if (held != null) {
                if (readerCount == 1) {
                    upgradeHeld(held);
                    return UPGRADED;
                }
            } else if (grantableNow(mine)) {
                admit(mine);
                return ACQUIRED;
            }
            return (mode & POLL) != 0 ? BUSY : held != null ? WAIT_UPGRADE : WAIT;
        } finally {
            unlockQueue();
        }
    }

    /**
     * Under the bit again: takes the lock if it has become free for this request; otherwise the
     * wait-die check and the polite check, then queues {@code w} and (wound-wait) wounds the
     * younger holders. Returns WAIT_FIRST instead of WAIT if {@code w} is first in the queue.
     */
    private int enqueueOrTake(Node w) {
        AcquireContext ctx = w.ctx;
        lockQueue();
        try {
            if (w.upgrade) {
                Node held = findReader(ctx);
                if (readerCount == 1) {
                    upgradeHeld(held);
                    return UPGRADED;
                }
            } else if (grantableNow(w)) {
                admit(w);
                return ACQUIRED;
            }
            if (ctx.acquired > 0) {
                if (wwClass.policy().diesBeforeQueue(this, w)) {
                    return DIED;
                }
                if (ctx.backsOffPolitely()) {
                    return POLITE;
                }
            }
            enqueue(w);
            if (ctx.acquired > 0) {
                wwClass.policy().queued(this, ctx);    // wound-wait wounds younger holders
            }
            return head == w ? WAIT_FIRST : WAIT;
        } finally {
            unlockQueue();
        }
    }

    /**
     * Waits, queued, until granted or until {@link #look} ends the wait. It first spins {@code
     * spins} times (the first waiter: a holder with a short critical section then hands over
     * without a park and a wake-up); a granter's unpark that finds it spinning leaves a permit,
     * which only makes one later park return at once, and the loop looks again.
     */
    private int awaitTurn(Node w, int mode, int spins) {
        AcquireContext ctx = w.ctx;
        boolean interruptible = (mode & INTERRUPTIBLE) != 0;
        ConflictPolicy policy = wwClass.policy();
        boolean interrupted = false;
        int result;
        try {
            for (;;) {
                while (!w.granted && !w.recheck && !(ctx.acquired > 0 && ctx.woundedAcquire())
                        && !(interruptible && Thread.currentThread().isInterrupted())) {
                    if (spins > 0) {
                        spins--;
                        Thread.onSpinWait();
                        continue;
                    }
                    LockSupport.park(this);
                    if (!interruptible && Thread.interrupted()) {
                        interrupted = true;
                    }
                }
                if (w.granted) {
                    result = w.upgrade ? UPGRADED : ACQUIRED;
                    break;
                }
                boolean wounded = policy.woundedNow(ctx);
                lockQueue();
                try {
                    result = look(w, interruptible, wounded);
                } finally {
                    unlockQueue();
                }
                if (result != WAIT) {
                    break;
                }
            }
        } catch (Throwable t) {
            abandon(w);
            throw t;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return result;
    }

    /** A queued waiter looks at its fate under the bit: granted, must back off, interrupted, or wait on. */
    private int look(Node w, boolean interruptible, boolean wounded) {
        if (w.granted) {
            return w.upgrade ? UPGRADED : ACQUIRED;
        }
        w.recheck = false;
        int result = wounded ? WOUNDED
                : w.ctx.acquired > 0 && wwClass.policy().diesQueued(this, w) ? DIED
                : WAIT;
        if (result == WAIT && interruptible && Thread.interrupted()) {
            result = INTERRUPTED;
        }
        if (result != WAIT) {
            dequeue(w);
        }
        return result;
    }

    /** A waiter leaves on a throwable: unlinks it, or gives back what it was granted meanwhile. */
    private void abandon(Node w) {
        boolean granted;
        lockQueue();
        try {
            granted = w.granted;
            if (!granted && w.next != null) {
                dequeue(w);
            }
        } finally {
            unlockQueue();
        }
        if (granted && !w.upgrade) {
            release(w.ctx);
        } else if (granted) {
            downgrade(w.ctx);
        }
    }

    /** Gives back an upgrade granted to a waiter that left on a throwable: shared again. */
    private void downgrade(AcquireContext ctx) {
        Node back = new Node(ctx, false, false);
        lockQueue();
        try {
            writer = null;
            addReader(back);
            grantWaiters();
        } finally {
            unlockQueue();
        }
    }

    /**
     * Releases {@code ctx}'s hold, if any, and grants the waiters that can now have the lock.
     *
     * @return {@code false} if {@code ctx} held nothing
     */
    private boolean release(AcquireContext ctx) {
        lockQueue();
        try {
            if (writer == ctx) {
                writer = null;
            } else {
                Node r = findReader(ctx);
                if (r == null) {
                    return false;
                }
                removeReader(r);
            }
            grantWaiters();
            return true;
        } finally {
            unlockQueue();
        }
    }

    // ------------------------------------------------------------ under the spin bit

    /**
     * Whether a new (not queued, not upgrade) request would be granted from the queue now: it is
     * compatible with the holders and no older request waits (every waiting request, an upgrade
     * included, closes the gate for the younger ones).
     */
    private boolean grantableNow(Node n) {
        return compatible(n) && (head == null || WwClass.isOlder(n.ctx.stamp(), head.ctx.stamp()));
    }

    /** Compatibility with the holders: shared needs no writer, exclusive no holder at all. */
    private boolean compatible(Node n) {
        return writer == null && (!n.exclusive || readerCount == 0);
    }

    /** An upgrade can be granted: its context is the only holder. */
    private boolean upgradable(Node n) {
        return writer == null && readerCount == 1 && readers.ctx == n.ctx;
    }

    /**
     * Grants, from the head, every request that the rule allows (see the Overview): upgrades
     * whenever their context is the only holder, the others in order while compatible.
     */
    private void grantWaiters() {
        boolean open = true;
        Node c = head;
        while (c != null) {
            Node following = next(head, c);
            if (c.upgrade) {
                if (upgradable(c)) {
                    unlink(c);
                    upgradeHeld(readers);
                    grant(c);
                } else {
                    open = false;
                }
            } else if (open && compatible(c)) {
                unlink(c);
                admit(c);
                grant(c);
            } else {
                open = false;
            }
            c = following;
        }
    }

    private static void grant(Node c) {
        c.granted = true;
        if (c.thread != Thread.currentThread()) {
            LockSupport.unpark(c.thread);
        }
    }

    /** Makes {@code n} a holder in its mode, then applies the rules to the waiters. */
    private void admit(Node n) {
        if (n.exclusive) {
            writer = n.ctx;
        } else {
            addReader(n);
        }
        wwClass.policy().admitted(this, n.ctx);
    }

    /** The sole reader {@code held} becomes the writer. */
    private void upgradeHeld(Node held) {
        removeReader(held);
        writer = held.ctx;
        wwClass.policy().admitted(this, held.ctx);
    }

    /** Wakes a queued request so that it looks at its fate again. Bit held. */
    static void askToLook(Node w) {
        w.recheck = true;
        LockSupport.unpark(w.thread);
    }

    /** Whether a holder other than {@code ctx} is older; records its stamp. Bit held. */
    boolean olderHolder(AcquireContext ctx) {
        if (writer != null && writer != ctx && WwClass.isOlder(writer.stamp(), ctx.stamp())) {
            ctx.olderStamp = writer.stamp();
            return true;
        }
        for (Node r = readers; r != null; r = next(readers, r)) {
            if (r.ctx != ctx && WwClass.isOlder(r.ctx.stamp(), ctx.stamp())) {
                ctx.olderStamp = r.ctx.stamp();
                return true;
            }
        }
        return false;
    }

    /**
     * Wound-wait: finds a queued request of another context that holds locks and is older than
     * {@code ctx}, which holds this lock; records its stamp. Every such request waits for every
     * holder (see the Overview). Called by the holder, holding no other spin bit.
     */
    boolean hasOlderWaiterHoldingLocks(AcquireContext ctx) {
        lockQueue();
        try {
            for (Node c = head; c != null; c = next(head, c)) {
                if (c.ctx != ctx && c.ctx.acquired > 0 && WwClass.isOlder(c.ctx.stamp(), ctx.stamp())) {
                    ctx.olderStamp = c.ctx.stamp();
                    return true;
                }
            }
            return false;
        } finally {
            unlockQueue();
        }
    }

    /** Inserts {@code w} after the last older request; wait-die wakes younger lock-holders behind it. */
    private void enqueue(Node w) {
        Node pos = null;                              // insert before pos; null means at the tail
        if (head != null) {
            for (Node c = head; c != null; c = next(head, c)) {
                if (WwClass.isOlder(w.ctx.stamp(), c.ctx.stamp())) {
                    pos = c;
                    break;
                }
            }
        }
        if (pos != null) {
            wwClass.policy().overtakenFrom(this, pos);   // wait-die: younger lock-holders die
        }
        if (head == null) {
            head = w;
            w.next = w.prev = w;
            return;
        }
        Node before = pos != null ? pos : head;
        w.next = before;
        w.prev = before.prev;
        before.prev.next = w;
        before.prev = w;
        if (pos == head) {
            head = w;
        }
    }

    /** A waiter gives up: unlinks it and grants whoever it held up. */
    private void dequeue(Node w) {
        unlink(w);
        grantWaiters();
    }

    private void unlink(Node w) {
        if (w.next == w) {
            head = null;
        } else {
            w.prev.next = w.next;
            w.next.prev = w.prev;
            if (head == w) {
                head = w.next;
            }
        }
        w.next = w.prev = null;
    }

    private void addReader(Node n) {
        if (readers == null) {
            readers = n;
            n.next = n.prev = n;
        } else {
            n.next = readers;
            n.prev = readers.prev;
            readers.prev.next = n;
            readers.prev = n;
        }
        readerCount++;
    }

    private void removeReader(Node n) {
        if (n.next == n) {
            readers = null;
        } else {
            n.prev.next = n.next;
            n.next.prev = n.prev;
            if (readers == n) {
                readers = n.next;
            }
        }
        n.next = n.prev = null;
        readerCount--;
    }

    private Node findReader(AcquireContext ctx) {
        for (Node r = readers; r != null; r = next(readers, r)) {
            if (r.ctx == ctx) {
                return r;
            }
        }
        return null;
    }

    /** The exclusive holder, or null. Bit held. */
    AcquireContext writer() {
        return writer;
    }

    /** The first shared holder's record, or null; go on with {@link #next}. Bit held. */
    Node firstReader() {
        return readers;
    }

    /** The first queued request, or null; go on with {@link #next}. Bit held. */
    Node firstRequest() {
        return head;
    }

    /** The node after {@code n} in the circular list starting at {@code first}, or null at the end. */
    static Node next(Node first, Node n) {
        Node x = n.next;
        return x == first ? null : x;
    }

    // ------------------------------------------------------------ the spin bit

    /** Takes the spin bit; never throws (a virtual thread's failed yield is swallowed). */
    private void lockQueue() {
        for (int spins = 0; ; spins++) {
            int s = state;
            if ((s & QLOCKED) == 0 && STATE.compareAndSet(this, s, s | QLOCKED)) {
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
        state = state & ~QLOCKED;                     // volatile store: releases everything guarded
        if (AsyncWaiter.wakes != null) {
            AsyncWaiter.dispatchWakes();              // asynchronous waiters wounded under the bit
        }
    }

    // VarHandle mechanics
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(WwSharedMutex.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        Class<?> ensureLoaded = LockSupport.class; // avoid class loading in the first park
        WwSharedMutex probe = new WwSharedMutex(WwClass.woundWait("link"));
        probe.lockQueue();                           // link the CAS call site now (it allocates)
        probe.unlockQueue();
    }
}
