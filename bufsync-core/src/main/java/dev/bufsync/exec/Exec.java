package dev.bufsync.exec;

import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.LockResult;
import dev.bufsync.ww.WwSharedMutex;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A lock-all transaction: locks every object an operation touches, in the order the operation
 * discovers them, retrying by itself when it must back off, so that callers never write the
 * wound/wait back-off loop (the kernel's {@code drm_exec}). Any object that
 * {@linkplain HasReservation has a reservation} can be locked.
 *
 * <pre>{@code
 * try (Exec exec = Exec.begin()) {
 *     exec.untilAllLocked(e -> {
 *         for (Buffer b : job.buffers()) e.prepare(b, 1);   // lock + reserve one fence slot
 *     });
 *     for (HasReservation o : exec.locked()) o.reservation().addFence(done, Usage.WRITE);
 * }                                                          // unlocks all, ends the transaction
 * }</pre>
 *
 * <p>The body passed to {@link #untilAllLocked} locks objects with {@link #lock} or
 * {@link #prepare}. When one of them must back off, the exec unwinds the body with an internal
 * unchecked exception (do not catch it: let {@code RuntimeException}s you do not own pass),
 * unlocks everything, blocks on the contended object with the slow path, and runs the body
 * again; the contended object is then already locked and counts as newly locked when the body
 * locks it again. A body that catches the signal anyway cannot go on silently: every later lock
 * signals again, and if the body returns normally {@code untilAllLocked} releases everything and
 * throws an {@link IllegalStateException} naming the rule. After the body completes the acquire
 * phase is over; iterate {@link #locked()}, add fences, and close.
 *
 * <p><b>Shared locks.</b> Objects guarded by a {@link WwSharedMutex} (of the same class) join the
 * same transaction with {@link #lockShared(WwSharedMutex)} (to read) and
 * {@link #lockExclusive(WwSharedMutex)} (to write; an upgrade if the exec holds it shared); a
 * back-off on one is retried like any other, and {@link #close()} releases both kinds.
 *
 * <p><b>Options.</b> {@link Option#INTERRUPTIBLE}: waits can be interrupted, and
 * {@link InterruptedException} propagates out of {@code untilAllLocked} (close still unlocks
 * everything). {@link Option#IGNORE_DUPLICATES}: locking an object twice is a no-op instead of an
 * {@link ExecDuplicateException}.
 *
 * <p><b>Caveats.</b> An exec belongs to the thread that began it, and it takes one
 * {@link AcquireContext} of the class of the first object it locks; all objects must share that
 * class. {@link #close()} must run (use try-with-resources); it releases everything it can even
 * when an unlock fails, and a second close does nothing.
 *
 * <p><b>Implementation notes.</b> The context begins at the first lock, so an exec that locks
 * nothing costs nothing. Retries keep the context and its stamp, so the transaction eventually
 * becomes the oldest and cannot starve.
 */
public final class Exec implements AutoCloseable {
    /*
     * Overview.
     *
     * State, confined to the owner thread: the context (null until the first lock), the list of
     * locked objects in locking order, the object that the last back-off named (`contended`, to be
     * slow-locked before the body runs again), the object locked by that slow path and not yet
     * claimed by the body (`prelocked`), the phase, and the retry count.
     *
     * The loop (drm_exec_until_all_locked / drm_exec_retry_on_contention):
     *   run the body;
     *   on Contention: unlock all in reverse, slow-lock the contended object, record it as
     *                  locked and prelocked, run the body again;
     *   when the body completes: acquireDone, the locked phase begins.
     * A lock of the prelocked object is not a duplicate: it consumes the mark; unlock(obj) of it
     * clears the mark too, so that the next lock really locks it.
     *
     * Exception discipline. Who may throw: the body (anything; it propagates, and close still
     * releases), a lock (Contention, InterruptedException, ExecDuplicateException, misuse), an
     * unlock or the context's close (misuse, if the caller unlocked behind the exec's back).
     * State left behind: `contended` stays set from the back-off until lockContended has taken
     * the object, so the signal is sticky - lock() rethrows it, and a body that returns normally
     * with it set is refused (ABORTED, nothing held). The retry's release and close() are loops
     * that continue past a throwable: every unlock is attempted, the list is cleared, close()
     * always closes the context and only then flips to CLOSED and rethrows the first failure
     * with the rest suppressed. A second close() returns at once.
     */

    /** What an exec does in the cases where the kernel's drm_exec takes flags. */
    public enum Option {
        /** Waits can be interrupted ({@code DRM_EXEC_INTERRUPTIBLE_WAIT}). */
        INTERRUPTIBLE,
        /** Locking an object twice is a no-op ({@code DRM_EXEC_IGNORE_DUPLICATES}). */
        IGNORE_DUPLICATES
    }

    /**
     * The body of {@link Exec#untilAllLocked}: locks the objects of the operation through the exec.
     * It may run several times and must lock the same objects each time it runs to completion.
     */
    @FunctionalInterface
    public interface Body {
        /**
         * Locks the objects of the operation.
         *
         * @param exec the exec to lock them with
         * @throws InterruptedException if a lock was interrupted ({@link Option#INTERRUPTIBLE})
         */
        void lockAll(Exec exec) throws InterruptedException;
    }

    private enum Phase { NEW, LOCKING, LOCKED, ABORTED, CLOSED }

    private final boolean interruptible;      // Option.INTERRUPTIBLE
    private final boolean ignoreDuplicates;   // Option.IGNORE_DUPLICATES
    private final Thread owner = Thread.currentThread();
    private final List<HasReservation> locked = new ArrayList<>();
    private final List<WwSharedMutex> sharedLocked = new ArrayList<>();
    private AcquireContext ctx;
    private HasReservation contended;
    private Reservation prelocked;
    private WwSharedMutex contendedShared;    // the readers-writer lock of the last back-off
    private boolean contendedSharedMode;      // ...and whether the request was shared
    private WwSharedMutex prelockedShared;    // slow-locked, not yet claimed by the body
    private Phase phase = Phase.NEW;
    private int retries;

    private Exec(boolean interruptible, boolean ignoreDuplicates) {
        this.interruptible = interruptible;
        this.ignoreDuplicates = ignoreDuplicates;
    }

    /**
     * Begins a transaction on the current thread.
     *
     * @param options interruptible waits, ignored duplicates
     * @return a new exec; close it
     */
    public static Exec begin(Option... options) {
        boolean interruptible = false;
        boolean ignoreDuplicates = false;
        for (Option o : options) {
            interruptible |= o == Option.INTERRUPTIBLE;
            ignoreDuplicates |= o == Option.IGNORE_DUPLICATES;
        }
        return new Exec(interruptible, ignoreDuplicates);
    }

    /**
     * Runs {@code body} until it has locked everything it asks for without having to back off,
     * retrying after every back-off. Runs once per exec.
     *
     * @param body locks the objects, through this exec
     * @throws InterruptedException if interrupted while waiting ({@link Option#INTERRUPTIBLE} only);
     *     objects stay locked until {@link #close()}
     * @throws IllegalStateException if called twice, after close, or from another thread; or if
     *     the body returned normally after catching the exec's contention signal (everything is
     *     unlocked then)
     */
    public void untilAllLocked(Body body) throws InterruptedException {
        checkOwner("untilAllLocked");
        if (phase != Phase.NEW) {
            throw new IllegalStateException("untilAllLocked runs once per Exec; this one is " + phase);
        }
        phase = Phase.LOCKING;
        for (;;) {
            try {
                if (contended != null) {
                    lockContended();
                } else if (contendedShared != null) {
                    lockContendedShared();
                }
                body.lockAll(this);
            } catch (Contention c) {
                retries++;
                rethrowIfAny(releaseAll());
                ExecEvents.retry(ctx, contended, retries);
                continue;
            }
            if (contended != null || contendedShared != null) {
                throw swallowed();
            }
            break;
        }
        if (ctx != null) {
            ctx.acquireDone();
        }
        phase = Phase.LOCKED;
    }

    /**
     * The body returned normally although a lock signalled a back-off: it caught the signal.
     * Releases the partial set and reports the rule broken.
     */
    private IllegalStateException swallowed() {
        String name = contended != null ? contended.reservation().name() : contendedShared.toString();
        contended = null;
        contendedShared = null;
        phase = Phase.ABORTED;
        IllegalStateException e = new IllegalStateException("the body of untilAllLocked returned normally"
                + " after lock(" + name + ") signalled a back-off: the body caught the exec's contention"
                + " signal, a RuntimeException, and went on with a partial set of locks. Rule: a body"
                + " must let RuntimeExceptions it does not own pass. Nothing is locked now; close this Exec");
        Throwable unlockFailure = releaseAll();
        if (unlockFailure != null) {
            e.addSuppressed(unlockFailure);
        }
        return e;
    }

    /**
     * Locks {@code obj} within the body of {@link #untilAllLocked}.
     *
     * @param obj the object
     * @return {@code true} if this call locked it; {@code false} if it was already locked by this
     *     exec and {@link Option#IGNORE_DUPLICATES} is set
     * @throws ExecDuplicateException if it was already locked by this exec and duplicates are not
     *     ignored
     * @throws InterruptedException if interrupted ({@link Option#INTERRUPTIBLE} only)
     * @throws IllegalStateException outside the body of {@code untilAllLocked}
     */
    public boolean lock(HasReservation obj) throws InterruptedException {
        checkOwner("lock");
        if (phase != Phase.LOCKING) {
            throw new IllegalStateException("lock(" + obj.reservation().name()
                    + ") outside untilAllLocked; this exec is " + phase);
        }
        if (contended != null || contendedShared != null) {
            throw new Contention();                 // the back-off still stands: no further lock
        }
        Reservation resv = obj.reservation();
        if (resv == prelocked) {
            prelocked = null;
            return true;
        }
        if (ctx == null) {
            ctx = resv.mutex().wwClass().begin();
        }
        LockResult r;
        try {
            r = interruptible ? resv.lockInterruptibly(ctx) : resv.lock(ctx);
        } catch (BackoffException e) {
            contended = obj;
            throw new Contention();
        }
        if (r == LockResult.ALREADY_HELD) {
            if (ignoreDuplicates) {
                return false;
            }
            throw new ExecDuplicateException(obj);
        }
        locked.add(obj);
        return true;
    }

    /**
     * Locks {@code lock} shared within the body of {@link #untilAllLocked}, for reading the object
     * it guards; other transactions may hold it shared at the same time.
     *
     * @param lock a readers-writer lock of the exec's class
     * @return {@code true} if this call locked it; {@code false} if this exec already held it (in
     *     either mode) and {@link Option#IGNORE_DUPLICATES} is set
     * @throws ExecDuplicateException if this exec already held it and duplicates are not ignored
     * @throws InterruptedException if interrupted ({@link Option#INTERRUPTIBLE} only)
     * @throws IllegalStateException outside the body of {@code untilAllLocked}
     */
    public boolean lockShared(WwSharedMutex lock) throws InterruptedException {
        return lockSharedMutex(lock, true);
    }

    /**
     * Locks {@code lock} exclusively within the body of {@link #untilAllLocked}, for writing the
     * object it guards. If this exec holds it shared, this is an upgrade (it waits for the other
     * readers under the usual wound/die rules) and counts as newly locked.
     *
     * @param lock a readers-writer lock of the exec's class
     * @return {@code true} if this call locked or upgraded it; {@code false} if this exec already
     *     held it exclusively and {@link Option#IGNORE_DUPLICATES} is set
     * @throws ExecDuplicateException if this exec already held it exclusively and duplicates are
     *     not ignored
     * @throws InterruptedException if interrupted ({@link Option#INTERRUPTIBLE} only)
     * @throws IllegalStateException outside the body of {@code untilAllLocked}
     */
    public boolean lockExclusive(WwSharedMutex lock) throws InterruptedException {
        return lockSharedMutex(lock, false);
    }

    private boolean lockSharedMutex(WwSharedMutex lock, boolean shared) throws InterruptedException {
        checkOwner(shared ? "lockShared" : "lockExclusive");
        if (phase != Phase.LOCKING) {
            throw new IllegalStateException((shared ? "lockShared(" : "lockExclusive(") + lock
                    + ") outside untilAllLocked; this exec is " + phase);
        }
        if (contended != null || contendedShared != null) {
            throw new Contention();                 // the back-off still stands: no further lock
        }
        boolean claimed = lock == prelockedShared;  // slow-locked before this run of the body
        if (claimed) {
            prelockedShared = null;
        }
        if (ctx == null) {
            ctx = lock.wwClass().begin();
        }
        LockResult r;
        try {
            r = interruptible
                    ? (shared ? lock.lockSharedInterruptibly(ctx) : lock.lockInterruptibly(ctx))
                    : (shared ? lock.lockShared(ctx) : lock.lock(ctx));
        } catch (BackoffException e) {
            contendedShared = lock;
            contendedSharedMode = shared;
            throw new Contention();
        }
        if (r == LockResult.ACQUIRED) {
            sharedLocked.add(lock);
        } else if (r == LockResult.ALREADY_HELD && !claimed) {
            if (ignoreDuplicates) {
                return false;
            }
            throw new ExecDuplicateException(lock);
        }
        return true;
    }

    /**
     * Locks {@code obj} and reserves {@code slots} fence slots on its reservation (the kernel's
     * {@code drm_exec_prepare_obj}). For a duplicate ignored with {@link Option#IGNORE_DUPLICATES}
     * the slots are still reserved, in addition to the earlier ones.
     *
     * @param obj the object
     * @param slots the number of fences that will be added to it
     * @return as {@link #lock(HasReservation)}
     * @throws ExecDuplicateException as {@link #lock(HasReservation)}
     * @throws InterruptedException if interrupted ({@link Option#INTERRUPTIBLE} only)
     */
    public boolean prepare(HasReservation obj, int slots) throws InterruptedException {
        boolean fresh = lock(obj);
        obj.reservation().reserveFences(slots);
        return fresh;
    }

    /**
     * Prepares every object of {@code objs} (the kernel's {@code drm_exec_prepare_array}).
     *
     * @param objs the objects
     * @param slots fence slots to reserve on each
     * @throws ExecDuplicateException as {@link #lock(HasReservation)}
     * @throws InterruptedException if interrupted ({@link Option#INTERRUPTIBLE} only)
     */
    public void prepare(Collection<? extends HasReservation> objs, int slots) throws InterruptedException {
        for (HasReservation obj : objs) {
            prepare(obj, slots);
        }
    }

    /**
     * Unlocks one object early (the kernel's {@code drm_exec_unlock_obj}); cheap for recently
     * locked objects. A later {@link #lock} of it in the body locks it again.
     *
     * @param obj an object this exec locked
     * @throws IllegalArgumentException if this exec does not hold it
     */
    public void unlock(HasReservation obj) {
        checkOwner("unlock");
        for (int i = locked.size() - 1; i >= 0; i--) {
            if (locked.get(i) == obj) {
                locked.remove(i);
                if (obj.reservation() == prelocked) {
                    prelocked = null;               // no longer held: the next lock must lock it
                }
                obj.reservation().unlock();
                return;
            }
        }
        throw new IllegalArgumentException("unlock(" + obj.reservation().name()
                + "): this exec does not hold it");
    }

    /**
     * The objects this exec holds, in the order they were locked.
     *
     * @return an immutable snapshot
     */
    public List<HasReservation> locked() {
        return List.copyOf(locked);
    }

    /**
     * The readers-writer locks this exec holds, shared or exclusively, in the order they were
     * locked.
     *
     * @return an immutable snapshot
     */
    public List<WwSharedMutex> lockedShared() {
        return List.copyOf(sharedLocked);
    }

    /**
     * How many times the body had to be run again after a back-off.
     *
     * @return the retry count
     */
    public int retries() {
        return retries;
    }

    /**
     * The transaction's context, or {@code null} before the first lock.
     *
     * @return the context, for diagnostics
     */
    public AcquireContext context() {
        return ctx;
    }

    /**
     * Unlocks every object, newest first, and ends the transaction. Every unlock is attempted and
     * the context is always closed, even when an unlock throws (for instance because the caller
     * unlocked an object behind the exec's back); the first failure is then rethrown, with the
     * others {@linkplain Throwable#getSuppressed() suppressed}. A second close does nothing.
     *
     * @throws IllegalStateException if called from another thread (nothing is released then)
     * @throws RuntimeException the first failure of an unlock or of closing the context, after
     *     everything that could be released was
     */
    @Override
    public void close() {
        if (phase == Phase.CLOSED) {
            return;
        }
        checkOwner("close");
        Throwable failure = releaseAll();
        if (ctx != null) {
            try {
                ctx.close();
            } catch (Throwable t) {
                failure = addFailure(failure, t);
            }
        }
        phase = Phase.CLOSED;
        rethrowIfAny(failure);
    }

    @Override
    public String toString() {
        return "Exec[" + phase + ", locked=" + (locked.size() + sharedLocked.size()) + ", retries=" + retries
                + (ctx != null ? ", " + ctx : "") + "]";
    }

    private void lockContended() throws InterruptedException {
        HasReservation obj = contended;
        Reservation resv = obj.reservation();
        if (interruptible) {
            resv.lockSlowInterruptibly(ctx);
        } else {
            resv.lockSlow(ctx);
        }
        contended = null;
        locked.add(obj);
        prelocked = resv;
    }

    private void lockContendedShared() throws InterruptedException {
        WwSharedMutex lock = contendedShared;
        if (interruptible) {
            if (contendedSharedMode) {
                lock.lockSharedSlowInterruptibly(ctx);
            } else {
                lock.lockSlowInterruptibly(ctx);
            }
        } else if (contendedSharedMode) {
            lock.lockSharedSlow(ctx);
        } else {
            lock.lockSlow(ctx);
        }
        contendedShared = null;
        sharedLocked.add(lock);
        prelockedShared = lock;
    }

    /**
     * Unlocks every object held, newest first, continuing past failures; forgets them all.
     *
     * @return the first failure, with the later ones suppressed, or {@code null}
     */
    private Throwable releaseAll() {
        Throwable failure = null;
        for (int i = locked.size() - 1; i >= 0; i--) {
            try {
                locked.get(i).reservation().unlock();
            } catch (Throwable t) {
                failure = addFailure(failure, t);
            }
        }
        for (int i = sharedLocked.size() - 1; i >= 0; i--) {
            try {
                sharedLocked.get(i).unlock(ctx);
            } catch (Throwable t) {
                failure = addFailure(failure, t);
            }
        }
        locked.clear();
        sharedLocked.clear();
        prelocked = null;
        prelockedShared = null;
        return failure;
    }

    private static Throwable addFailure(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** Rethrows an unlock or close failure: those throw only unchecked exceptions and errors. */
    private static void rethrowIfAny(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    private void checkOwner(String op) {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException(op + " on an Exec of " + owner.getName() + " from "
                    + Thread.currentThread().getName() + "; an Exec belongs to the thread that began it");
        }
        if (phase == Phase.CLOSED) {
            throw new IllegalStateException(op + " on a closed Exec");
        }
    }

    /** Unwinds the body after a back-off; never escapes untilAllLocked. */
    private static final class Contention extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Contention() {
            super("must back off: let this exception pass to Exec.untilAllLocked", null, false, false);
        }
    }
}
