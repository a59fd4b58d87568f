package dev.bufsync.cli.cluster;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The demo's buffers as one memory-mapped file shared by every driver process: buffer {@code b}
 * is the 64-byte slot at {@code b * 64}, whose first long is the id of the job that last wrote it
 * ({@link #jobId}). Writes happen in a job's device step, after the fences of the buffer's
 * earlier writers signalled, so the final content of each buffer is known from the fence order.
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

    void write(int buffer, long jobId) {
        segment.set(ValueLayout.JAVA_LONG, buffer * SLOT, jobId);
    }

    long read(int buffer) {
        return segment.get(ValueLayout.JAVA_LONG, buffer * SLOT);
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
