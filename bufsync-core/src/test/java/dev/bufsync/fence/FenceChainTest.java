package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link FenceChain}: ports of the kernel's {@code st-dma-fence-chain.c}, then more. */
class FenceChainTest {
    private static final int CHAIN_SZ = 4096;
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    /** The kernel's fence_chains: one mock fence per link, each link after the previous. */
    private static final class Chains {
        final Signaller[] fences;
        final FenceChain[] chains;
        FenceChain tail;

        Chains(int count, LongUnaryOperator seqno) {
            fences = new Signaller[count];
            chains = new FenceChain[count];
            for (int i = 0; i < count; i++) {
                fences[i] = FenceContext.create("mock").next();
                chains[i] = FenceChain.link(tail, fences[i].fence(), seqno.applyAsLong(i));
                tail = chains[i];
            }
        }

        /** Signals every fence not yet signalled (the kernel's fence_chains_fini). */
        void fini() {
            for (Signaller s : fences) {
                s.trySignal();
            }
        }
    }

    private static Chains chains(int count) {
        return new Chains(count, i -> i + 1);
    }

    // ------------------------------------------------------------ st-dma-fence-chain.c

    /** The kernel's sanitycheck: one link signals when its fence does. */
    @Test
    void sanitycheck() {
        Signaller f = FenceContext.create("mock").next();
        FenceChain chain = FenceChain.link(null, f.fence(), 1);
        assertThat(chain.isSignaled()).isFalse();
        f.signal();
        assertThat(chain.isSignaled()).isTrue();
    }

    /** The kernel's find_seqno: each point of a 64-link chain is found at its link; future points are refused. */
    @Test
    void findSeqno() {
        Chains fc = chains(64);
        try {
            assertThat(fc.tail.find(0)).containsSame(fc.tail);
            for (int i = 0; i < fc.chains.length; i++) {
                Fence found = fc.tail.find(i + 1).orElseThrow();
                assertThat(found).as("find_seqno(%d)", i + 1).isSameAs(fc.chains[i]);
                FenceChain link = (FenceChain) found;
                assertThat(link.find(i + 1)).as("find self").containsSame(fc.chains[i]);
                assertThat(link.find(i + 2)).as("future point %d from %d", i + 2, i + 1).isEmpty();
                Fence previous = link.find(i).orElseThrow();
                assertThat(previous).isSameAs(i > 0 ? fc.chains[i - 1] : fc.chains[i]);
            }
        } finally {
            fc.fini();
        }
    }

    /** The kernel's find_signaled: a signalled first point is found as its link or as signalled. */
    @Test
    void findSignaled() {
        Chains fc = chains(2);
        try {
            fc.fences[0].signal();
            Fence found = fc.tail.find(1).orElseThrow();
            assertThat(found).isIn(fc.chains[0], Fences.stub());
            assertThat(found.isSignaled()).isTrue();
        } finally {
            fc.fini();
        }
    }

    /** The kernel's find_out_of_order: with the middle fence signalled, point 2 still waits for link 1. */
    @Test
    void findOutOfOrder() {
        Chains fc = chains(3);
        try {
            fc.fences[1].signal();
            assertThat(fc.tail.find(2)).containsSame(fc.chains[0]);
            assertThat(fc.chains[1].isSignaled()).isFalse();
        } finally {
            fc.fini();
        }
    }

    /** The kernel's find_gap: with even points only, an odd point maps to the next link. */
    @Test
    void findGap() {
        Chains fc = new Chains(64, i -> 2 * i + 2);
        try {
            for (int i = 0; i < fc.chains.length; i++) {
                FenceChain link = (FenceChain) fc.tail.find(2 * i + 1).orElseThrow();
                assertThat(link).as("find_seqno(%d)", 2 * i + 1).isSameAs(fc.chains[i]);
                assertThat(link.find(2 * i + 2)).as("find self").containsSame(fc.chains[i]);
            }
        } finally {
            fc.fini();
        }
    }

