package dev.bufsync.resv;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceArray;
import dev.bufsync.fence.FenceChain;
import dev.bufsync.fence.Fences;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.LockResult;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The synchronization state of one shared object: a {@link WwMutex} that writers lock, and the
 * fences of the work that uses the object, each tagged with a {@link Usage}. Readers take no lock
 * and always see a consistent snapshot; adding a fence cannot fail once a slot is reserved (the
 * kernel's {@code dma_resv}).
 *
 * <p>Usage: lock the reservations of an operation (with an {@link AcquireContext}, usually through
 * {@link dev.bufsync.exec.Exec}), reserve a slot on each, publish the operation's fence, unlock:
 *
 * <pre>{@code
 * resv.lock(ctx);                       // or exec.prepare(obj, 1)
 * resv.reserveFences(1);                // may allocate; after it, addFence cannot fail
 * resv.addFence(jobDone, Usage.WRITE);  // replaces this context's earlier fence
 * resv.unlock();                        // voids unused slots
 *
 * resv.await(Usage.beforeWrite(), timeout);  // anyone, no lock: wait for all readers and writers
 * }</pre>
 *
 * <p><b>Rules</b> (each broken rule is an {@link IllegalStateException} naming the reservation):
 * {@link #reserveFences}, {@link #addFence}, {@link #replaceFences} and {@link #copyFrom} need the
 * lock held by the calling thread; {@link #addFence} needs a reserved slot, and every release of
 * the lock ({@link #unlock()}, {@code mutex().unlock()}, the context's {@code unlockAll()} and
 * {@code close()}) voids the slots not used. A query for usage {@code U} returns the unsignalled fences of usage
 * {@code U} or stronger.
 *
 * <p><b>Adding.</b> A fence of the same context as one already attached replaces it if it is not
 * earlier and its usage is equal or stronger (promotion, never demotion); signalled fences are
 * pruned; a chain or an all-of {@link FenceArray} is added as its leaves
 * ({@link Fences#unwrap}), each taking a slot; an any-of array is added whole, in one slot.
 *
 * <p><b>The lock class.</b> {@link #DEFAULT_CLASS} is a wait-die class, like the kernel's
 * {@code reservation_ww_class}: wait-die kills a younger transaction before it queues, so under
 * contention from many threads it keeps fewer sleeping transactions holding locks (docs/resv.md
 * gives the measurements). Use another class when the objects' transactions are few and long.
 *
 * <p><b>Implementation notes.</b> The fences are an immutable list replaced on every change
 * (copy on write) and published with a release store; a reader takes it with an acquire load and
 * never restarts. A reservation without fences holds no list at all, so it costs about 104 bytes
 * with its mutex and the mutex's release hook.
 */
public final class Reservation implements HasReservation {
    /*
     * Overview.
     *
     * The writer side is the kernel's: every change happens under the mutex, after slots were
     * reserved, so the change itself cannot fail. The reader side replaces RCU with an immutable
     * FenceList published through a volatile field: writers build a new list and store it with
     * release semantics; readers load it with acquire semantics and filter it. A reader therefore
     * sees either the list before a change or the list after it, never a mix, and never has to
     * restart (the kernel's dma_resv_iter restarts when the list changes under it).
     *
     * Fields: `fences` is written by the lock holder (setRelease) and read by anyone (getAcquire);
     * `reserved` is read and written only by the lock holder, so the mutex orders it; the mutex's
     * release hook (voidReservations) zeroes it on every release, whatever path releases, while
     * the mutex is still held.
     *
     * Exception discipline. Every writer checks its arguments, then the lock, then the slots, and
     * only then changes anything: a refused call leaves the reservation as it was. The change
     * itself (a new FenceList and one release store) calls no foreign code. Readers take one
     * snapshot and call isSignaled on its fences only. Bad input (a null usage, fence or
     * timeout) is refused first, the same way whatever the state.
     */

    /** The class of reservations made without one: wait-die, like the kernel's reservation class. */
    public static final WwClass DEFAULT_CLASS = WwClass.builder("reservation")
            .algorithm(WwClass.Algorithm.WAIT_DIE).build();

    private final WwMutex mutex;
    private final String name;                 // null: described by identity
    @SuppressWarnings("unused")
    private FenceList fences;                  // FENCES: setRelease by the lock holder, getAcquire by
                                               // readers; null means empty (no store in the constructor)
    private int reserved;                      // guarded by mutex: slots reserved and not used yet

    /** Creates a reservation in {@link #DEFAULT_CLASS}. */
    public Reservation() {
        this(DEFAULT_CLASS, null);
    }

    /**
     * Creates a reservation whose mutex belongs to {@code wwClass}.
     *
     * @param wwClass the lock class; transactions lock reservations of one class together
     */
    public Reservation(WwClass wwClass) {
        this(wwClass, null);
    }

    /**
     * Creates a named reservation whose mutex belongs to {@code wwClass}.
     *
     * @param wwClass the lock class
     * @param name a name for messages and {@link #toString()}, or {@code null}
     */
    public Reservation(WwClass wwClass, String name) {
        this.mutex = new WwMutex(wwClass, this::voidReservations);
        this.name = name;
    }

    /** The mutex's release hook: the holder lets go, by whichever path; unused slots are void. */
    private void voidReservations() {
        reserved = 0;
    }

    /**
     * This reservation itself, so that a reservation can be used wherever an object that has one is
     * expected.
     *
     * @return {@code this}
     */
    @Override
    public Reservation reservation() {
        return this;
    }

    /**
     * The mutex that writers of this reservation lock.
     *
     * @return the mutex
     */
    public WwMutex mutex() {
        return mutex;
    }

    /**
     * The name given at creation, or a name derived from the identity.
     *
     * @return the name
     */
    public String name() {
        return name != null ? name : "Reservation@" + Integer.toHexString(System.identityHashCode(this));
    }

    // ------------------------------------------------------------ locking (delegates to ww)

    /**
     * Locks this reservation for a transaction; see {@link WwMutex#lock(AcquireContext)}.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED} or {@link LockResult#ALREADY_HELD}
     * @throws BackoffException if the transaction must back off
     */
    public LockResult lock(AcquireContext ctx) throws BackoffException {
        return mutex.lock(ctx);
    }

    /**
     * Locks this reservation for a transaction, interruptibly; see
     * {@link WwMutex#lockInterruptibly(AcquireContext)}.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED} or {@link LockResult#ALREADY_HELD}
     * @throws BackoffException if the transaction must back off
     * @throws InterruptedException if interrupted; nothing was acquired
     */
    public LockResult lockInterruptibly(AcquireContext ctx) throws BackoffException, InterruptedException {
        return mutex.lockInterruptibly(ctx);
    }

    /**
     * After a back-off on this reservation, blocks until the transaction holds it; see
     * {@link WwMutex#lockSlow(AcquireContext)}.
     *
     * @param ctx the transaction that backed off on this reservation
     */
    public void lockSlow(AcquireContext ctx) {
        mutex.lockSlow(ctx);
    }

    /**
     * Like {@link #lockSlow(AcquireContext)}, interruptibly.
     *
     * @param ctx the transaction that backed off on this reservation
     * @throws InterruptedException if interrupted; nothing was acquired
     */
    public void lockSlowInterruptibly(AcquireContext ctx) throws InterruptedException {
        mutex.lockSlowInterruptibly(ctx);
    }

    /**
     * Locks this reservation for a transaction only if it is free; see
     * {@link WwMutex#tryLock(AcquireContext)}.
     *
     * @param ctx the transaction
     * @return {@link LockResult#ACQUIRED}, {@link LockResult#ALREADY_HELD} or {@link LockResult#BUSY}
     */
    public LockResult tryLock(AcquireContext ctx) {
        return mutex.tryLock(ctx);
    }

    /**
     * Locks this single reservation without a transaction (the kernel's {@code dma_resv_lock(obj,
     * NULL)}), waiting uninterruptibly; see {@link WwMutex#lock()}.
     */
    public void lock() {
        mutex.lock();
    }

    /**
     * Locks this single reservation without a transaction only if it is free.
     *
     * @return {@code true} if acquired
     */
    public boolean tryLock() {
        return mutex.tryLock();
    }

    /**
     * Unlocks this reservation, voiding the fence slots reserved and not used. Every other way the
     * holder lets go voids them too: {@code mutex().unlock()}, the context's
     * {@link AcquireContext#unlockAll()} and {@link AcquireContext#close()}.
     *
     * @throws dev.bufsync.ww.WwMisuseException if the calling thread does not hold it
     */
    public void unlock() {
        mutex.unlock();
    }

    /**
     * Tells whether anyone holds this reservation's lock.
     *
     * @return {@code true} if locked
     */
    public boolean isLocked() {
        return mutex.isLocked();
    }

    // ------------------------------------------------------------ writing (lock held)

    /**
     * Reserves {@code n} more fence slots: the next {@code n} leaf fences added cannot fail. The
     * reservation lasts until the lock is released, by whichever path. Signalled fences are pruned meanwhile.
     *
     * @param n the number of slots, not negative
     * @throws IllegalArgumentException if {@code n} is negative
     * @throws IllegalStateException if the calling thread does not hold the lock
     */
    public void reserveFences(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("reserveFences(" + n + ") on " + name() + ": negative count");
        }
        checkHeld("reserveFences");
        reserved += n;
        publish(snapshot().pruned());
    }

    /**
     * The number of slots reserved and not used yet.
     *
     * @return the count (0 when the calling thread does not hold the lock)
     */
    public int reservedSlots() {
        return mutex.isHeldByCurrentThread() ? reserved : 0;
    }

    /**
     * Attaches {@code fence} with {@code usage}, using reserved slots; a chain or an all-of array
     * is added as its leaves, one slot each (an any-of array is one leaf). A fence of a context already present replaces the earlier
     * entry if its usage is equal or stronger; signalled fences are dropped.
     *
     * @param fence the fence of the work that uses the object
     * @param usage how that work uses it
     * @throws IllegalStateException if the calling thread does not hold the lock, or not enough
     *     slots are reserved (nothing is added then)
     */
    public void addFence(Fence fence, Usage usage) {
        Objects.requireNonNull(fence, "fence");
        requireUsage(usage);
        checkHeld("addFence");
        List<Fence> leaves = Fences.unwrap(fence);
        if (leaves.size() > reserved) {
            throw new IllegalStateException("addFence on " + name() + " needs " + leaves.size()
                    + " reserved slot(s) for " + fence + " but " + reserved
                    + " are reserved; call reserveFences before adding (unlock voids reservations)");
        }
        reserved -= leaves.size();
        FenceList list = snapshot();
        for (int i = 0; i < leaves.size(); i++) {     // indexed: no iterator for a lone leaf
            list = list.plus(leaves.get(i), usage);
        }
        publish(list);
    }

    /**
     * Replaces every fence of {@code context} with {@code replacement} at {@code usage} (the
     * kernel's {@code dma_resv_replace_fences}), for example a preemption fence by the fence of
     * the page-table update that replaces it. Needs no reserved slot.
     *
     * @param context the context whose fences to replace
     * @param replacement the fence to put in their place, not a container
     * @param usage the usage of the replacement
     * @throws IllegalStateException if the calling thread does not hold the lock
     * @throws IllegalArgumentException if {@code replacement} is a container
     */
    public void replaceFences(long context, Fence replacement, Usage usage) {
        Objects.requireNonNull(replacement, "replacement");
        requireUsage(usage);
        checkHeld("replaceFences");
        if (replacement instanceof FenceArray || replacement instanceof FenceChain) {
            throw new IllegalArgumentException("replaceFences on " + name() + ": " + replacement
                    + " is a container; replace with a single fence");
        }
        publish(snapshot().replacing(context, replacement, usage));
    }

    /**
     * Replaces this reservation's fences with a copy of {@code other}'s (all usages), taken
     * without locking {@code other} (the kernel's {@code dma_resv_copy_fences}).
     *
     * @param other the reservation to copy from
     * @throws IllegalStateException if the calling thread does not hold this reservation's lock
     */
    public void copyFrom(Reservation other) {
        Objects.requireNonNull(other, "other");
        checkHeld("copyFrom");
        publish(other.snapshot().pruned());
    }

    // ------------------------------------------------------------ reading (no lock)

    /**
     * A snapshot of the unsignalled fences of usage {@code usage} or stronger, in the order they
     * were added. Takes no lock.
     *
     * @param usage the weakest usage to include
     * @return an immutable list
     */
    public List<Fence> fences(Usage usage) {
        return Collections.unmodifiableList(snapshot().select(requireUsage(usage)));
    }

    /**
     * One fence for all the unsignalled fences of usage {@code usage} or stronger (the kernel's
     * {@code dma_resv_get_singleton}): none, the one fence itself, or a {@link FenceArray} of
     * them. Do not add the array back to a reservation; add its members.
     *
     * @param usage the weakest usage to include
     * @return the fence to wait for, or empty if there is nothing to wait for
     */
    public Optional<Fence> singleton(Usage usage) {
        List<Fence> list = snapshot().select(requireUsage(usage));
        return switch (list.size()) {
            case 0 -> Optional.empty();
            case 1 -> Optional.of(list.get(0));
            default -> Optional.of(FenceArray.allOf(list));
        };
    }

    /**
     * Tells whether every fence of usage {@code usage} or stronger has signalled (the kernel's
     * {@code dma_resv_test_signaled}).
     *
     * @param usage the weakest usage to include
     * @return {@code true} if nothing of that usage is pending
     */
    public boolean isSignaled(Usage usage) {
        requireUsage(usage);
        FenceList list = snapshot();
        for (int i = 0; i < list.size(); i++) {
            if (list.usage(i).includedIn(usage) && !list.fence(i).isSignaled()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Waits until every fence of usage {@code usage} or stronger that is attached now has
     * signalled, or the time runs out; a zero timeout polls. Takes no lock.
     *
     * @param usage the weakest usage to wait for
     * @param timeout how long to wait at most; not negative
     * @return {@code true} if they all signalled, {@code false} if the time ran out
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public boolean await(Usage usage, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        return Fences.awaitAll(snapshot().select(requireUsage(usage)), timeout);
    }

    /**
     * Waits, interruptibly and without a time limit, until every fence of usage {@code usage} or
     * stronger that is attached now has signalled.
     *
     * @param usage the weakest usage to wait for
     * @throws InterruptedException if interrupted while waiting
     */
    public void await(Usage usage) throws InterruptedException {
        Fences.awaitAll(snapshot().select(requireUsage(usage)));
    }

    /**
     * Passes a deadline hint to every unsignalled fence of usage {@code usage} or stronger (the
     * kernel's {@code dma_resv_set_deadline}).
     *
     * @param usage the weakest usage to include
     * @param deadlineNanos the deadline, in {@link System#nanoTime()} units
     */
    public void setDeadline(Usage usage, long deadlineNanos) {
        for (Fence f : snapshot().select(requireUsage(usage))) {
            f.setDeadline(deadlineNanos);
        }
    }

    /**
     * Describes the reservation: its name, whether it is locked, and each attached fence with its
     * usage (the kernel's {@code dma_resv_describe}).
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        FenceList list = snapshot();
        StringBuilder sb = new StringBuilder(name()).append('[')
                .append(mutex.isLocked() ? "locked" : "unlocked");
        for (int i = 0; i < list.size(); i++) {
            sb.append(i == 0 ? ", fences=[" : ", ").append(list.usage(i).name().toLowerCase(Locale.ROOT))
                    .append(' ').append(list.fence(i));
        }
        return sb.append(list.size() > 0 ? "]]" : "]").toString();
    }

    // ------------------------------------------------------------ internals

    FenceList snapshot() {
        FenceList list = (FenceList) FENCES.getAcquire(this);
        return list != null ? list : FenceList.EMPTY;
    }

    private void publish(FenceList list) {
        FENCES.setRelease(this, list);
    }

    private void checkHeld(String op) {
        if (!mutex.isHeldByCurrentThread()) {
            Thread holder = mutex.owner();              // one read: the holder may unlock meanwhile
            throw new IllegalStateException(op + " on " + name() + " needs its lock, which "
                    + Thread.currentThread().getName() + " does not hold"
                    + (holder != null ? " (it is held by " + holder.getName() + ")" : ""));
        }
    }

    /** Refuses a null usage before anything else, whatever the state of the reservation. */
    private static Usage requireUsage(Usage usage) {
        return Objects.requireNonNull(usage, "usage");
    }

    // VarHandle mechanics
    private static final VarHandle FENCES;

    static {
        try {
            FENCES = MethodHandles.lookup().findVarHandle(Reservation.class, "fences", FenceList.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
