package dev.bufsync.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.LockResult;
import dev.bufsync.ww.RunQueue;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwClass.Algorithm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Exec#lockAllAsync}: the drm_exec loop as a chain of futures. Contention and retries run
 * on the test thread alone ({@link RunQueue}), where a blocking wait would hang the test; stress
 * with back-off injection runs there and on a pool; cancellation leaves nothing locked.
 */
class ExecAsyncTest {
    private static final Duration SAFETY_NET = Duration.ofSeconds(60);

    private static WwClass wwClass(Algorithm algorithm, boolean inject) {
        return WwClass.builder("exec-async-" + algorithm).algorithm(algorithm).injectBackoff(inject).build();
    }

    private static List<Reservation> reservations(WwClass cls, int n) {
        List<Reservation> rs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rs.add(new Reservation(cls, "r" + i));
        }
        return rs;
    }

    private static <T> T done(CompletableFuture<T> f) {
        assertThat(f).isDone();
        return f.join();
    }

    private static void assertFree(List<Reservation> rs) {
        for (Reservation r : rs) {
            assertThat(r.isLocked()).as("%s locked", r.name()).isFalse();
            assertThat(r.mutex().waiterCount()).as("%s waiters", r.name()).isZero();
        }
    }

    /**
     * ABBA between two future-chained transactions, each holding its first object when it asks
     * for its second: an older one (a context of its own) holds B and wants A; the exec holds A
     * and wants B. The exec backs off, waits for B without a thread, retries and completes,
     * all on the test thread.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaRetriesWithoutBlocking(Algorithm algorithm) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(algorithm, false);
            List<Reservation> rs = reservations(cls, 2);
            Reservation a = rs.get(0);
            Reservation b = rs.get(1);
            RunQueue queue = new RunQueue();
            AcquireContext older = cls.beginTransferable();
            older.detach();
            assertThat(done(b.mutex().lockAsync(older, queue))).isEqualTo(LockResult.ACQUIRED);

            CompletableFuture<Exec> younger = Exec.lockAllAsync(List.of(a, b), 1, queue);
            CompletableFuture<LockResult> olderWantsA = a.mutex().lockAsync(older, queue);
            queue.drain();
            assertThat(done(olderWantsA)).isEqualTo(LockResult.ACQUIRED);   // the exec gave way
            assertThat(younger).isNotDone();
            older.unlockAll();
            older.close();
            queue.drain();

            Exec exec = done(younger);
            assertThat(exec.retries()).isEqualTo(1);
            assertThat(exec.locked()).containsExactlyInAnyOrder(a, b);
            assertThat(exec.context().backoffs()).isEqualTo(1);
            exec.attach();
            assertThat(a.reservedSlots()).isEqualTo(1);
            assertThat(b.reservedSlots()).isEqualTo(1);
            exec.close();
            assertFree(rs);
        });
    }

    /** The usage idiom: fences are added in the stage that attached the exec; closed there. */
    @Test
    void fencesAddedAfterAttach() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        List<Reservation> rs = reservations(cls, 3);
        Signaller s = FenceContext.create("async").next();
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            Exec.lockAllAsync(rs, 1, pool).thenAcceptAsync(exec -> {
                try (exec) {
                    assertThatThrownBy(() -> rs.get(0).addFence(s.fence(), Usage.WRITE))
                            .isInstanceOf(IllegalStateException.class);       // not attached yet
                    exec.attach();
                    for (Reservation r : rs) {
                        r.addFence(s.fence(), Usage.WRITE);
                    }
                }
            }, pool).get(SAFETY_NET.toSeconds(), TimeUnit.SECONDS);
        }
        for (Reservation r : rs) {
            assertThat(r.fences(Usage.WRITE)).containsExactly(s.fence());
        }
        assertFree(rs);
        s.signal();
    }

    /**
     * Many lock-all transactions over random overlapping sets in random order, with back-off
     * injection and duplicates ignored, on the test thread alone: all complete, each holding its
     * whole set exclusively.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void stressWithInjectionOnOneThread(Algorithm algorithm) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(algorithm, true);
            List<Reservation> rs = reservations(cls, 8);
            RunQueue queue = new RunQueue();
            AtomicReferenceArray<Exec> inside = new AtomicReferenceArray<>(rs.size());
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < 200; t++) {
                all.add(transaction(rs, queue, inside));
                if (t % 5 == 0) {
                    queue.drain();
                }
            }
            queue.drain();
            all.forEach(ExecAsyncTest::done);
            assertThat(cls.stats().injected()).isPositive();
            assertFree(rs);
        });
    }

    /** The same on a pool: real concurrency between the chains. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void stressWithInjectionOnAPool(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm, true);
        List<Reservation> rs = reservations(cls, 12);
        AtomicReferenceArray<Exec> inside = new AtomicReferenceArray<>(rs.size());
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < 300; t++) {
                all.add(CompletableFuture.supplyAsync(() -> transaction(rs, pool, inside), pool).thenCompose(f -> f));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(SAFETY_NET.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(cls.stats().injected()).isPositive();
        assertFree(rs);
    }

    /** A random set of 4 (one listed twice) in random order; marks each as its own while it holds them all. */
    private static CompletableFuture<Void> transaction(List<Reservation> rs, Executor executor,
            AtomicReferenceArray<Exec> inside) {
        List<Integer> picks = new ArrayList<>();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (picks.size() < 4) {
            int i = random.nextInt(rs.size());
            if (!picks.contains(i)) {
                picks.add(i);
            }
        }
        List<Reservation> order = new ArrayList<>(picks.stream().map(rs::get).toList());
        order.add(order.get(0));
        Collections.shuffle(order, random);
        return Exec.lockAllAsync(order, 1, executor, Exec.Option.IGNORE_DUPLICATES).thenAccept(exec -> {
            try (exec) {
                for (int i : picks) {
                    if (!inside.compareAndSet(i, null, exec)) {
                        throw new AssertionError("r" + i + " held by " + inside.get(i) + " and " + exec);
                    }
                }
                assertThat(exec.locked()).hasSize(4);
                for (int i : picks) {
                    inside.set(i, null);
                }
            }
        });
    }

    /** Cancelled while waiting for its second object: the first is released, the request withdrawn. */
    @Test
    void cancelReleasesEverything() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        List<Reservation> rs = reservations(cls, 2);
        RunQueue queue = new RunQueue();
        AcquireContext holder = cls.beginTransferable();
        holder.detach();
        done(rs.get(1).mutex().lockAsync(holder, queue));
        CompletableFuture<Exec> f = Exec.lockAllAsync(rs, 1, queue);
        assertThat(rs.get(0).isLocked()).isTrue();
        assertThat(rs.get(1).mutex().waiterCount()).isEqualTo(1);

        assertThat(f.cancel(false)).isTrue();
        assertThat(f).isCancelled();
        assertThat(rs.get(0).isLocked()).isFalse();
        assertThat(rs.get(1).mutex().waiterCount()).isZero();
        assertThat(rs.get(1).mutex().holderContext()).isSameAs(holder);
        holder.unlockAll();
        holder.close();
        queue.drain();
        assertFree(rs);
    }

    /** A duplicate without IGNORE_DUPLICATES fails the future, with nothing left locked. */
    @Test
    void duplicateFailsAndReleases() {
        WwClass cls = wwClass(Algorithm.WAIT_DIE, false);
        List<Reservation> rs = reservations(cls, 2);
        CompletableFuture<Exec> f = Exec.lockAllAsync(List.of(rs.get(0), rs.get(1), rs.get(0)), 1, new RunQueue());
        assertThatThrownBy(f::join).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(ExecDuplicateException.class);
        assertFree(rs);
    }

    /** Bad arguments are refused before anything is locked, naming what is wrong. */
    @Test
    void badArguments() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        List<Reservation> rs = reservations(cls, 1);
        List<Reservation> withNull = new ArrayList<>(rs);
        withNull.add(null);
        assertThatThrownBy(() -> Exec.lockAllAsync(withNull, 1, new RunQueue()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("objs[1]");
        assertThatThrownBy(() -> Exec.lockAllAsync(rs, -1, new RunQueue()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
        assertThatThrownBy(() -> Exec.begin().attach()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("lockAllAsync");
        assertFree(rs);
    }
}
