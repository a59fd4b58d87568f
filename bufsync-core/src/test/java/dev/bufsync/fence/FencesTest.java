package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import dev.bufsync.LogCapture;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of {@link Fences}: ports of the kernel's {@code st-dma-fence-unwrap.c} (unwrap and the
 * merge laws), then waiting for any or all, and the stubs.
 */
class FencesTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    /** The kernel's mock_fence: a pending fence on a fresh context. */
    private static Signaller mock() {
        return FenceContext.create("mock").next();
    }

    // ------------------------------------------------------------ st-dma-fence-unwrap.c

    /** The kernel's sanitycheck: a chain of an array of one fence can be built and unwrapped. */
    @Test
    void sanitycheck() {
        Signaller f = mock();
        FenceArray array = FenceArray.allOf(f.fence());
        FenceChain chain = FenceChain.link(null, array, 1);
        assertThat(Fences.unwrap(chain)).containsExactly(f.fence());
        f.signal();
        assertThat(chain.isSignaled()).isTrue();
    }

    /** The kernel's unwrap_array: unwrapping an array visits both of its fences. */
    @Test
    void unwrapArray() {
        Signaller f1 = mock();
        Signaller f2 = mock();
        assertThat(Fences.unwrap(FenceArray.allOf(f1.fence(), f2.fence()))).containsExactly(f1.fence(), f2.fence());
        f1.signal();
        f2.signal();
    }

    /** The kernel's unwrap_chain: unwrapping a link visits its fence and the fence before it. */
    @Test
    void unwrapChain() {
        Signaller f1 = mock();
        Signaller f2 = mock();
        FenceChain chain = FenceChain.link(f1.fence(), f2.fence(), 1);
        assertThat(Fences.unwrap(chain)).containsExactly(f2.fence(), f1.fence());
        f1.signal();
        f2.signal();
    }

    /** The kernel's unwrap_chain_array: unwrapping a link whose fence is an array visits its members. */
    @Test
    void unwrapChainArray() {
        Signaller f1 = mock();
        Signaller f2 = mock();
        FenceChain chain = FenceChain.link(null, FenceArray.allOf(f1.fence(), f2.fence()), 1);
        assertThat(Fences.unwrap(chain)).containsExactly(f1.fence(), f2.fence());
        f1.signal();
        f2.signal();
    }

    /** The kernel's unwrap_merge: merging two pending fences gives an array of exactly both. */
    @Test
    void unwrapMerge() {
        Signaller f1 = mock();
        Signaller f2 = mock();
        Fence f3 = Fences.merge(f1.fence(), f2.fence());
        assertThat(f3).isInstanceOf(FenceArray.class);
        assertThat(Fences.unwrap(f3)).containsExactly(f1.fence(), f2.fence());
        f1.signal();
        assertThat(f3.isSignaled()).isFalse();
        f2.signal();
        assertThat(f3.isSignaled()).isTrue();
    }

    /** The kernel's unwrap_merge_duplicate: merging a fence with itself gives that fence. */
    @Test
    void unwrapMergeDuplicate() {
        Signaller f1 = mock();
        assertThat(Fences.merge(f1.fence(), f1.fence())).isSameAs(f1.fence());
        f1.signal();
    }

    /** The kernel's unwrap_merge_seqno: of two fences of one context only the later is kept. */
    @Test
    void unwrapMergeSeqno() {
        FenceContext ctx0 = FenceContext.create("ctx0");
        FenceContext ctx1 = FenceContext.create("ctx1");
        Signaller f1 = ctx1.next();
        Signaller f2 = ctx1.next();
        Signaller f3 = ctx0.next();
        Fence f4 = Fences.merge(f1.fence(), f2.fence(), f3.fence());
        assertThat(Fences.unwrap(f4)).containsExactly(f3.fence(), f2.fence());
        f1.signal();
        f2.signal();
        f3.signal();
    }

    /** The kernel's unwrap_merge_order: an array and a chain of the same fences merge in context order. */
    @Test
    void unwrapMergeOrder() {
        Signaller f1 = mock();
        Signaller f2 = mock();
        FenceArray a1 = FenceArray.allOf(f1.fence(), f2.fence());
        FenceChain c2 = FenceChain.link(FenceChain.link(null, f1.fence(), 1), f2.fence(), 1);
        Fence a2 = Fences.merge(a1, c2);
        assertThat(Fences.unwrap(a2)).containsExactly(f1.fence(), f2.fence());
        f1.signal();
        f2.signal();
    }

    /**
     * The kernel's unwrap_merge_complex: merge(f1, f2), an array of (f2, f1) and the stub merge to
     * exactly {f1, f2}: signalled fences are dropped, duplicates removed, the order is by context.
     */
    @Test
    void unwrapMergeComplex() {
        Signaller f1 = mock();
        Signaller f2 = mock();
        Fence f3 = Fences.merge(f1.fence(), f2.fence());
        FenceArray f4 = FenceArray.allOf(f2.fence(), f1.fence());
        Fence f5 = Fences.merge(f3, f4, Fences.stub());
        assertThat(Fences.unwrap(f5)).containsExactly(f1.fence(), f2.fence());
        f1.signal();
        f2.signal();
        assertThat(f5.isSignaled()).isTrue();
    }

    /** The kernel's unwrap_merge_complex_seqno: two arrays over two contexts keep the latest of each. */
    @Test
    void unwrapMergeComplexSeqno() {
        FenceContext ctx0 = FenceContext.create("ctx0");
        FenceContext ctx1 = FenceContext.create("ctx1");
        Signaller f3 = ctx0.next();
        Signaller f1 = ctx0.next();
        Signaller f2 = ctx1.next();
        Signaller f4 = ctx1.next();
        FenceArray f5 = FenceArray.allOf(f1.fence(), f2.fence());
        FenceArray f6 = FenceArray.allOf(f3.fence(), f4.fence());
        Fence f7 = Fences.merge(f5, f6);
        assertThat(Fences.unwrap(f7)).containsExactly(f1.fence(), f4.fence());
        for (Signaller s : List.of(f3, f1, f2, f4)) {
            s.signal();
        }
    }

    // ------------------------------------------------------------ the merge laws

    /** A single survivor is returned as itself, whatever was dropped around it. */
    @Test
    void mergeOfOneSurvivorIsThatFence() {
        Signaller pending = mock();
        Signaller done = mock();
        done.signal();
        assertThat(Fences.merge(pending.fence())).isSameAs(pending.fence());
        assertThat(Fences.merge(Fences.stub(), done.fence(), pending.fence())).isSameAs(pending.fence());
        pending.signal();
    }

    /** With every fence signalled the result is a signalled stub carrying the latest timestamp. */
    @Test
    void mergeOfSignaledIsStubWithLatestTimestamp() {
        Fence early = Fences.signaledAt(100L);
        Fence late = Fences.signaledAt(300L);
        Fence middle = Fences.signaledAt(200L);
        Fence merged = Fences.merge(early, late, middle);
        assertThat(merged.isSignaled()).isTrue();
        assertThat(merged.context()).isZero();
        assertThat(merged.timestamp()).isEqualTo(300L);
        assertThat(Fences.merge()).isSameAs(Fences.stub());
    }

    /** Merging drops signalled fences with their errors (as the kernel does). */
    @Test
    void mergeDropsSignaledErrors() {
        Signaller failed = mock();
        failed.signal(new IllegalStateException("gone"));
        Signaller pending = mock();
        Fence merged = Fences.merge(failed.fence(), pending.fence());
        assertThat(merged).isSameAs(pending.fence());
        pending.signal();
        assertThat(merged.error()).isNull();
    }

    /** The result of merging several is a flat all-of array on a fresh context. */
    @Test
    void mergeOfSeveralIsFlatArray() {
        Signaller a = mock();
        Signaller b = mock();
        Signaller c = mock();
        Fence merged = Fences.merge(Fences.merge(a.fence(), b.fence()), c.fence());
        assertThat(merged).isInstanceOf(FenceArray.class);
        FenceArray array = (FenceArray) merged;
        assertThat(array.signalOnAny()).isFalse();
        assertThat(array.fences()).containsExactly(a.fence(), b.fence(), c.fence());
        assertThat(array.context()).isGreaterThan(c.fence().context());
        for (Signaller s : List.of(a, b, c)) {
            s.signal();
        }
        assertThat(merged.isSignaled()).isTrue();
    }

    // ------------------------------------------------------------ waiting for many

    /** awaitAny returns the lowest index of a signalled fence, at once if one has signalled. */
    @Test
    void awaitAnyReturnsSignaledIndex() throws InterruptedException {
        Signaller a = mock();
        Signaller b = mock();
        Signaller c = mock();
        List<Fence> fences = List.of(a.fence(), b.fence(), c.fence());
        assertThat(Fences.awaitAny(fences, Duration.ZERO)).isEqualTo(-1);
        c.signal();
        assertThat(Fences.awaitAny(fences)).isEqualTo(2);
        b.signal();
        assertThat(Fences.awaitAny(fences, Duration.ofSeconds(1))).isEqualTo(1);
        a.signal();
    }

    /** awaitAny wakes when the one fence another thread signals does, and reports its index. */
    @Test
    void awaitAnyWakesOnSignal() throws Exception {
        Signaller a = mock();
        Signaller b = mock();
        CompletableFuture<Integer> index = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().daemon().start(() -> {
            try {
                index.complete(Fences.awaitAny(List.of(a.fence(), b.fence())));
            } catch (Throwable t) {
                index.completeExceptionally(t);
            }
        });
        FenceTest.awaitParked(waiter);
        b.signal();
        assertThat(index.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(1);
        a.signal();
        waiter.join();
    }

    /** awaitAny times out with -1 when nothing signals. */
    @Test
    void awaitAnyTimesOut() throws InterruptedException {
        Signaller a = mock();
        long start = System.nanoTime();
        assertThat(Fences.awaitAny(List.of(a.fence()), Duration.ofMillis(5))).isEqualTo(-1);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(5));
        a.signal();
    }

    /**
     * With a fence already signalled, awaitAny does not wait, so an interrupt does not stop it:
     * it returns the index, whichever it is, and the interrupt status stays set.
     */
    @Test
    void awaitAnyOfASignalledFenceIgnoresInterrupt() throws InterruptedException {
        Signaller a = mock();
        Signaller b = mock();
        List<Fence> fences = List.of(a.fence(), b.fence());
        b.signal();
        Thread.currentThread().interrupt();
        try {
            assertThat(Fences.awaitAny(fences)).isEqualTo(1);
            a.signal();
            assertThat(Fences.awaitAny(fences)).isEqualTo(0);
            assertThat(Fences.awaitAny(fences, Duration.ofSeconds(1))).isEqualTo(0);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    /** A zero timeout polls: with nothing signalled it returns -1, even for an interrupted thread, and never throws. */
    @Test
    void awaitAnyZeroTimeoutPollIgnoresInterrupt() throws InterruptedException {
        Signaller a = mock();
        Thread.currentThread().interrupt();
        try {
            assertThat(Fences.awaitAny(List.of(a.fence()), Duration.ZERO)).isEqualTo(-1);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
            a.signal();
        }
    }

    /**
     * A waiter woken by the signal of its first fence returns that index even if it is
     * interrupted right after the signal: the signal came first.
     */
    @Test
    void awaitAnyReturnsTheFirstFenceSignalledBeforeAnInterrupt() throws Exception {
        Signaller a = mock();
        Signaller b = mock();
        CompletableFuture<Integer> index = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().daemon().start(() -> {
            try {
                index.complete(Fences.awaitAny(List.of(a.fence(), b.fence())));
            } catch (Throwable t) {
                index.completeExceptionally(t);
            }
        });
        FenceTest.awaitParked(waiter);
        a.signal();
        waiter.interrupt();
        assertThat(index.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(0);
        b.signal();
        waiter.join();
    }

    /**
     * An awaitAny that timed out leaves nothing registered on its fences: a pending fence does not
     * keep the thread that waited reachable.
     */
    @Test
    void timedOutAwaitAnyLeavesNoWaiterBehind() throws Exception {
        Signaller a = mock();
        Signaller b = mock();
        List<Fence> fences = List.of(a.fence(), b.fence());
        FenceTest.assertCollected(FenceTest.waitedOnce(() -> assertThat(Fences.awaitAny(fences, Duration.ofMillis(1)))
                .isEqualTo(-1)), "the thread whose awaitAny timed out");
        a.signal();
        b.signal();
    }

    /** awaitAny of nothing, and a negative timeout, are IllegalArgumentExceptions. */
    @Test
    void awaitAnyMisuse_IllegalArgumentException() {
        assertThatThrownBy(() -> Fences.awaitAny(List.of())).isExactlyInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Fences.awaitAny(List.of(Fences.stub()), Duration.ofNanos(-1)))
                .isExactlyInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Fences.awaitAll(List.of(Fences.stub()), Duration.ofNanos(-1)))
                .isExactlyInstanceOf(IllegalArgumentException.class);
    }

    /** awaitAll returns once every fence has signalled, and times out while one is pending. */
    @Test
    void awaitAllWaitsForEvery() throws Exception {
        Signaller a = mock();
        Signaller b = mock();
        List<Fence> fences = List.of(a.fence(), b.fence());
        a.signal();
        assertThat(Fences.awaitAll(fences, Duration.ZERO)).isFalse();
        assertThat(Fences.awaitAll(fences, Duration.ofMillis(2))).isFalse();
        CompletableFuture<Void> all = CompletableFuture.runAsync(() -> {
            try {
                Fences.awaitAll(fences);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        b.signal();
        all.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(Fences.awaitAll(fences, Duration.ZERO)).isTrue();
        assertThat(Fences.awaitAll(List.of(), Duration.ZERO)).isTrue();
    }

    /**
     * An any-of array is a leaf: unwrap keeps it whole, and an all-of array or a merge of it
     * signals as soon as one of its members does, not when all of them have.
     */
    @Test
    void anyOfIsNotFlattenedIntoAllOf() {
        Signaller x = mock();
        Signaller y = mock();
        FenceArray any = FenceArray.anyOf(x.fence(), y.fence());
        assertThat(Fences.unwrap(any)).containsExactly(any);
        FenceArray all = FenceArray.allOf(any);
        Fence merged = Fences.merge(any);
        FenceChain link = FenceChain.link(null, any, 1);
        Fence mergedWithOther = Fences.merge(List.of(any, Fences.stub()));
        assertThat(all.fences()).containsExactly(any);
        assertThat(Fences.unwrap(link)).containsExactly(any);
        x.signal();
        assertThat(all.isSignaled()).isTrue();
        assertThat(merged.isSignaled()).isTrue();
        assertThat(link.isSignaled()).isTrue();
        assertThat(mergedWithOther.isSignaled()).isTrue();
        y.signal();
    }

    /** merge refuses a null member by its index, in the collection and the varargs forms alike. */
    @Test
    void mergeNullMember_NullPointerException() {
        Signaller a = mock();
        assertThatThrownBy(() -> Fences.merge(Arrays.asList(a.fence(), null)))
                .isExactlyInstanceOf(NullPointerException.class).hasMessageContaining("fences[1] is null");
        assertThatThrownBy(() -> Fences.merge(a.fence(), null, a.fence()))
                .isExactlyInstanceOf(NullPointerException.class).hasMessageContaining("fences[1] is null");
        assertThatThrownBy(() -> Fences.unwrap(null)).isExactlyInstanceOf(NullPointerException.class);
        a.signal();
    }

    /**
     * A timed awaitAll waits for the whole budget across its fences: a generous timeout lets a
     * waiter parked on the second fence see both signal (a deadline computed in the past would
     * give up at once).
     */
    @Test
    void timedAwaitAllWaitsWithinTheDeadline() throws Exception {
        for (Duration timeout : List.of(Duration.ofDays(1), Duration.ofSeconds(Long.MAX_VALUE))) {
            Signaller a = mock();
            Signaller b = mock();
            CompletableFuture<Boolean> all = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().daemon().start(() -> {
                try {
                    all.complete(Fences.awaitAll(List.of(a.fence(), b.fence()), timeout));
                } catch (Throwable t) {
                    all.completeExceptionally(t);
                }
            });
            FenceTest.awaitParked(waiter);
            a.signal();
            FenceTest.awaitParked(waiter);
            assertThat(all).isNotDone();
            b.signal();
            assertThat(all.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    // ------------------------------------------------------------ handlers

    /**
     * A flood of abandoned fences cannot flood the log: the default handler, and the report of a
     * handler that throws, log at most {@link BoundedLog#LIMIT} lines a minute each (twice that
     * if the minute ends during the test); before, every report was one line.
     */
    @Test
    void abandonedReportsAreBounded() {
        int flood = 5 * BoundedLog.LIMIT;
        try (LogCapture log = LogCapture.of("dev.bufsync.fence")) {
            for (int i = 0; i < flood; i++) {
                Fences.reportAbandoned(Fences.stub());
            }
            Fences.setAbandonedHandler(f -> {
                throw new IllegalStateException("handler");
            });
            for (int i = 0; i < flood; i++) {
                Fences.reportAbandoned(Fences.stub());
            }
            assertThat(log.messages()).filteredOn(m -> m.startsWith("forgotten fence:"))
                    .hasSizeLessThanOrEqualTo(2 * BoundedLog.LIMIT);
            assertThat(log.messages()).filteredOn(m -> m.startsWith("abandoned-fence handler threw"))
                    .hasSizeLessThanOrEqualTo(2 * BoundedLog.LIMIT);
        } finally {
            Fences.setAbandonedHandler(null);
        }
    }

    /**
     * The default callback exception handler logs the failure as a warning with the throwable; a
     * handler that throws is logged as an error, with what it threw.
     */
    @Test
    void callbackFailuresAreLogged() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException handlerFailure = new IllegalStateException("handler");
        try (LogCapture log = LogCapture.of("dev.bufsync.fence")) {
            Fences.setCallbackExceptionHandler(null);
            Signaller first = mock();
            first.fence().addCallback(f -> {
                throw boom;
            });
            first.signal();
            Fences.setCallbackExceptionHandler((f, t) -> {
                throw handlerFailure;
            });
            Signaller second = mock();
            second.fence().addCallback(f -> {
                throw boom;
            });
            second.signal();
            assertThat(log.records()).anySatisfy(r -> {
                assertThat(r.getLevel()).isEqualTo(java.util.logging.Level.WARNING);
                assertThat(r.getMessage()).startsWith("callback on Fence[mock#" + first.fence().context() + ":")
                        .endsWith(" threw");
                assertThat(r.getThrown()).isSameAs(boom);
            });
            assertThat(log.records()).anySatisfy(r -> {
                assertThat(r.getLevel()).isEqualTo(java.util.logging.Level.SEVERE);
                assertThat(r.getMessage()).isEqualTo("callback exception handler threw");
                assertThat(r.getThrown()).isSameAs(handlerFailure);
            });
        } finally {
            Fences.setCallbackExceptionHandler(null);
        }
    }
}
