package dev.bufsync;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;

/**
 * A {@link RecordingStream} of chosen bufsync events (threshold 0) for a test whose events are
 * committed on another thread, after the point the test can wait for (a fence's callbacks, a
 * timer): {@link #await} blocks until the events have arrived, for at most {@link #PATIENCE}.
 */
public final class JfrStream implements AutoCloseable {
    /** How long to wait for events before failing the test; a safety net, not a timing. */
    public static final Duration PATIENCE = Duration.ofSeconds(30);

    private final RecordingStream stream = new RecordingStream();
    private final List<RecordedEvent> seen = new ArrayList<>();   // guarded by this

    private JfrStream() {
    }

    /** Starts streaming {@code events}, each with threshold 0. */
    public static JfrStream start(String... events) {
        JfrStream s = new JfrStream();
        for (String name : events) {
            s.stream.enable(name).withThreshold(Duration.ZERO);
        }
        s.stream.setReuse(false);
        s.stream.onEvent(s::add);
        s.stream.startAsync();
        return s;
    }

    private synchronized void add(RecordedEvent e) {
        seen.add(e);
        notifyAll();
    }

    /**
     * Waits until {@code count} events named {@code name} that match {@code filter} have arrived.
     *
     * @return those events, in arrival order
     */
    public synchronized List<RecordedEvent> await(String name, Predicate<RecordedEvent> filter, int count)
            throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        for (;;) {
            List<RecordedEvent> found = seen.stream()
                    .filter(e -> e.getEventType().getName().equals(name) && filter.test(e)).toList();
            if (found.size() >= count) {
                return found;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("after " + PATIENCE + " " + found.size() + " of " + count + " "
                        + name + " events had arrived");
            }
            wait(Math.max(1L, left / 1_000_000L));
        }
    }

    @Override
    public void close() {
        stream.close();
    }
}
