package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link FenceArray}: all-of and any-of, errors, flattening, deadlines. */
class FenceArrayTest {

    private static Signaller mock() {
        return FenceContext.create("mock").next();
    }

    /** An all-of array signals when its last member does, not before. */
    @Test
    void allOfSignalsWhenAllHave() {
        Signaller a = mock();
        Signaller b = mock();
        FenceArray array = FenceArray.allOf(a.fence(), b.fence());
        assertThat(array.signalOnAny()).isFalse();
        assertThat(array.seqno()).isEqualTo(1);
        a.signal();
        assertThat(array.isSignaled()).isFalse();
        b.signal();
        assertThat(array.status()).isEqualTo(Fence.Status.SIGNALED);
    }

    /** An all-of array carries the first member error in time, not in member order. */
    @Test
    void allOfPropagatesFirstError() {
        Signaller a = mock();
        Signaller b = mock();
        Signaller c = mock();
        FenceArray array = FenceArray.allOf(a.fence(), b.fence(), c.fence());
        IOException first = new IOException("first");
        c.signal(first);
        a.signal(new IOException("second"));
        assertThat(array.isSignaled()).isFalse();
        b.signal();
        assertThat(array.error()).isSameAs(first);
    }

    /** An any-of array signals with the outcome of the first member to signal. */
    @Test
    void anyOfSignalsWithFirstMember() {
        Signaller a = mock();
        Signaller b = mock();
        FenceArray array = FenceArray.anyOf(a.fence(), b.fence());
        assertThat(array.signalOnAny()).isTrue();
        IOException eio = new IOException("EIO");
        b.signal(eio);
        assertThat(array.error()).isSameAs(eio);
        a.signal();
        assertThat(array.error()).isSameAs(eio);
    }

    /**
     * A fence given twice to an any-of array is registered twice: its signal completes the array
     * through the first registration, and the second one, finding the array signalled, changes
     * nothing: the array's callbacks run once, with the member's outcome.
     */
    @Test
    void anyOfWithARepeatedMemberRunsItsCallbacksOnce() {
        Signaller a = mock();
        FenceArray array = FenceArray.anyOf(a.fence(), a.fence());
        List<Fence> ran = new ArrayList<>();
        array.addCallback(ran::add);
        array.addCallback(ran::add);
        IOException eio = new IOException("EIO");
        a.signal(eio);
        assertThat(ran).containsExactly(array, array);
        assertThat(array.error()).isSameAs(eio);
    }

    /** Members signalled before the array is created count at once. */
    @Test
    void signaledMembersCountAtCreation() {
        Signaller a = mock();
        a.signal();
        assertThat(FenceArray.allOf(a.fence(), Fences.stub()).isSignaled()).isTrue();
        Signaller pending = mock();
        assertThat(FenceArray.anyOf(pending.fence(), a.fence()).isSignaled()).isTrue();
        pending.signal();
        assertThat(FenceArray.allOf(List.of()).isSignaled()).isTrue();
    }

    /** An empty any-of array could never signal: IllegalArgumentException. */
    @Test
    void emptyAnyOf_IllegalArgumentException() {
        assertThatThrownBy(() -> FenceArray.anyOf(List.of())).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one member");
    }

    /** Containers given as members are flattened: arrays are never nested. */
    @Test
    void nestedContainersAreFlattened() {
        Signaller a = mock();
        Signaller b = mock();
        Signaller c = mock();
        Signaller d = mock();
        FenceArray inner = FenceArray.allOf(a.fence(), b.fence());
        FenceChain chain = FenceChain.link(null, c.fence(), 1);
        FenceArray outer = FenceArray.allOf(inner, chain, d.fence());
        assertThat(outer.fences()).containsExactly(a.fence(), b.fence(), c.fence(), d.fence());
        assertThat(outer.fences()).noneMatch(f -> f instanceof FenceArray || f instanceof FenceChain);

        FenceArray anyInner = FenceArray.anyOf(a.fence(), b.fence());
        assertThat(FenceArray.anyOf(anyInner, c.fence()).fences()).containsExactly(a.fence(), b.fence(), c.fence());
        for (Signaller s : List.of(a, b, c, d)) {
            s.signal();
        }
        assertThat(outer.isSignaled()).isTrue();
    }

    /** An all-of container cannot be flattened into an any-of array: IllegalArgumentException. */
    @Test
    void allOfInsideAnyOf_IllegalArgumentException() {
        Signaller a = mock();
        Signaller b = mock();
        FenceArray all = FenceArray.allOf(a.fence(), b.fence());
        FenceChain chain = FenceChain.link(null, a.fence(), 1);
        assertThatThrownBy(() -> FenceArray.anyOf(all, a.fence())).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be flattened");
        assertThatThrownBy(() -> FenceArray.anyOf(chain)).isExactlyInstanceOf(IllegalArgumentException.class);
        a.signal();
        b.signal();
    }

