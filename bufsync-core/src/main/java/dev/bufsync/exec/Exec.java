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
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

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
 * <p><b>Without blocking.</b> {@link #lockAllAsync} locks a known set as a chain of futures: no
 * thread waits for a lock meanwhile (back-off = unlock all, wait for the contended object
 * asynchronously, retry, keeping the stamp), and the future completes with the exec holding
 * everything. That exec belongs to the transaction, not to a thread: {@link #attach()} it in the
 * thread that adds fences, and close it from any thread.
 *
 * <pre>{@code
 * Exec.lockAllAsync(job.buffers(), 1, executor).thenAccept(exec -> {
 *     try (exec) {
 *         exec.attach();                                     // this thread acts for it now
 *         for (HasReservation o : exec.locked()) o.reservation().addFence(done, Usage.WRITE);
 *     }
 * });
 * }</pre>
 *
 * <p><b>Caveats.</b> An exec from {@link #begin} belongs to the thread that began it, and it takes
 * one {@link AcquireContext} of the class of the first object it locks; all objects must share
 * that class. {@link #close()} must run (use try-with-resources); it releases everything it can even
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
     *
     * An exec of lockAllAsync has no owner thread: its steps (AsyncLocking) run one after
     * another in whichever thread completed the previous step, ordered by those completions,
     * and afterwards its transferable context is what admits one thread at a time (attach, or
     * the attach that close makes for its call).
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
    private final Thread owner;               // null for an exec of lockAllAsync: its context guards it
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

    private Exec(boolean interruptible, boolean ignoreDuplicates, Thread owner) {
        this.interruptible = interruptible;
        this.ignoreDuplicates = ignoreDuplicates;
        this.owner = owner;
    }

    /**
     * Begins a transaction on the current thread.
     *
     * @param options interruptible waits, ignored duplicates
     * @return a new exec; close it
     */
    public static Exec begin(Option... options) {
        return new Exec(has(options, Option.INTERRUPTIBLE), has(options, Option.IGNORE_DUPLICATES),
                Thread.currentThread());
    }

    private static boolean has(Option[] options, Option option) {
        for (Option o : options) {
            if (o == option) {
                return true;
            }
        }
        return false;
    }

    /**
     * Locks every object of {@code objs}, in order, and reserves {@code slots} fence slots on each
     * (as {@link #prepare(HasReservation, int)} for each element), without blocking any thread:
     * the drm_exec loop as a chain of futures. A back-off unlocks everything, waits for the
     * contended object with {@link dev.bufsync.ww.WwMutex#lockSlowAsync}, and starts again,
     * keeping the transaction's stamp, so it cannot starve. Waiting requests sit in the mutexes'
     * queues; whoever releases one hands the next step to {@code executor}.
     *
     * <p>The future completes with an exec in the locked phase whose context is
     * {@linkplain AcquireContext#isTransferable() transferable} and detached: {@link #attach()}
     * it in the thread that adds fences (a reservation checks that its lock is held by the
     * calling thread), and {@link #close()} it from any one thread. If locking fails (a
     * duplicate without {@link Option#IGNORE_DUPLICATES}, objects of two classes, a refusing
     * executor) the exec is closed and the future fails with the cause. Cancelling the future (or
     * completing it from outside, a timeout included) withdraws the pending request and closes the
     * exec: nothing stays locked. {@link Option#INTERRUPTIBLE} has no meaning here (no thread
     * waits); cancel instead.
     *
     * @param objs the objects, in locking order; not null, no null element
     * @param slots fence slots to reserve on each, not negative
     * @param executor runs the steps after each wait, and the stages that depend on the future
     * @param options {@link Option#IGNORE_DUPLICATES}
     * @return a future of the exec holding every object
     * @throws IllegalArgumentException if {@code slots} is negative
     * @throws NullPointerException naming the index of a null element
     * @throws dev.bufsync.ww.WwMisuseException if the calling thread has a context of the
     *     objects' class attached
     */
    public static CompletableFuture<Exec> lockAllAsync(Collection<? extends HasReservation> objs, int slots,
            Executor executor, Option... options) {
        Objects.requireNonNull(executor, "executor");
        if (slots < 0) {
            throw new IllegalArgumentException("lockAllAsync: negative slot count " + slots);
        }
        List<HasReservation> list = new ArrayList<>(objs);
        for (int i = 0; i < list.size(); i++) {
            int at = i;
            Objects.requireNonNull(list.get(i), () -> "lockAllAsync: objs[" + at + "] is null");
        }
        Exec exec = new Exec(false, has(options, Option.IGNORE_DUPLICATES), null);
        exec.phase = Phase.LOCKING;
        if (!list.isEmpty()) {
            exec.ctx = list.get(0).reservation().mutex().wwClass().beginTransferable();
            exec.ctx.detach();
        }
        return new AsyncLocking(exec, list, slots, executor).start();
    }

    /**
     * Attaches the context of an exec from {@link #lockAllAsync} to the current thread (see
     * {@link AcquireContext#attach()}): from then on this thread holds its objects, may add
     * fences and unlock, until it {@linkplain #detach() detaches} it or closes the exec.
     *
     * @throws IllegalStateException if this exec belongs to a thread (from {@link #begin})
     * @throws dev.bufsync.ww.WwMisuseException if another thread has it attached
     */
    public void attach() {
        transferableContext("attach").attach();
    }

    /**
     * Detaches the context of an exec from {@link #lockAllAsync} from the current thread, so
     * that another thread may {@linkplain #attach() attach} it.
     *
     * @throws IllegalStateException if this exec belongs to a thread (from {@link #begin})
     * @throws dev.bufsync.ww.WwMisuseException if it is not attached to this thread
     */
    public void detach() {
        transferableContext("detach").detach();
    }

    private AcquireContext transferableContext(String op) {
        if (owner != null) {
            throw new IllegalStateException(op + " on an Exec of " + owner.getName()
                    + "; only an exec from lockAllAsync moves between threads");
        }
        if (phase == Phase.CLOSED) {
            throw new IllegalStateException(op + " on a closed Exec");
        }
        return ctx;
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
     * @throws dev.bufsync.ww.WwMisuseException for an exec of {@link #lockAllAsync}, if another
     *     thread has its context attached (nothing is released then)
     * @throws RuntimeException the first failure of an unlock or of closing the context, after
     *     everything that could be released was
     */
    @Override
    public void close() {
        if (phase == Phase.CLOSED) {
            return;
        }
        checkOwner("close");
        if (owner == null && ctx != null && ctx.owner() != Thread.currentThread()) {
            ctx.attach();                           // any one thread closes a transferable exec
        }
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
        if (owner != null && Thread.currentThread() != owner) {
            throw new IllegalStateException(op + " on an Exec of " + owner.getName() + " from "
                    + Thread.currentThread().getName() + "; an Exec belongs to the thread that began it");
        }
        if (phase == Phase.CLOSED) {
            throw new IllegalStateException(op + " on a closed Exec");
        }
    }

    /**
     * The drm_exec loop of {@link #lockAllAsync} as a chain of futures. Each step runs in the
     * thread that completed the previous one (the caller, or the executor of a waited-for lock);
     * the steps are sequential, each ordered after the last by the completion of its future, so
     * the exec's plain fields pass from step to step. Locks that complete within their call are
     * taken in a loop, without a stage per object. Between steps the context is detached.
     */
    private static final class AsyncLocking {
        private final Exec exec;
        private final List<HasReservation> objs;
        private final int slots;
        private final Executor executor;
        private final Result result = new Result();
        private volatile CompletableFuture<?> pending;  // the lock being waited for, to cancel it

        AsyncLocking(Exec exec, List<HasReservation> objs, int slots, Executor executor) {
            this.exec = exec;
            this.objs = objs;
            this.slots = slots;
            this.executor = executor;
        }

        CompletableFuture<Exec> start() {
            lockFrom(0).whenComplete((e, failure) -> {
                if (failure != null) {
                    result.fail(failure instanceof CompletionException c ? c.getCause() : failure);
                } else if (!result.settle(e)) {
                    e.close();                         // cancelled meanwhile: release it all
                }
            });
            return result;
        }

        /** Locks objs from {@code start} on; a future of the exec, locked or failed (closed). */
        private CompletableFuture<Exec> lockFrom(int start) {
            for (int i = start; i < objs.size(); i++) {
                if (result.isDone()) {
                    return fail(new CancellationException("lockAllAsync was cancelled"));
                }
                Reservation resv = objs.get(i).reservation();
                if (resv == exec.prelocked) {
                    exec.prelocked = null;             // the slow path took it before this run
                    continue;
                }
                CompletableFuture<LockResult> f;
                try {
                    f = resv.mutex().lockAsync(exec.ctx, executor);
                } catch (Throwable t) {
                    return fail(t);
                }
                if (!f.isDone()) {
                    pending = f;
                    if (result.isDone()) {
                        f.cancel(false);               // cancelled while we queued: withdraw
                    }
                    int at = i;
                    return f.handle((r, t) -> f).thenCompose(done -> {
                        CompletableFuture<Exec> detour = afterLock(at, done);
                        return detour != null ? detour : lockFrom(at + 1);
                    });
                }
                CompletableFuture<Exec> detour = afterLock(i, f);
                if (detour != null) {
                    return detour;
                }
            }
            return finish();
        }

        /**
         * The lock of objs[i] has completed.
         *
         * @return {@code null} to go on with the next object, else the rest of the transaction
         */
        private CompletableFuture<Exec> afterLock(int i, CompletableFuture<LockResult> f) {
            HasReservation obj = objs.get(i);
            LockResult r;
            try {
                r = f.join();
            } catch (CompletionException e) {
                return e.getCause() instanceof BackoffException ? retry(obj) : fail(e.getCause());
            } catch (CancellationException e) {
                return fail(e);
            }
            if (r == LockResult.ALREADY_HELD) {
                return exec.ignoreDuplicates ? null : fail(new ExecDuplicateException(obj));
            }
            exec.locked.add(obj);
            return null;
        }

        /** Back-off: release everything, wait for the contended object, start again. */
        private CompletableFuture<Exec> retry(HasReservation obj) {
            exec.retries++;
            try {
                exec.ctx.unlockAll();                  // attaches for the call: never blocks
            } catch (Throwable t) {
                return fail(t);
            } finally {
                exec.locked.clear();
                exec.prelocked = null;
            }
            ExecEvents.retry(exec.ctx, obj, exec.retries);
            Reservation resv = obj.reservation();
            CompletableFuture<LockResult> f = resv.mutex().lockSlowAsync(exec.ctx, executor);
            pending = f;
            if (result.isDone()) {
                f.cancel(false);
            }
            return f.handle((r, t) -> t).thenCompose(t -> {
                if (t != null) {
                    return fail(t instanceof CompletionException c ? c.getCause() : t);
                }
                exec.locked.add(obj);
                exec.prelocked = resv;
                return lockFrom(0);
            });
        }

        /** Everything is held: reserve the slots, end the acquire phase, detach. */
        private CompletableFuture<Exec> finish() {
            if (exec.ctx != null) {
                exec.ctx.attach();
                try {
                    for (HasReservation obj : objs) {
                        obj.reservation().reserveFences(slots);
                    }
                    exec.ctx.acquireDone();
                } catch (Throwable t) {
                    exec.ctx.detach();
                    return fail(t);
                }
                exec.ctx.detach();
            }
            exec.phase = Phase.LOCKED;
            return CompletableFuture.completedFuture(exec);
        }

        /** Ends the transaction on a failure: everything released, the context closed. */
        private CompletableFuture<Exec> fail(Throwable t) {
            try {
                exec.close();
            } catch (Throwable closing) {
                t.addSuppressed(closing);
            }
            return CompletableFuture.failedFuture(t);
        }

        /**
         * The future handed to the caller: completing it from outside (cancel, a timeout)
         * withdraws the lock being waited for; the chain then closes the exec.
         */
        private final class Result extends CompletableFuture<Exec> {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                boolean cancelled = super.cancel(mayInterruptIfRunning);
                withdraw();
                return cancelled;
            }

            @Override
            public boolean complete(Exec value) {
                boolean completed = super.complete(value);
                withdraw();
                return completed;
            }

            @Override
            public boolean completeExceptionally(Throwable ex) {
                boolean completed = super.completeExceptionally(ex);
                withdraw();
                return completed;
            }

            private void withdraw() {
                CompletableFuture<?> f = pending;
                if (f != null) {
                    f.cancel(false);                   // a completed lock ignores it
                }
            }

            boolean settle(Exec e) {
                return super.complete(e);
            }

            void fail(Throwable t) {
                super.completeExceptionally(t);
            }
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
