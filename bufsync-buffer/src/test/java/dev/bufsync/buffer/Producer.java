package dev.bufsync.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Usage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Test fixture: a producer of pending fences, each on a fresh context (so that no two replace each
 * other on a reservation), that attaches them to buffers with any usage, and, at the end of a test,
 * signals every fence it issued and closes every buffer it allocated, so that no test forgets a
 * fence or leaks memory.
 */
final class Producer implements AutoCloseable {
    private final String name;
    private final List<Signaller> issued = new ArrayList<>();
    private final List<SharedBuffer> buffers = new ArrayList<>();

    Producer(String name) {
        this.name = name;
    }

    /** A new pending fence on a context of its own. */
    synchronized Signaller next() {
        Signaller s = FenceContext.create(name + "-" + issued.size()).next();
        issued.add(s);
        return s;
    }

    /** A new pending fence attached to {@code buffer} with {@code usage}, under its lock. */
    Signaller attach(SharedBuffer buffer, Usage usage) {
        Signaller s = next();
        buffer.reservation().lock();
        try {
            buffer.reservation().reserveFences(1);
            buffer.reservation().addFence(s.fence(), usage);
        } finally {
            buffer.reservation().unlock();
        }
        return s;
    }

    /** A buffer of 4 KiB in the default class, closed at the end of the test. */
    SharedBuffer buffer(String bufferName) {
        return track(SharedBuffer.allocate(bufferName, 4096));
    }

    synchronized SharedBuffer track(SharedBuffer buffer) {
        buffers.add(buffer);
        return buffer;
    }

    /** Signals every fence issued, then closes every buffer (each must become free in time). */
    @Override
    public void close() {
        List<Signaller> fences;
        List<SharedBuffer> bufs;
        synchronized (this) {
            fences = List.copyOf(issued);
            bufs = List.copyOf(buffers);
        }
        fences.forEach(Signaller::trySignal);
        for (SharedBuffer b : bufs) {
            try {
                assertThat(b.close(Duration.ofSeconds(10))).as("buffer %s freed at the end of the test", b).isTrue();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Waits until {@code t} is parked (WAITING or TIMED_WAITING); a bounded safety net. */
    static void awaitParked(Thread t) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertThat(System.nanoTime() - deadline).as("%s never parked", t.getName()).isNegative();
            assertThat(t.isAlive()).as("%s ended instead of parking", t.getName()).isTrue();
            Thread.yield();
        }
    }
}
