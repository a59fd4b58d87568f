package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
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
}