    /** A deadline on an array is passed on to its members. */
    @Test
    void deadlinePassesToMembers() {
        Signaller a = mock();
        Signaller b = mock();
        FenceArray array = FenceArray.allOf(a.fence(), b.fence());
        long d = System.nanoTime() + 1_000_000;
        array.setDeadline(d + 10);
        array.setDeadline(d);
        assertThat(a.deadline()).hasValue(d);
        assertThat(b.deadline()).hasValue(d);
        a.signal();
        b.signal();
    }

    /** The array's callbacks run on the thread signalling the last member, after the member's own. */
    @Test
    void arrayCallbacksRunAfterMemberCallbacks() {
        Signaller a = mock();
        FenceArray array = FenceArray.allOf(a.fence());
        List<String> log = new ArrayList<>();
        array.addCallback(f -> log.add("array"));
        a.fence().addCallback(f -> log.add("member"));
        a.signal();
        assertThat(log).containsExactly("member", "array");
    }

    /** Many threads signalling the members at once complete the array exactly once. */
    @Test
    void concurrentMemberSignalsCompleteOnce() throws Exception {
        int threads = 4;
        int perThread = 500;
        List<Signaller> members = new ArrayList<>();
        for (int i = 0; i < threads * perThread; i++) {
            members.add(mock());
        }
        FenceArray array = FenceArray.allOf(members.stream().map(Signaller::fence).toList());
        AtomicInteger runs = new AtomicInteger();
        array.addCallback(f -> runs.incrementAndGet());
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Signaller> mine = members.subList(t * perThread, (t + 1) * perThread);
                done.add(pool.submit(() -> {
                    start.await();
                    mine.forEach(Signaller::signal);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(20, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(array.isSignaled()).isTrue();
        assertThat(runs).hasValue(1);
    }

    /** An array describes itself with its kind, fresh context and status. */
    @Test
    void toStringNamesKind() {
        FenceArray all = FenceArray.allOf(Fences.stub());
        assertThat(all).hasToString("Fence[all-of#" + all.context() + ":1 SIGNALED]");
        assertThat(FenceArray.anyOf(Fences.stub()).toString()).startsWith("Fence[any-of#");
    }

    /** allOf and anyOf refuse a null member by its index, in the collection and varargs forms. */
    @Test
    void nullMember_NullPointerException() {
        Signaller a = mock();
        assertThatThrownBy(() -> FenceArray.allOf(Arrays.asList(a.fence(), null)))
                .isExactlyInstanceOf(NullPointerException.class).hasMessageContaining("fences[1] is null")
                .hasMessageContaining("all-of");
        assertThatThrownBy(() -> FenceArray.allOf(null, a.fence()))
                .isExactlyInstanceOf(NullPointerException.class).hasMessageContaining("fences[0] is null");
        assertThatThrownBy(() -> FenceArray.anyOf(Arrays.asList(a.fence(), null)))
                .isExactlyInstanceOf(NullPointerException.class).hasMessageContaining("fences[1] is null")
                .hasMessageContaining("any-of");
        a.signal();
    }

    /**
     * A completed any-of array withdraws from its pending members: a long-lived pending member
     * does not keep the array (and its callbacks) reachable.
     */
    @Test
    void completedAnyOfWithdrawsFromPendingMembers() {
        Signaller x = mock();
        Signaller longLived = mock();
        FenceTest.assertCollected(anyOfSignalledBy(x, longLived.fence()),
                "the completed any-of array, registered on its pending member,");
        assertThat(longLived.fence().isSignaled()).isFalse();
        longLived.signal();
    }

    /**
     * A signalled any-of array ignores a deadline hint: it does not pass it on to its members
     * still pending (their signal no longer matters to the array).
     */
    @Test
    void signalledAnyOfPassesNoDeadlineOn() {
        Signaller a = mock();
        Signaller b = mock();
        FenceArray any = FenceArray.anyOf(a.fence(), b.fence());
        a.signal();
        any.setDeadline(System.nanoTime());
        assertThat(b.deadline()).isEmpty();
        b.signal();
    }

    /** Builds anyOf(x, other) with a callback, signals x, and lets go of the array. */
    private static WeakReference<FenceArray> anyOfSignalledBy(Signaller x, Fence other) {
        FenceArray any = FenceArray.anyOf(x.fence(), other);
        AtomicInteger ran = new AtomicInteger();
        any.addCallback(f -> ran.incrementAndGet());
        x.signal();
        assertThat(ran).hasValue(1);
        return new WeakReference<>(any);
    }
}
