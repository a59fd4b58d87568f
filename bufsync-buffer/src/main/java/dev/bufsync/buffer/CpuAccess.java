package dev.bufsync.buffer;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An open CPU access to a {@link SharedBuffer}, begun by {@link SharedBuffer#beginCpuAccess} once
 * the fences the access had to wait for signalled, and ended by {@link #close()} (the kernel's
 * {@code dma_buf_begin_cpu_access} / {@code dma_buf_end_cpu_access}, the {@code SYNC_START} /
 * {@code SYNC_END} bracket).
 *
 * <pre>{@code
 * try (CpuAccess cpu = buffer.beginCpuAccess(Access.READ, Duration.ofSeconds(1))) {
 *     long header = cpu.segment().get(ValueLayout.JAVA_LONG, 0);   // writers have finished
 * } catch (TimeoutException e) {
 *     // a writer is still running
 * }
 * }</pre>
 *
 * <p>The segment is read-only for a {@link Access#READ} access (a write through it throws the FFM
 * API's {@link IllegalArgumentException}) and writable for {@link Access#WRITE}. While the access
 * is open the buffer's memory is not freed: closing the buffer waits for it.
 *
 * <p><b>Caveats.</b> A CPU access publishes no fence, as in the kernel: devices and other CPU
 * accesses do not wait for it. To make later work wait for a CPU write, use {@link BufferSync}, or
 * {@linkplain SharedBuffer#importFence import} a pending fence before the access and signal it
 * after. Using the segment after {@link #close()} is a broken promise that nothing can catch until
 * the buffer's memory is freed.
 */
public final class CpuAccess implements AutoCloseable {
    private final SharedBuffer buffer;
    private final Access access;
    private final MemorySegment segment;
    private volatile boolean ended;            // ENDED: CAS false -> true by close()

    CpuAccess(SharedBuffer buffer, Access access, MemorySegment segment) {
        this.buffer = buffer;
        this.access = access;
        this.segment = segment;
    }

    /**
     * The buffer accessed.
     *
     * @return the buffer
     */
    public SharedBuffer buffer() {
        return buffer;
    }

    /**
     * The direction of this access.
     *
     * @return {@link Access#READ} or {@link Access#WRITE}
     */
    public Access access() {
        return access;
    }

    /**
     * The buffer's memory: read-only for a read access, writable for a write.
     *
     * @return a view of the whole buffer
     * @throws IllegalStateException if the access has ended
     */
    public MemorySegment segment() {
        if (ended) {
            throw new IllegalStateException("segment() of a CPU access to buffer '" + buffer.name()
                    + "' that has ended");
        }
        return segment;
    }

    /**
     * Tells whether the access is still open.
     *
     * @return {@code true} until {@link #close()}
     */
    public boolean isOpen() {
        return !ended;
    }

    /**
     * Ends the access (the kernel's {@code dma_buf_end_cpu_access}); a buffer waiting to close
     * can then free its memory. Idempotent: a second close does nothing.
     */
    @Override
    public void close() {
        if (ENDED.compareAndSet(this, false, true)) {
            buffer.endCpuAccess();
        }
    }

    /**
     * Describes the access: buffer, direction and whether it is open.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        return "CpuAccess['" + buffer.name() + "', " + access + (ended ? ", ended]" : ", open]");
    }

    // VarHandle mechanics
    private static final VarHandle ENDED;

    static {
        try {
            ENDED = MethodHandles.lookup().findVarHandle(CpuAccess.class, "ended", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
