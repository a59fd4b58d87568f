package dev.bufsync.buffer;

import dev.bufsync.resv.Usage;

/**
 * How a buffer is accessed: the rights of an {@link Attachment}, the direction of a
 * {@link CpuAccess}, which fences {@link SharedBuffer#exportFence} returns and with which usage
 * {@link SharedBuffer#importFence} adds one, and the access a {@link BufferSync} gets (the kernel's
 * {@code DMA_BUF_SYNC_READ} / {@code DMA_BUF_SYNC_WRITE}; a write includes reading, like
 * {@code DMA_BUF_SYNC_RW}).
 *
 * <p>The rule of implicit synchronization, in both directions: an access waits for the fences of
 * {@link #awaited()} or stronger ({@link Usage#beforeWrite()}, {@link Usage#beforeRead()}: a write
 * waits for every reader and writer, a read for writers only), and the fence of an access is added
 * with {@link #usage()}.
 */
public enum Access {
    /** Reading only: waits for writers; read-only views. */
    READ,
    /** Reading and writing: waits for readers and writers; writable views. */
    WRITE;

    /**
     * The usage a fence of this access is attached with: {@link Usage#READ} or {@link Usage#WRITE}.
     *
     * @return the usage of this access's fences
     */
    public Usage usage() {
        return this == WRITE ? Usage.WRITE : Usage.READ;
    }

    /**
     * The weakest usage this access waits for ({@link Usage#beforeWrite()},
     * {@link Usage#beforeRead()}): {@link Usage#READ} for a write (every reader and writer, and {@code KERNEL}), {@link Usage#WRITE} for a read
     * (writers and {@code KERNEL}). Neither waits for {@link Usage#BOOKKEEP}.
     *
     * @return the usage to wait for before this access
     */
    public Usage awaited() {
        return this == WRITE ? Usage.beforeWrite() : Usage.beforeRead();
    }

    /**
     * Tells whether rights of this access allow {@code requested}: {@code WRITE} allows both,
     * {@code READ} allows reading only.
     *
     * @param requested the access asked for
     * @return {@code true} if allowed
     */
    public boolean allows(Access requested) {
        return this == WRITE || requested == READ;
    }
}
