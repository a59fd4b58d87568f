package dev.bufsync.buffer;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeoutException;

/**
 * A device's attachment to a {@link SharedBuffer}, with access rights (the kernel's
 * {@code dma_buf_attachment}): mapping it gives the device a view of the memory, read-only for
 * {@link Access#READ} rights; CPU access through it is limited by the same rights.
 *
 * <pre>{@code
 * try (Attachment encoder = frame.attach("encoder", Access.READ)) {
 *     MemorySegment in = encoder.map();          // read-only: a write through it fails
 *     // ... in a job, after the job's dependencies signalled ...
 *     long first = in.get(ValueLayout.JAVA_LONG, 0);
 *     encoder.unmap();
 * }                                              // detach
 * }</pre>
 *
 * <p><b>Rights.</b> A read-only attachment gives read-only views: a write through one throws the
 * FFM API's {@link IllegalArgumentException} ("Attempt to write a read-only segment"), and asking
 * for write access ({@link #map(Access)}, {@link #beginCpuAccess}) throws
 * {@link IllegalArgumentException} at once.
 *
 * <p><b>Mapping</b> does not wait for anything: devices order their work by fences (a job runs
 * after the fences it depends on), and the storage never moves, so there are no {@code KERNEL}
 * fences of a move to wait for, which is what the kernel's map waits for. Maps are counted; each
 * {@link #map()} is matched by an {@link #unmap()}, and {@link #detach()} drops the ones left.
 *
 * <p><b>After the buffer is closed</b> the attachment is detached by the close: views fail with
 * the FFM API's {@code IllegalStateException}, {@link #map()} and {@link #beginCpuAccess} throw
 * {@link BufferClosedException}, and {@link #unmap()} and {@link #detach()} do nothing, so that an
 * importer's clean-up path works whatever the exporter did.
 *
 * <p>An attachment may be used from any thread; its state changes under its buffer's lock.
 */
public final class Attachment implements AutoCloseable {
    private enum State { ATTACHED, DETACHED, REVOKED }

    private final SharedBuffer buffer;
    private final String device;
    private final Access rights;
    private volatile State state = State.ATTACHED;   // written under buffer.lock(), read anywhere
    private int maps;                                // guarded by buffer.lock(): maps not unmapped

    Attachment(SharedBuffer buffer, String device, Access rights) {
        this.buffer = buffer;
        this.device = device;
        this.rights = rights;
    }

    /**
     * The buffer this attachment belongs to.
     *
     * @return the buffer
     */
    public SharedBuffer buffer() {
        return buffer;
    }

    /**
     * The name of the attached device.
     *
     * @return the device name
     */
    public String device() {
        return device;
    }

    /**
     * The rights given at attach: {@link Access#READ} or {@link Access#WRITE}.
     *
     * @return the rights
     */
    public Access rights() {
        return rights;
    }

    /**
     * Maps the attachment with its full rights: a writable view for {@link Access#WRITE} rights,
     * a read-only one for {@link Access#READ}.
     *
     * @return a view of the whole buffer
     * @throws BufferClosedException if the buffer is closing or closed
     * @throws IllegalStateException if the attachment has been detached
     */
    public MemorySegment map() {
        return map(rights);
    }

    /**
     * Maps the attachment for {@code access} (the kernel's {@code dma_buf_map_attachment}).
     *
     * @param access {@link Access#READ} for a read-only view; {@link Access#WRITE} for a writable
     *     one, which needs {@link Access#WRITE} rights
     * @return a view of the whole buffer
     * @throws IllegalArgumentException if {@code access} is {@link Access#WRITE} and the rights are
     *     {@link Access#READ}
     * @throws BufferClosedException if the buffer is closing or closed
     * @throws IllegalStateException if the attachment has been detached
     */
    public MemorySegment map(Access access) {
        Objects.requireNonNull(access, "access");
        checkRights("map", access);
        buffer.lock().lock();
        try {
            checkUsable("map(" + access + ")");
            maps++;
            return buffer.view(access);
        } finally {
            buffer.lock().unlock();
        }
    }

