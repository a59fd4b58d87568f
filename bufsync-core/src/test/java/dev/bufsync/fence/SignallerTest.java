package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tests of the forgotten-fence protection: a fence whose {@link Signaller} becomes unreachable
 * while pending is signalled with a {@link FenceAbandonedException} and reported to the handler.
 * Garbage collection is requested in a bounded loop until the effect is observed.
 */
class SignallerTest {
    private static final int GC_ATTEMPTS = 50;

    private final Set<Fence> reported = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void collectReports() {
        Fences.setAbandonedHandler(reported::add);
    }

    @AfterEach
    void restoreHandler() {
        Fences.setAbandonedHandler(null);
    }

    /** Returns the fence of a signaller that is dropped on return, so that only the fence stays reachable. */
    private static Fence forgotten(String name, Throwable pendingError) {
        Signaller s = FenceContext.create(name).next();
        if (pendingError != null) {
            s.setError(pendingError);
        }
        return s.fence();
    }

    /** Requests garbage collection until {@code fence} has been reported abandoned, or gives up. */
    private void collectUntilReported(Fence fence) throws InterruptedException {
        for (int i = 0; i < GC_ATTEMPTS && !reported.contains(fence); i++) {
            System.gc();
            fence.await(Duration.ofMillis(20));
        }
    }

    /** Requests garbage collection until {@code outcome} completes, or gives up; returns it. */
    private static <T> CompletableFuture<T> collectUntilDone(CompletableFuture<T> outcome) {
        collectUntil(outcome::isDone);
        return outcome;
    }

