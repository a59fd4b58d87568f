package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.JfrCapture;
import dev.bufsync.JfrStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;

/**
 * The Flight Recorder events of the fence package: a wait records the fence and how it ended,
 * unless the recording's threshold excludes it; a forgotten fence records its abandonment.
 */
class FenceEventsTest {
    private static final String WAIT = "dev.bufsync.fence.FenceWait";
    private static final String ABANDONED = "dev.bufsync.fence.FenceAbandoned";
    private static final long PATIENCE_MS = JfrStream.PATIENCE.toMillis();

    /**
     * The wait events of fences of {@code ctx} only (other tests may run in the same JVM), by start
     * time: a recording keeps each thread's events in order, not those of different threads.
     */
    private static List<RecordedEvent> waits(JfrCapture jfr, FenceContext ctx) {
        return jfr.events(WAIT).stream().filter(e -> e.getLong("context") == ctx.id())
                .sorted(Comparator.comparing(RecordedEvent::getStartTime)).toList();
    }

    /** Starts a thread that awaits {@code fence} and returns once it is parked on it. */
    private static Thread parkedWaiter(Fence fence, AtomicReference<Throwable> thrown) {
        Thread t = Thread.ofPlatform().name("fence-waiter").start(() -> {
            try {
                fence.await();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        long deadline = System.nanoTime() + JfrStream.PATIENCE.toNanos();
        while (LockSupport.getBlocker(t) != fence) {
            assertThat(System.nanoTime() - deadline).as("waiter parked on the fence").isNegative();
            Thread.onSpinWait();
        }
        return t;
    }

    /** A wait that the signal ends records the context, timeline, seqno and "signaled" (or "failed"). */
    @Test
    void waitEndedBySignal() throws Exception {
        FenceContext ctx = FenceContext.create("wait-signal");
        Signaller ok = ctx.next();
        Signaller bad = ctx.next();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        List<RecordedEvent> events;
        try (JfrCapture jfr = JfrCapture.everything(WAIT)) {
            Thread t = parkedWaiter(ok.fence(), thrown);
            ok.signal();
            t.join(PATIENCE_MS);
            t = parkedWaiter(bad.fence(), thrown);
            bad.signal(new IOException("device lost"));
            t.join(PATIENCE_MS);
            events = waits(jfr, ctx);
        }
        assertThat(thrown.get()).isNull();
        assertThat(events).extracting(e -> e.getLong("seqno") + " " + e.getString("outcome"))
                .containsExactly("1 signaled", "2 failed");
        RecordedEvent e = events.get(0);
        assertThat(e.getString("timeline")).isEqualTo("wait-signal");
        assertThat(e.getThread().getJavaName()).isEqualTo("fence-waiter");
        assertThat(e.getDuration()).isPositive();
    }

    /** A timed wait that runs out records "timed out"; an interrupted one "interrupted". */
    @Test
    void waitTimedOutOrInterrupted() throws Exception {
        FenceContext ctx = FenceContext.create("wait-timeout");
        Signaller s = ctx.next();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        List<RecordedEvent> events;
        try (JfrCapture jfr = JfrCapture.everything(WAIT)) {
            assertThat(s.fence().await(Duration.ofNanos(1000))).isFalse();
            Thread t = parkedWaiter(s.fence(), thrown);
            t.interrupt();
            t.join(PATIENCE_MS);
            events = waits(jfr, ctx);
        }
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(events).extracting(e -> e.getString("outcome")).containsExactly("timed out", "interrupted");
        s.signal();
    }

    /** A wait shorter than the recording's threshold is not recorded; the default threshold is 20 ms. */
    @Test
    void waitBelowThresholdIsNotRecorded() throws Exception {
        FenceContext ctx = FenceContext.create("wait-threshold");
        Signaller s = ctx.next();
        try (JfrCapture jfr = JfrCapture.start(Map.of(WAIT, Duration.ofHours(1)))) {
            assertThat(s.fence().await(Duration.ofNanos(1000))).isFalse();
            assertThat(waits(jfr, ctx)).isEmpty();
        }
        s.signal();
        assertThat(JfrCapture.defaultSetting(FenceEvents.Wait.class, "threshold")).isEqualTo("20 ms");
        assertThat(JfrCapture.defaultSetting(FenceEvents.Wait.class, "enabled")).isEqualTo("true");
        assertThat(JfrCapture.defaultSetting(FenceEvents.Abandoned.class, "enabled")).isEqualTo("true");
    }

    /** A fence whose signaller is forgotten records its abandonment with its identity. */
    @Test
    void abandonedFence() throws Exception {
        try (JfrStream jfr = JfrStream.start(ABANDONED)) {
            Fence fence = forgotten();
            for (int i = 0; i < 50 && !fence.isSignaled(); i++) {
                System.gc();
                fence.await(Duration.ofMillis(20));
            }
            assertThat(fence.error()).as("abandoned after GC").isInstanceOf(FenceAbandonedException.class);
            List<RecordedEvent> events = jfr.await(ABANDONED, e -> e.getLong("context") == fence.context(), 1);
            assertThat(events).singleElement().satisfies(e -> {
                assertThat(e.getString("timeline")).isEqualTo("events-forgotten");
                assertThat(e.getLong("seqno")).isEqualTo(1);
            });
        }
    }

    /** The fence of a signaller dropped on return. */
    private static Fence forgotten() {
        return FenceContext.create("events-forgotten").next().fence();
    }
}