    /**
     * Ends one mapping (the kernel's {@code dma_buf_unmap_attachment}): the device promises not to
     * use that view again. Does nothing once the buffer's memory is freed.
     *
     * @throws IllegalStateException if the attachment is not mapped, or has been detached
     */
    public void unmap() {
        buffer.lock().lock();
        try {
            if (state == State.REVOKED) {
                return;
            }
            if (state == State.DETACHED) {
                throw new IllegalStateException("unmap of " + describe() + ": detached");
            }
            if (maps == 0) {
                throw new IllegalStateException("unmap of " + describe() + ": not mapped (each map is undone by"
                        + " one unmap)");
            }
            maps--;
        } finally {
            buffer.lock().unlock();
        }
    }

    /**
     * Tells whether a mapping is still in effect (more maps than unmaps, and attached).
     *
     * @return {@code true} if mapped
     */
    public boolean isMapped() {
        buffer.lock().lock();
        try {
            return state == State.ATTACHED && maps > 0;
        } finally {
            buffer.lock().unlock();
        }
    }

    /**
     * Begins a CPU access through this attachment; see
     * {@link SharedBuffer#beginCpuAccess(Access, Duration)}.
     *
     * @param access the access; {@link Access#WRITE} needs {@link Access#WRITE} rights
     * @param timeout how long to wait for the fences at most
     * @return the open access; close it
     * @throws TimeoutException if the fences did not all signal in time
     * @throws InterruptedException if interrupted while waiting
     * @throws IllegalArgumentException if the rights do not allow {@code access}, or
     *     {@code timeout} is negative
     * @throws BufferClosedException if the buffer is closing or closed
     * @throws IllegalStateException if the attachment has been detached
     */
    public CpuAccess beginCpuAccess(Access access, Duration timeout) throws InterruptedException, TimeoutException {
        Objects.requireNonNull(access, "access");
        checkRights("beginCpuAccess", access);
        checkUsable("beginCpuAccess(" + access + ")");
        return buffer.beginCpuAccess(access, timeout, this);
    }

    /**
     * Tells whether the attachment is still attached: neither detached nor revoked by the
     * buffer's close.
     *
     * @return {@code true} if attached
     */
    public boolean isAttached() {
        return state == State.ATTACHED;
    }

    /**
     * Detaches (the kernel's {@code dma_buf_detach}), dropping the mappings left. Does nothing once
     * the buffer's close has detached it.
     *
     * @throws IllegalStateException if already detached
     */
    public void detach() {
        detach(true);
    }

    /** Detaches; if already detached, throws when {@code strict}, else does nothing. */
    private void detach(boolean strict) {
        buffer.lock().lock();
        try {
            if (state == State.REVOKED || state == State.DETACHED && !strict) {
                return;
            }
            if (state == State.DETACHED) {
                throw new IllegalStateException("detach of " + describe() + ": already detached");
            }
            state = State.DETACHED;
            maps = 0;
            buffer.removeAttachment(this);
        } finally {
            buffer.lock().unlock();
        }
    }

    /**
     * Detaches unless detached already (by {@link #detach()}, a close, or the buffer's close):
     * unlike {@code detach()}, idempotent.
     */
    @Override
    public void close() {
        detach(false);
    }

    /** The buffer's close freed the memory; holding the buffer's lock. */
    void revoke() {
        state = State.REVOKED;
        maps = 0;
    }

    private void checkRights(String op, Access access) {
        if (!rights.allows(access)) {
            throw new IllegalArgumentException(op + "(" + access + ") on " + describe() + ": its rights are "
                    + rights + " only");
        }
    }

    /** Throws unless attached and the buffer open. */
    private void checkUsable(String op) {
        State s = state;
        if (s == State.REVOKED) {
            throw new BufferClosedException(buffer.name(), op + " through " + device, true);
        }
        if (s == State.DETACHED) {
            throw new IllegalStateException(op + " on " + describe() + ": detached");
        }
        buffer.checkOpen(op + " through " + device);
    }

    private String describe() {
        return "attachment of '" + device + "' to buffer '" + buffer.name() + "'";
    }

    /**
     * Describes the attachment: device, buffer, rights and state.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        return "Attachment['" + device + "' -> '" + buffer.name() + "', " + rights + ", "
                + state.name().toLowerCase(Locale.ROOT) + "]";
    }
}