    /**
     * The kernel's find_race: threads look up random points of a 4096-link chain while signalling
     * random fences; a point at or before the head is always found.
     */
    @Test
    void findRace() throws Exception {
        Chains fc = chains(CHAIN_SZ);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Long>> cycles = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                cycles.add(pool.submit(() -> findRaceLoop(fc, deadline)));
            }
            long total = 0;
            for (Future<Long> c : cycles) {
                total += c.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
            assertThat(total).isPositive();
        } finally {
            pool.shutdownNow();
            fc.fini();
        }
    }

    private static long findRaceLoop(Chains fc, long deadline) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        long cycles = 0;
        while (System.nanoTime() - deadline < 0) {
            long seqno = rnd.nextLong(1, fc.chains.length + 1);
            Optional<Fence> found = fc.tail.find(seqno);
            assertThat(found).as("find_seqno(%d)", seqno).isPresent();
            if (found.get() instanceof FenceChain link && link.seqno() == seqno) {
                assertThat(link.find(seqno)).as("find-self %d", seqno).isPresent();
            }
            fc.fences[rnd.nextInt(fc.chains.length - 1)].trySignal();
            cycles++;
        }
        return cycles;
    }

    /** The kernel's signal_forward: signalling fences in order signals exactly their links. */
    @Test
    void signalForward() {
        Chains fc = chains(64);
        try {
            for (int i = 0; i < fc.chains.length; i++) {
                fc.fences[i].signal();
                assertThat(fc.chains[i].isSignaled()).as("chain[%d] signaled", i).isTrue();
                if (i + 1 < fc.chains.length) {
                    assertThat(fc.chains[i + 1].isSignaled()).as("chain[%d] pending", i + 1).isFalse();
                }
            }
        } finally {
            fc.fini();
        }
    }

    /** The kernel's signal_backward: no link signals until every earlier fence has. */
    @Test
    void signalBackward() {
        Chains fc = chains(64);
        try {
            for (int i = fc.chains.length - 1; i >= 0; i--) {
                fc.fences[i].signal();
                if (i > 0) {
                    assertThat(fc.chains[i].isSignaled()).as("chain[%d] pending", i).isFalse();
                }
            }
            for (int i = 0; i < fc.chains.length; i++) {
                assertThat(fc.chains[i].isSignaled()).as("chain[%d] signaled", i).isTrue();
            }
        } finally {
            fc.fini();
        }
    }

    /** The kernel's wait_forward: a waiter on the tail of 4096 links wakes after in-order signals. */
    @Test
    void waitForward() throws Exception {
        Chains fc = chains(CHAIN_SZ);
        waitWhileSignalling(fc, order(CHAIN_SZ));
    }

    /** The kernel's wait_backward: a waiter on the tail of 4096 links wakes after reverse-order signals. */
    @Test
    void waitBackward() throws Exception {
        Chains fc = chains(CHAIN_SZ);
        List<Integer> order = order(CHAIN_SZ);
        Collections.reverse(order);
        waitWhileSignalling(fc, order);
    }

    /** The kernel's wait_random: a waiter on the tail of 4096 links wakes after shuffled signals. */
    @Test
    void waitRandom() throws Exception {
        Chains fc = chains(CHAIN_SZ);
        List<Integer> order = order(CHAIN_SZ);
        Collections.shuffle(order, new Random(ThreadLocalRandom.current().nextLong()));
        waitWhileSignalling(fc, order);
    }

    private static List<Integer> order(int n) {
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        return order;
    }

    private static void waitWhileSignalling(Chains fc, List<Integer> order) throws Exception {
        CompletableFuture<Void> waited = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().daemon().start(() -> {
            try {
                fc.tail.await();
                waited.complete(null);
            } catch (Throwable t) {
                waited.completeExceptionally(t);
            }
        });
        FenceTest.awaitParked(waiter);
        for (int i : order) {
            assertThat(waited).isNotDone();
            fc.fences[i].signal();
        }
        waited.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        for (FenceChain c : fc.chains) {
            assertThat(c.isSignaled()).isTrue();
        }
        waiter.join();
    }

    // ------------------------------------------------------------ beyond the kernel's tests

    /** A later point joins the previous link's context; an earlier one starts a new context, clamped. */
    @Test
    void contextsAndClamping() {
        Signaller a = FenceContext.create("a").next();
        Signaller b = FenceContext.create("b").next();
        Signaller c = FenceContext.create("c").next();
        FenceChain one = FenceChain.link(null, a.fence(), 5);
        FenceChain two = FenceChain.link(one, b.fence(), 7);
        FenceChain back = FenceChain.link(two, c.fence(), 3);
        assertThat(two.context()).isEqualTo(one.context());
        assertThat(two.seqno()).isEqualTo(7);
        assertThat(back.context()).isNotEqualTo(two.context());
        assertThat(back.seqno()).isEqualTo(7);
        assertThat(back.find(7)).containsSame(back);
        a.signal();
        b.signal();
        c.signal();
    }

    /** A point equal to the previous link's is not later: it starts a new context at that point. */
    @Test
    void equalPointStartsNewContext() {
        Signaller a = FenceContext.create("a").next();
        Signaller b = FenceContext.create("b").next();
        FenceChain one = FenceChain.link(null, a.fence(), 5);
        FenceChain same = FenceChain.link(one, b.fence(), 5);
        assertThat(same.context()).isNotEqualTo(one.context());
        assertThat(same.seqno()).isEqualTo(5);
        assertThat(same.find(5)).containsSame(same);
        b.signal();
        assertThat(same.isSignaled()).as("waits for the previous point").isFalse();
        a.signal();
        assertThat(same.isSignaled()).isTrue();
    }

    /** A link signals with the error of its own fence only; earlier errors stay with their links. */
    @Test
    void linkCarriesItsOwnError() {
        Signaller a = FenceContext.create("a").next();
        Signaller b = FenceContext.create("b").next();
        FenceChain one = FenceChain.link(null, a.fence(), 1);
        FenceChain two = FenceChain.link(one, b.fence(), 2);
        IOException eio = new IOException("EIO");
        b.signal(eio);
        assertThat(two.isSignaled()).isFalse();
        a.signal();
        assertThat(one.status()).isEqualTo(Fence.Status.SIGNALED);
        assertThat(two.error()).isSameAs(eio);
    }

    /** A chain given as a link's fence is flattened: the contained fence is never a chain. */
    @Test
    void nestedChainIsFlattened() {
        Signaller a = FenceContext.create("a").next();
        Signaller b = FenceContext.create("b").next();
        FenceChain inner = FenceChain.link(FenceChain.link(null, a.fence(), 1), b.fence(), 2);
        FenceChain outer = FenceChain.link(null, inner, 1);
        assertThat(outer.contained()).isInstanceOf(FenceArray.class);
        assertThat(((FenceArray) outer.contained()).fences()).containsExactlyInAnyOrder(a.fence(), b.fence());
        a.signal();
        assertThat(outer.isSignaled()).isFalse();
        b.signal();
        assertThat(outer.isSignaled()).isTrue();
    }

    /** A deadline on the head reaches every pending point's fence. */
    @Test
    void deadlineReachesEarlierPoints() {
        Chains fc = chains(100);
        try {
            fc.fences[10].signal();
            long d = System.nanoTime() + 1_000_000;
            fc.tail.setDeadline(d);
            for (int i = 0; i < fc.fences.length; i++) {
                if (i != 10) {
                    assertThat(fc.fences[i].deadline()).as("fence %d", i).hasValue(d);
                }
            }
        } finally {
            fc.fini();
        }
    }

    /** Signalled links are collected: a long-lived timeline does not keep its past reachable. */
    @Test
    void signaledLinksAreCollected() {
        Signaller last = FenceContext.create("last").next();
        WeakReference<FenceChain> first = new WeakReference<>(null);
        FenceChain head = null;
        for (int i = 1; i <= 10_000; i++) {
            Signaller s = FenceContext.create("mock").next();
            head = FenceChain.link(head, s.fence(), i);
            if (i == 1) {
                first = new WeakReference<>(head);
            }
            s.signal();
        }
        head = FenceChain.link(head, last.fence(), 10_001);
        for (int i = 0; i < 20 && first.get() != null; i++) {
            System.gc();
        }
        assertThat(first.get()).as("first link still reachable from the head").isNull();
        assertThat(Fences.unwrap(head)).containsExactly(last.fence());
        last.signal();
        assertThat(head.isSignaled()).isTrue();
    }

    /** A walk unlinks a link whose fence signalled out of order, as the kernel's chain walk does. */
    @Test
    void walkUnlinksSignaledFences() {
        Chains fc = chains(3);
        try {
            fc.fences[1].signal();
            assertThat(Fences.unwrap(fc.tail)).containsExactly(fc.fences[2].fence(), fc.fences[0].fence());
            fc.fences[0].signal();
            assertThat(fc.chains[1].isSignaled()).isTrue();
            assertThat(Fences.unwrap(fc.tail)).containsExactly(fc.fences[2].fence());
        } finally {
            fc.fini();
        }
    }

    /** A link describes itself on the "chain" timeline of its context. */
    @Test
    void linkDescribesItselfAsChain() {
        FenceChain link = FenceChain.link(null, Fences.stub(), 1);
        assertThat(link.toString()).startsWith("Fence[chain#" + link.context() + ":1 ");
    }
}
