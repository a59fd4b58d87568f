package dev.bufsync.cli.cluster;

import dev.bufsync.buffer.Access;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The demo's buffers as one memory-mapped file shared by every driver process: buffer {@code b}
 * is the 64-byte slot at {@code b * 64}, whose first long is its content. A job's device step
 * sets each buffer it writes to {@link #mix} of the job's id ({@link #jobId}), the buffer's old
 * content and the contents of the buffers it reads, after the fences of the buffers' earlier
 * writers (and, for a buffer it writes, readers) signalled; so the final contents are those of a
 * sequential replay in fence order ({@link JobReplay}). A driver {@linkplain #attach attaches}
 * to a buffer with the rights of its access, as to a {@link dev.bufsync.buffer.SharedBuffer}:
 * read-only views for the buffers it reads, writable ones for those it writes; the buffers'
 * reservations (writer and reader fences, {@link BufferFences}) and the fences live in ZooKeeper.
 */
final class SharedBuffers implements AutoCloseable {
    static final long SLOT = 64;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment;

    private SharedBuffers(Path file, int buffers) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            segment = ch.map(FileChannel.MapMode.READ_WRITE, 0, buffers * SLOT, arena);
        }
    }

    /** Maps (creating if needed) the file of {@code buffers} slots. */
    static SharedBuffers map(Path file, int buffers) throws IOException {
        return new SharedBuffers(file, buffers);
    }

    /**
     * Attaches a driver to buffer {@code buffer} with {@code rights}, as
     * {@link dev.bufsync.buffer.SharedBuffer#attach} does in one process: a {@link Access#READ}
     * attachment gives read-only views (a write through one fails), a {@link Access#WRITE} one
     * writable views.
     */
    Attached attach(int buffer, Access rights) {
        if (buffer < 0 || buffer >= segment.byteSize() / SLOT) {
            throw new IndexOutOfBoundsException("buffer " + buffer + " of " + segment.byteSize() / SLOT + " mapped buffers");
        }
        return new Attached(buffer, rights, segment.asSlice(buffer * SLOT, SLOT));
    }

    /** One buffer's attachment: its rights and its slot of the mapping. */
    record Attached(int buffer, Access rights, MemorySegment slot) {
        /** A view with the attachment's own rights: read-only for a reader. */
        MemorySegment map() {
            return rights == Access.WRITE ? slot : slot.asReadOnly();
        }

        /** A view for {@code access}; a write view of a read attachment is refused. */
        MemorySegment map(Access access) {
            if (access == Access.WRITE && rights == Access.READ) {
                throw new IllegalArgumentException("buffer b" + buffer + " is attached read-only: no write view");
            }
            return access == Access.WRITE ? slot : slot.asReadOnly();
        }

        long content() {
            return map().get(ValueLayout.JAVA_LONG, 0);
        }

        void setContent(long value) {
            map(Access.WRITE).set(ValueLayout.JAVA_LONG, 0, value);
        }
    }

    /** Buffer {@code buffer}'s content, through a read-only attachment. */
    long read(int buffer) {
        return attach(buffer, Access.READ).content();
    }

    /** A buffer's new content: a hash of the writing job, the old content and the inputs, in order. */
    static long mix(long jobId, long old, long[] inputs) {
        long h = old * 0x9E3779B97F4A7C15L + jobId;
        for (long in : inputs) h = Long.rotateLeft(h, 29) * 0xBF58476D1CE4E5B9L ^ in;
        return h ^ (h >>> 31);
    }

    /** A job's id from its fence's path: driver index × 10¹⁰ + the fence's sequence number + 1. */
    static long jobId(String fencePath) {
        String context = fencePath.substring(0, fencePath.lastIndexOf('/'));
        int driver = Integer.parseInt(context.substring(context.lastIndexOf('-') + 1));
        long sequence = Long.parseLong(fencePath.substring(fencePath.lastIndexOf('-') + 1));
        return driver * 10_000_000_000L + sequence + 1;
    }

    @Override
    public void close() {
        segment.force();
        arena.close();
    }
}