    /** Requests garbage collection until {@code done} holds, or gives up. */
    private static void collectUntil(BooleanSupplier done) {
        for (int i = 0; i < GC_ATTEMPTS && !done.getAsBoolean(); i++) {
            System.gc();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /**
     * Creates a fence, registers a callback that records the fence's error into the returned
     * future, and drops both the fence and its signaller: only the callback registration is left.
     */
    private static CompletableFuture<Throwable> callbackOnlyFence(Fence fence) {
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        assertThat(fence.addCallback(f -> seen.complete(f.error()))).isTrue();
        return seen;
    }

    /** A forgotten fence signals with FenceAbandonedException naming it, and the handler is told. */
    @Test
    void forgottenFenceIsSignaledWithError() throws InterruptedException {
        Fence fence = forgotten("forgotten", null);
        assertThat(fence.isSignaled()).isFalse();
        collectUntilReported(fence);
        assertThat(reported).contains(fence);
        assertThat(fence.status()).isEqualTo(Fence.Status.FAILED);
        assertThat(fence.error()).isExactlyInstanceOf(FenceAbandonedException.class)
                .hasMessageContaining("forgotten#" + fence.context() + ":1 abandoned")
                .hasMessageContaining("Signaller became unreachable")
                .hasNoCause();
    }

    /** The error the producer had set before forgetting the fence becomes the cause. */
    @Test
    void pendingErrorBecomesCause() throws InterruptedException {
        IOException eio = new IOException("EIO");
        Fence fence = forgotten("forgotten-with-error", eio);
        collectUntilReported(fence);
        assertThat(fence.error()).isExactlyInstanceOf(FenceAbandonedException.class).hasCause(eio);
    }

    /** A waiter blocked on a forgotten fence is released, and callbacks run once, with the error. */
    @Test
    void waiterOnForgottenFenceIsReleased() throws Exception {
        Fence fence = forgotten("forgotten-waited", null);
        List<Throwable> seen = new CopyOnWriteArrayList<>();
        fence.addCallback(f -> seen.add(f.error()));
        CompletableFuture<Void> waited = CompletableFuture.runAsync(() -> {
            try {
                fence.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        collectUntilReported(fence);
        waited.get(20, TimeUnit.SECONDS);
        assertThat(seen).singleElement().isInstanceOf(FenceAbandonedException.class);
    }

    /** A CompletionStage dropped without completing abandons the fence made from it. */
    @Test
    void droppedStageAbandonsItsFence() throws InterruptedException {
        Fence fence = Fence.from(new CompletableFuture<Void>());
        collectUntilReported(fence);
        assertThat(fence.error()).isInstanceOf(FenceAbandonedException.class);
    }

    /**
     * A fence that nothing refers to but its own callback, dropped together with its signaller,
     * is still abandoned: the callback runs with the error (the engine keeps a job's work fence
     * only through such a callback).
     */
    @Test
    void fenceKeptOnlyByItsCallbackIsAbandoned() {
        CompletableFuture<Throwable> seen = collectUntilDone(
                callbackOnlyFence(FenceContext.create("callback-only").next().fence()));
        assertThat(seen).isCompletedWithValueMatching(e -> e instanceof FenceAbandonedException,
                "abandoned");
    }

    /** The same for a fence made from a stage that is dropped without completing. */
    @Test
    void stageFenceKeptOnlyByItsCallbackIsAbandoned() {
        CompletableFuture<Throwable> seen = collectUntilDone(
                callbackOnlyFence(Fence.from(new CompletableFuture<Void>())));
        assertThat(seen).isCompletedWithValueMatching(e -> e instanceof FenceAbandonedException,
                "abandoned");
    }

    /**
     * A callback of an abandoned fence that blocks delays no other abandonment: the reaper only
     * flips the state, and callbacks run on a thread of their own.
     */
    @Test
    void blockingCallbackDoesNotDelayOtherAbandonments() throws InterruptedException {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> threads = new CopyOnWriteArrayList<>();
        Fence first = forgotten("blocking", null);
        first.addCallback(f -> {
            threads.add(Thread.currentThread().getName());
            blocked.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            collectUntil(() -> blocked.getCount() == 0);
            assertThat(blocked.getCount()).as("the first fence's callback ran").isZero();
            Fence second = forgotten("behind-a-blocking-callback", null);
            collectUntilReported(second);
            assertThat(reported).as("abandoned while another callback blocks").contains(second);
            assertThat(second.error()).isInstanceOf(FenceAbandonedException.class);
            assertThat(threads).containsExactly("bufsync-fence-abandoned");
        } finally {
            release.countDown();
        }
    }

    /**
     * The reaper roots most watches in a table slot chosen by context and sequence number; a fence
     * whose slot is taken is watched from the overflow lists, and is still abandoned when its
     * signaller is dropped.
     */
    @Test
    void forgottenFenceInTheOverflowIsAbandoned() throws InterruptedException {
        FenceContext context = FenceContext.create("overflow");
        Signaller home = context.signallerAt(1);
        Fence overflowed = forgottenInTheOverflow(context, 1 + Reaper.SLOTS);
        collectUntilReported(overflowed);
        assertThat(reported).contains(overflowed);
        assertThat(overflowed.error()).isInstanceOf(FenceAbandonedException.class);
        home.signal();
        assertThat(Reaper.isWatched(home.watcher())).isFalse();
    }

    /** Returns the fence of a dropped signaller with sequence number {@code seqno}, asserting it overflowed. */
    private static Fence forgottenInTheOverflow(FenceContext context, long seqno) {
        Signaller s = context.signallerAt(seqno);
        assertThat(Reaper.inTable(s.watcher())).as("home slot taken").isFalse();
        assertThat(Reaper.isWatched(s.watcher())).as("watched from the overflow").isTrue();
        return s.fence();
    }

    /** The reaper unroots the watch of a fence it abandons: the table slot is free again. */
    @Test
    void abandonmentStopsTheWatch() throws InterruptedException {
        Signaller s = FenceContext.create("unrooted").next();
        Reaper.Ref watch = s.watcher();         // phantom: holding it does not keep s reachable
        Fence fence = s.fence();
        assertThat(Reaper.isWatched(watch)).isTrue();
        s = null;
        collectUntilReported(fence);
        assertThat(reported).contains(fence);
        assertThat(Reaper.isWatched(watch)).isFalse();
    }

    /** Signalling stops the watch, in the table and in the overflow alike; the slot is free again. */
    @Test
    void signalStopsTheWatchWhereverItIs() {
        FenceContext context = FenceContext.create("unwatched");
        Signaller home = inItsHomeSlot(context);
        long seqno = home.fence().seqno();
        Signaller overflowed = context.signallerAt(seqno + Reaper.SLOTS);
        assertThat(Reaper.isWatched(overflowed.watcher())).isTrue();
        assertThat(Reaper.inTable(overflowed.watcher())).isFalse();
        overflowed.signal();
        home.signal();
        assertThat(Reaper.isWatched(overflowed.watcher())).isFalse();
        assertThat(Reaper.isWatched(home.watcher())).isFalse();
        Signaller next = context.signallerAt(seqno + 2 * Reaper.SLOTS);
        assertThat(Reaper.inTable(next.watcher())).as("the slot given back is taken by the next fence").isTrue();
        next.signal();
    }

    /**
     * A signaller of {@code context} whose watch holds its home slot: the first of sequence
     * numbers 1, 2, ... whose slot no pending fence of another test holds (the others are
     * signalled at once).
     */
    private static Signaller inItsHomeSlot(FenceContext context) {
        for (long seqno = 1; ; seqno++) {
            Signaller s = context.signallerAt(seqno);
            if (Reaper.inTable(s.watcher())) {
                return s;
            }
            s.signal();
            assertThat(seqno).as("a free slot among the first 64").isLessThan(64);
        }
    }

    /** A signalled fence is never reported when its signaller is collected later. */
    @Test
    void signaledFenceIsNotReported() throws InterruptedException {
        Signaller s = FenceContext.create("signalled").next();
        Fence signalled = s.fence();
        s.signal();
        s = null;
        Fence probe = forgotten("probe", null);
        collectUntilReported(probe);
        assertThat(reported).contains(probe).doesNotContain(signalled);
        assertThat(signalled.status()).isEqualTo(Fence.Status.SIGNALED);
    }

    /** Only the first signal counts: try* report whether they signalled, the others refuse, and the first error stays. */
    @Test
    void secondSignalRefused() {
        Signaller s = FenceContext.create("twice").next();
        assertThat(s.trySignal(new IOException("first"))).isTrue();
        assertThat(s.trySignal()).isFalse();
        assertThat(s.trySignal(new IOException("second"))).isFalse();
        assertThatThrownBy(s::signal).isInstanceOf(IllegalStateException.class).hasMessageContaining("already signaled");
        assertThatThrownBy(() -> s.signal(new IOException("third"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> s.setError(new IOException("late"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("setError");
        assertThat(s.fence().error()).hasMessage("first");
        assertThat(s.toString()).isEqualTo("Signaller[" + s.fence() + "]");
    }
}
