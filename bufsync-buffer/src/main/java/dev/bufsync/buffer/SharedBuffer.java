package dev.bufsync.buffer;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceArray;
import dev.bufsync.fence.Fences;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Memory shared between devices and threads, with the {@link Reservation} that orders their work
 * on it (the kernel's {@code dma_buf}). The exporter allocates it; importers
 * {@linkplain #attach attach} as a named device with {@link Access} rights and
 * {@linkplain Attachment#map() map} the attachment to get a view of the memory; threads bracket
 * CPU access with {@link #beginCpuAccess}, which waits for the fences the access must wait for.
 * Once closed, it refuses everything, and once its memory is freed, every view fails.
 *
 * <pre>{@code
 * SharedBuffer frame = SharedBuffer.allocate("frame-0", 1 << 20);      // exporter
 *
 * Attachment display = frame.attach("display", Access.READ);           // importer
 * MemorySegment pixels = display.map();                                // read-only view
 *
 * try (CpuAccess cpu = frame.beginCpuAccess(Access.WRITE, Duration.ofMillis(16))) {
 *     cpu.segment().fill((byte) 0);              // after every reader and writer finished
 * }
 * frame.close();                                 // waits (bounded) for pending work, then frees
 * }</pre>
 *
 * <p><b>Implicit synchronization.</b> The work that uses the buffer publishes its fences on
 * {@link #reservation()} (through {@link dev.bufsync.exec.Exec}, {@link BufferSync} or
 * {@link #importFence}); an access waits for the fences of {@link Access#awaited()}: a write for
 * every reader and writer, a read for writers only, neither for {@link Usage#BOOKKEEP}.
 * {@link #beginCpuAccess} waits that way; {@link #exportFence} hands out one fence for what an
 * access would wait for; {@link #onIdle} tells when an access could start without waiting.
 *
 * <p><b>The close rule.</b> {@link #close(Duration)} first makes the buffer refuse new users:
 * every later attach, map, CPU access, export, import and idle registration throws
 * {@link BufferClosedException}. It then waits, at most {@code timeout}, until every fence on the
 * reservation has signalled (all usages, {@code BOOKKEEP} included: work still using the memory)
 * and every open {@link CpuAccess} has ended. If both happen in time it frees the memory and
 * returns {@code true}: every view, mapped or not, from then on fails with the FFM API's
 * {@code IllegalStateException} ("Already closed"), and every attachment is detached. If not, it
 * returns {@code false} and the buffer stays closing, memory intact, so that the work in flight
 * can finish; a later {@code close} tries again. Mapped attachments do not delay closing: a
 * mapping is revoked, not waited for. {@link #close()} is {@code close(CLOSE_TIMEOUT)}, and
 * throws if that fails. Nothing waits without bound, and memory a fence says is in use is never
 * freed.
 *
 * <p><b>Caveats.</b> Views are {@link MemorySegment}s: {@link Attachment#unmap()} and
 * {@link CpuAccess#close()} end the right to use them, but a view kept afterwards still works
 * until the buffer's memory is freed (the FFM API cannot revoke one view of shared memory alone).
 * CPU accesses do not exclude each other; {@link BufferSync} orders CPU users among themselves
 * and with devices. Code that adds fences to the reservation itself (a scheduler, through
 * {@link dev.bufsync.exec.Exec}) should check {@link #isClosed()} while it holds the lock: the
 * close then either waits for its fence or is seen; without the check, work published after the
 * memory was freed finds its views closed (an exception, never stale memory).
 *
 * <p><b>Implementation notes.</b> The memory comes from a shared {@link Arena}, zeroed, aligned
 * to 64 bytes; freeing closes the arena, which the FFM API makes safe against concurrent
 * accesses from any thread (they fail, they never read freed memory). Beginning and ending a CPU
 * access is one CAS each on a state word; the attachment list and the close path use a lock.
 */
public final class SharedBuffer implements HasReservation, AutoCloseable {
    /*
     * Overview.
     *
     * Lifecycle: OPEN -> CLOSING -> CLOSED. The state word packs the two flags with the count of
     * open CPU accesses:
     *
     *   bit 30       CLOSING   set once by the first close (CAS); refuses new users
     *   bit 29       CLOSED    set under `lock` (and the reservation) when the memory is freed
     *   bits 0..28   USERS     open CPU accesses: +1 by a CAS that sees neither flag, -1 on end
     *
     * Closing waits in three stages, re-run until all pass at once or the time runs out:
     *   1. for the reservation's fences (BOOKKEEP: all of them), holding nothing;
     *   2. under `lock`, for USERS to reach 0 (condition `cpuIdle`). CLOSING is set before, so
     *      USERS can only fall; the CPU access that brings it to 0 with CLOSING set takes `lock`
     *      to signal after its decrement, and the closer reads USERS under `lock`, so the wake-up
     *      cannot be missed [pairs with endCpuAccess];
     *   3. under the reservation's mutex (a timed tryLock), the fences once more; then free, which
     *      closes the arena under `lock` and, only if that succeeded, sets CLOSED and revokes the
     *      attachments. arena.close() throws while a view is acquired by an NIO operation; then
     *      the state stays CLOSING (new users refused, memory and attachments intact), the close
     *      throws, and a later close runs the stages again. Users that add fences under the
     *      reservation lock check the state there (importFence, BufferSync.lock): they either add
     *      before stage 3 (which then sees the fence and goes round again) or see CLOSING and
     *      refuse [pairs with checkOpen].
     * Lock order: the reservation, then `lock`; `lock` is never held while waiting for the
     * reservation.
     *
     * Attachments change state only under `lock`, so a map either happens before the free (and is
     * revoked by it) or sees CLOSING and is refused.
     */

    /** How long {@link #close()} waits for pending work before it gives up and throws. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private static final long ALIGNMENT = 64;
    private static final int CLOSING = 1 << 30;
    private static final int CLOSED = 1 << 29;
    private static final int USERS = CLOSED - 1;

    private final String name;
    private final long size;
    private final Reservation reservation;
    private final Arena arena;
    private final MemorySegment memory;               // read-write; dies with the arena
    private final MemorySegment readOnly;             // memory.asReadOnly(), shared by all readers
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition cpuIdle = lock.newCondition();   // USERS reached 0 while CLOSING
    private final List<Attachment> attachments = new ArrayList<>();   // guarded by lock
    private volatile int state;                       // STATE: flags and open CPU accesses, see Overview

    private SharedBuffer(String name, long size, WwClass wwClass) {
        this.name = name;
        this.size = size;
        this.reservation = new Reservation(wwClass, name);
        this.arena = Arena.ofShared();
        this.memory = arena.allocate(size, ALIGNMENT);
        this.readOnly = memory.asReadOnly();
    }

    /**
     * Allocates a zeroed buffer whose reservation is in {@link Reservation#DEFAULT_CLASS}.
     *
     * @param name a name for diagnostics and messages (the kernel's exporter name)
     * @param size the size in bytes, positive
     * @return the new buffer; close it
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    public static SharedBuffer allocate(String name, long size) {
        return allocate(name, size, Reservation.DEFAULT_CLASS);
    }

    /**
     * Allocates a zeroed buffer whose reservation is in {@code wwClass}. Buffers locked together
     * (by one {@link dev.bufsync.exec.Exec} or {@link BufferSync}) must share a class.
     *
     * @param name a name for diagnostics and messages
     * @param size the size in bytes, positive
     * @param wwClass the lock class of the buffer's reservation
     * @return the new buffer; close it
     * @throws IllegalArgumentException if {@code size} is not positive
     */
    public static SharedBuffer allocate(String name, long size, WwClass wwClass) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(wwClass, "wwClass");
        if (size <= 0) {
            throw new IllegalArgumentException("buffer '" + name + "': size " + size + " is not positive");
        }
        return new SharedBuffer(name, size, wwClass);
    }

    /**
     * The name given at allocation.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The size in bytes.
     *
     * @return the size
     */
    public long size() {
        return size;
    }

    /**
     * The reservation that orders the work on this buffer; the same one every time, also after
     * close.
     *
     * @return the reservation
     */
    @Override
    public Reservation reservation() {
        return reservation;
    }

    // ------------------------------------------------------------ attachments

    /**
     * Attaches a device (the kernel's {@code dma_buf_attach}): {@code rights} decide whether its
     * views may write. A device may attach more than once.
     *
     * @param device the importing device's name
     * @param rights {@link Access#READ}: read-only views; {@link Access#WRITE}: writable views
     * @return the attachment; detach it when done
     * @throws BufferClosedException if the buffer is closing or closed
     */
    public Attachment attach(String device, Access rights) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(rights, "rights");
        lock.lock();
        try {
            checkOpen("attach(" + device + ")");
            Attachment a = new Attachment(this, device, rights);
            attachments.add(a);
            return a;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The attachments not yet detached, in the order they were made.
     *
     * @return an immutable snapshot (empty once the memory is freed)
     */
    public List<Attachment> attachments() {
        lock.lock();
        try {
            return List.copyOf(attachments);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------ CPU access

    /**
     * Begins a CPU access with the exporter's rights (the kernel's
     * {@code dma_buf_begin_cpu_access}, {@code DMA_BUF_IOCTL_SYNC} with {@code SYNC_START}): waits
     * until every fence of usage {@link Access#awaited() access.awaited()} or stronger that is
     * attached now has signalled (a write waits for readers and writers, a read for writers;
     * {@code BOOKKEEP} fences are not waited for), then opens the access. Fences that signalled
     * with an error end the wait like the others, as in the kernel.
     *
     * @param access {@link Access#READ} for a read-only segment, {@link Access#WRITE} for a
     *     writable one
     * @param timeout how long to wait for the fences at most; {@link Duration#ZERO} polls
     * @return the open access; close it
     * @throws TimeoutException if the fences did not all signal in time (nothing was opened)
     * @throws InterruptedException if interrupted while waiting (nothing was opened)
     * @throws BufferClosedException if the buffer is closing or closed, before or after the wait
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public CpuAccess beginCpuAccess(Access access, Duration timeout) throws InterruptedException, TimeoutException {
        return beginCpuAccess(access, timeout, null);
    }

    CpuAccess beginCpuAccess(Access access, Duration timeout, Attachment via) throws InterruptedException,
            TimeoutException {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(timeout, "timeout");
        String op = "beginCpuAccess(" + access + ")" + (via != null ? " through " + via.device() : "");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(op + " on buffer '" + name + "': negative timeout " + timeout);
        }
        checkOpen(op);
        if (!reservation.await(access.awaited(), timeout)) {
            throw new TimeoutException(op + " on buffer '" + name + "' timed out after " + timeout
                    + " waiting for " + reservation.fences(access.awaited()));
        }
        for (int s = state; ; s = state) {                      // the USERS count (see Overview)
            if ((s & (CLOSING | CLOSED)) != 0) {
                throw new BufferClosedException(name, op, (s & CLOSED) != 0);
            }
            if (STATE.compareAndSet(this, s, s + 1)) {
                break;
            }
        }
        return new CpuAccess(this, access, view(access));
    }

    /** Ends a CPU access: the count falls; the last one out of a closing buffer wakes the closer. */
    void endCpuAccess() {
        int s = (int) STATE.getAndAdd(this, -1) - 1;
        if ((s & CLOSING) != 0 && (s & USERS) == 0) {
            lock.lock();                                         // [pairs with awaitCpuIdle]
            try {
                cpuIdle.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    // ------------------------------------------------------------ the explicit/implicit bridge

    /**
     * The one fence an access would wait for now (the kernel's
     * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}): for a write, every reader and writer; for a read,
     * the writers ({@code KERNEL} fences in both cases). That is the fence itself if there is one,
     * an all-of {@link FenceArray} if there are several (add its members, not the array, to a
     * reservation), and the signalled {@link Fences#stub()} if there is nothing to wait for. A
     * snapshot: fences added later are not in it.
     *
     * @param access the access whose fences to export
     * @return a fence that signals when those fences have
     * @throws BufferClosedException if the buffer is closing or closed
     */
    public Fence exportFence(Access access) {
        Objects.requireNonNull(access, "access");
        checkOpen("exportFence(" + access + ")");
        return reservation.singleton(access.awaited()).orElse(Fences.stub());
    }

    /**
     * Adds a fence of explicitly synchronized work as an implicit reader or writer (the kernel's
     * {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE}): locks the reservation (without a transaction,
     * uninterruptibly, as the kernel does), reserves a slot for each leaf and adds {@code fence}
     * with {@link Access#usage() access.usage()}. A container ({@link FenceArray},
     * {@link dev.bufsync.fence.FenceChain}) is added as its members. From then on, accesses that
     * conflict with {@code access} wait for it.
     *
     * @param fence the fence of the work
     * @param access {@link Access#WRITE} to make readers and writers wait, {@link Access#READ} to
     *     make writers wait
     * @throws BufferClosedException if the buffer is closing or closed
     * @throws dev.bufsync.ww.WwMisuseException if the calling thread holds this reservation, or
     *     other locks of its class (then lock it with the same transaction and add the fence
     *     yourself)
     */
    public void importFence(Fence fence, Access access) {
        Objects.requireNonNull(fence, "fence");
        Objects.requireNonNull(access, "access");
        checkOpen("importFence(" + access + ")");
        reservation.lock();
        try {
            checkOpen("importFence(" + access + ")");        // again, under the lock [pairs with close]
            reservation.reserveFences(Fences.unwrap(fence).size());
            reservation.addFence(fence, access.usage());
        } finally {
            reservation.unlock();
        }
    }

    // ------------------------------------------------------------ idle notification

    /**
     * Runs {@code callback} once, when an access could start without waiting (the kernel's
     * {@code poll}: {@code EPOLLIN} for a read, {@code EPOLLOUT} for a write): when every fence
     * that {@code access} would wait for now has signalled. If there is none, the callback runs at
     * once, on the calling thread, before this method returns (and an exception it throws
     * propagates). Otherwise it runs on the thread that signals the last of those fences, as a
     * fence callback: it must be short and must not block (hand longer work to an executor), and
     * an exception it throws goes to the fence callback exception handler. Fences added after
     * this call are not waited for; ask again if you need to know about them.
     *
     * @param access the access that should be able to start
     * @param callback runs once
     * @return {@code true} if the buffer was idle for {@code access} and the callback has run;
     *     {@code false} if it will run when the fences signal
     * @throws BufferClosedException if the buffer is closing or closed
     */
    public boolean onIdle(Access access, Runnable callback) {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(callback, "callback");
        checkOpen("onIdle(" + access + ")");
        List<Fence> busy = reservation.fences(access.awaited());
        if (!busy.isEmpty()) {
            Fence all = busy.size() == 1 ? busy.get(0) : FenceArray.allOf(busy);
            if (all.addCallback(f -> callback.run())) {
                return false;
            }
        }
        callback.run();
        return true;
    }

    // ------------------------------------------------------------ closing

    /**
     * Tells whether close has begun: the buffer refuses new users.
     *
     * @return {@code true} once {@code close} has been called
     */
    public boolean isClosed() {
        return (state & (CLOSING | CLOSED)) != 0;
    }

    /**
     * Closes the buffer, following the close rule (see the class description): refuses new users
     * from now on, waits at most {@code timeout} for every fence on the reservation to signal and
     * every open CPU access to end, then frees the memory and revokes every view and attachment.
     * Calling it again after it returned {@code false} tries again; after it returned
     * {@code true} it returns {@code true} at once.
     *
     * @param timeout how long to wait for pending work at most; {@link Duration#ZERO} frees only
     *     an idle buffer
     * @return {@code true} if the memory is freed; {@code false} if work was still pending when
     *     the time ran out, or the reservation stayed locked (by this thread too), so that the
     *     last check could not be made (the buffer stays closing, its memory and views intact)
     * @throws InterruptedException if interrupted while waiting (the buffer stays closing)
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws IllegalStateException if the memory could not be freed because a view is still in
     *     use by an I/O operation (a {@code ByteBuffer} of it handed to an NIO channel): the buffer
     *     stays closing, its memory, views and attachments intact, and a later close tries again
     */
    public boolean close(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("close of buffer '" + name + "': negative timeout " + timeout);
        }
        long deadline = System.nanoTime() + toNanos(timeout);
        STATE.getAndBitwiseOr(this, CLOSING);
        for (;;) {
            if (isFreed()) {
                return true;
            }
            if (!reservation.await(Usage.BOOKKEEP, remaining(deadline))) {
                return false;
            }
            lock.lockInterruptibly();
            try {
                if (!awaitCpuIdle(deadline)) {
                    return false;
                }
            } finally {
                lock.unlock();
            }
            // No CPU access can open any more. The last check is made under the reservation lock,
            // so that fences added under it by users that check isClosed() there (importFence,
            // BufferSync.lock) are either seen here or refused there [pairs with checkOpen].
            if (!reservation.mutex().tryLock(remaining(deadline))) {
                return false;
            }
            try {
                if (reservation.isSignaled(Usage.BOOKKEEP)) {
                    free();
                    return true;
                }
            } finally {
                reservation.unlock();
            }
            // A fence was added meanwhile: wait for it too.
        }
    }

    /**
     * Closes the buffer with {@link #CLOSE_TIMEOUT}, following the close rule; does nothing if the
     * memory is already freed.
     *
     * @throws IllegalStateException if work was still pending after {@link #CLOSE_TIMEOUT}, or the
     *     thread was interrupted while waiting (its interrupt status is then set), or the memory is
     *     still in use by I/O; the buffer stays closing, and a later close tries again
     */
    @Override
    public void close() {
        boolean freed;
        boolean interrupted = false;
        try {
            freed = close(CLOSE_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            freed = false;
            interrupted = true;
        }
        if (!freed) {
            throw new IllegalStateException("close of buffer '" + name + "' "
                    + (interrupted ? "interrupted" : "gave up after " + CLOSE_TIMEOUT) + ": "
                    + describeBusy() + "; it refuses new users and keeps its memory until a close succeeds");
        }
    }

    /** Waits, holding {@code lock}, until no CPU access is open; {@code false} if time ran out. */
    private boolean awaitCpuIdle(long deadline) throws InterruptedException {
        while ((state & USERS) != 0) {                           // [pairs with endCpuAccess]
            long nanos = deadline - System.nanoTime();
            if (nanos <= 0L) {
                return false;
            }
            cpuIdle.awaitNanos(nanos);
        }
        return true;
    }

    /**
     * Frees the memory and revokes every attachment; holding the reservation, no CPU access open.
     * Closing the arena is the irreversible step, and the one that can fail (a view handed to
     * NIO is still in use by an I/O operation): only once it succeeded does the state flip to
     * CLOSED and the attachments go. If it fails, nothing changed but the refusal of new users,
     * and a later close tries again.
     *
     * @throws IllegalStateException naming the buffer, if the memory is still in use by I/O
     */
    private void free() {
        lock.lock();
        try {
            if (isFreed()) {
                return;
            }
            try {
                arena.close();
            } catch (IllegalStateException inUse) {
                throw new IllegalStateException("close of buffer '" + name + "': its memory is still in use"
                        + " by an I/O operation on a view (" + inUse.getMessage() + "); the buffer stays closing"
                        + " with its memory and attachments intact, and a later close tries again", inUse);
            }
            STATE.getAndBitwiseOr(this, CLOSED);
            for (Attachment a : attachments) {
                a.revoke();
            }
            attachments.clear();
        } finally {
            lock.unlock();
        }
    }

    private String describeBusy() {
        List<Fence> pending = reservation.fences(Usage.BOOKKEEP);
        return pending.size() + " fence(s) pending " + pending + ", " + (state & USERS) + " CPU access(es) open";
    }

    // ------------------------------------------------------------ package-private

    /** A view with {@code access}: the memory itself for a write, its read-only view for a read. */
    MemorySegment view(Access access) {
        return access == Access.WRITE ? memory : readOnly;
    }

    /**
     * Throws {@link BufferClosedException} if close has begun. Used without the lock as a fast
     * check, and under it where the answer must hold until the lock is released.
     */
    void checkOpen(String op) {
        int s = state;
        if ((s & (CLOSING | CLOSED)) != 0) {
            throw new BufferClosedException(name, op, (s & CLOSED) != 0);
        }
    }

    /** Whether the memory has been freed. */
    boolean isFreed() {
        return (state & CLOSED) != 0;
    }

    ReentrantLock lock() {
        return lock;
    }

    /** Removes a detached attachment; holding {@code lock}. */
    void removeAttachment(Attachment a) {
        attachments.remove(a);
    }

    private static long toNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 2;                          // centuries: effectively unbounded
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0L, deadline - System.nanoTime()));
    }

    /**
     * Describes the buffer: name, size, state, attachments, open CPU accesses and the reservation.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        int s = state;
        String st = (s & CLOSED) != 0 ? "closed" : (s & CLOSING) != 0 ? "closing" : "open";
        int attached;
        lock.lock();
        try {
            attached = attachments.size();
        } finally {
            lock.unlock();
        }
        return "SharedBuffer['" + name + "', " + size + " bytes, " + st + ", " + attached + " attachment(s), "
                + (s & USERS) + " CPU access(es), " + reservation + "]";
    }

    // VarHandle mechanics
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(SharedBuffer.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
