package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link SyncTimeline}, the sw_sync analogue. */
class SyncTimelineTest {

    /** Advancing the counter signals every point up to it, in increasing order, and no further. */
    @Test
    void advanceSignalsPointsInOrder() {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            List<Long> signalled = new ArrayList<>();
            for (long point : new long[] {5, 1, 3, 2, 8}) {
                timeline.fenceAt(point).addCallback(f -> signalled.add(f.seqno()));
            }
            timeline.advance(3);
            assertThat(signalled).containsExactly(1L, 2L, 3L);
            assertThat(timeline.value()).isEqualTo(3);
            assertThat(timeline.fenceAt(5).isSignaled()).isFalse();
            timeline.advance(2);
            assertThat(signalled).containsExactly(1L, 2L, 3L, 5L);
            timeline.advance(0);
            assertThat(timeline.fenceAt(8).isSignaled()).isFalse();
        }
    }

    /** A pending point is one fence; a point already reached is a fence signalled at once. */
    @Test
    void pointsAreFencesOfOneContext() {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            Fence four = timeline.fenceAt(4);
            assertThat(timeline.fenceAt(4)).isSameAs(four);
            assertThat(four.context()).isEqualTo(timeline.context());
            assertThat(four.seqno()).isEqualTo(4);
            assertThat(timeline.fenceAt(6).isLater(four)).isTrue();
            timeline.advance(4);
            Fence reached = timeline.fenceAt(2);
            assertThat(reached.isSignaled()).isTrue();
            assertThat(reached.error()).isNull();
            assertThat(timeline.fenceAt(0).isSignaled()).isTrue();
        }
    }

    /** Closing the timeline signals every pending point, in order, with FenceAbandonedException. */
    @Test
    void closeErrorsPendingPoints() {
        SyncTimeline timeline = SyncTimeline.create("sw");
        Fence done = timeline.fenceAt(1);
        List<Long> order = new ArrayList<>();
        Fence three = timeline.fenceAt(3);
        Fence two = timeline.fenceAt(2);
        three.addCallback(f -> order.add(3L));
        two.addCallback(f -> order.add(2L));
        timeline.advance(1);
        timeline.close();
        assertThat(done.error()).isNull();
        assertThat(order).containsExactly(2L, 3L);
        assertThat(two.error()).isInstanceOf(FenceAbandonedException.class)
                .hasMessageContaining("sync timeline sw closed at 1 before point 2");
        assertThat(three.status()).isEqualTo(Fence.Status.FAILED);
        timeline.close();
        assertThat(timeline.toString()).contains("closed");
    }

    /** A closed timeline refuses new points and advances with IllegalStateException. */
    @Test
    void closedTimeline_IllegalStateException() {
        SyncTimeline timeline = SyncTimeline.create("sw");
        timeline.close();
        assertThatThrownBy(() -> timeline.fenceAt(1)).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is closed");
        assertThatThrownBy(() -> timeline.advance(1)).isExactlyInstanceOf(IllegalStateException.class);
    }

    /** Negative points and deltas are IllegalArgumentExceptions. */
    @Test
    void negativeArguments_IllegalArgumentException() {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            assertThatThrownBy(() -> timeline.fenceAt(-1)).isExactlyInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> timeline.advance(-1)).isExactlyInstanceOf(IllegalArgumentException.class);
        }
    }

    /** The counter saturates instead of wrapping. */
    @Test
    void counterSaturates() {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            Fence far = timeline.fenceAt(Long.MAX_VALUE);
            timeline.advance(Long.MAX_VALUE - 1);
            assertThat(far.isSignaled()).isFalse();
            timeline.advance(Long.MAX_VALUE);
            assertThat(timeline.value()).isEqualTo(Long.MAX_VALUE);
            assertThat(far.isSignaled()).isTrue();
        }
    }

    /**
     * The boundaries: a point equal to the counter has been reached (signalled at once), the next
     * one has not; advancing by 0 is allowed and signals nothing; advancing exactly to a point
     * signals it.
     */
    @Test
    void boundaries() {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            timeline.advance(3);
            assertThat(timeline.fenceAt(3).isSignaled()).isTrue();
            Fence four = timeline.fenceAt(4);
            assertThat(four.isSignaled()).isFalse();
            timeline.advance(0);
            assertThat(timeline.value()).isEqualTo(3);
            assertThat(four.isSignaled()).isFalse();
            timeline.advance(1);
            assertThat(four.isSignaled()).isTrue();
        }
    }

    /**
     * Several threads advancing and creating points at once, released together by a barrier: no
     * advance is lost, every point up to the final value signals without error, and points
     * signal in increasing order.
     */
    @Test
    void concurrentAdvancesAreSerialised() throws Exception {
        int threads = 4;
        int steps = 2_000;
        List<Long> order = Collections.synchronizedList(new ArrayList<>());
        List<Fence> points = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < steps; i++) {
                            Fence f = timeline.fenceAt(timeline.value() + 2);
                            if (f.addCallback(x -> order.add(x.seqno()))) {
                                points.add(f);
                            }
                            timeline.advance(1);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            for (Thread w : workers) {
                w.join(TimeUnit.SECONDS.toMillis(60));
                assertThat(w.isAlive()).as("a worker is stuck on the timeline's lock").isFalse();
            }
            assertThat(failures).isEmpty();
            assertThat(timeline.value()).isEqualTo((long) threads * steps);
            assertThat(points).allMatch(f -> f.seqno() > timeline.value() || f.status() == Fence.Status.SIGNALED);
            assertThat(order).isSorted();
        }
    }

    /** Advancing a fresh timeline by zero leaves it at zero: a pending point stays pending. */
    @Test
    void advanceByZeroFromZero() {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            Fence five = timeline.fenceAt(5);
            timeline.advance(0);
            assertThat(timeline.value()).isZero();
            assertThat(five.isSignaled()).isFalse();
        }
    }

    /** close() and toString() release the timeline's lock: another thread can use it afterwards. */
    @Test
    void closeAndToStringReleaseTheLock() throws Exception {
        SyncTimeline timeline = SyncTimeline.create("sw");
        assertThat(timeline.toString()).isEqualTo("SyncTimeline[sw#" + timeline.context() + " at 0, 0 pending]");
        timeline.close();
        timeline.close();
        CompletableFuture<String> other = CompletableFuture.supplyAsync(timeline::toString);
        assertThat(other.get(30, TimeUnit.SECONDS)).endsWith(", closed]");
    }
}
