package dev.bufsync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Every strategy excludes, never deadlocks on opposite request orders, and counts its rollbacks. */
class LockStrategyTest {

    /**
     * Four threads lock overlapping pairs in opposite orders; each pair's two counters are
     * incremented non-atomically under the locks, so a missed exclusion loses an update, and a
     * deadlock never finishes (the crew round would hang the test's timeout).
     */
    @Test
    void everyStrategyExcludesWithoutDeadlock() {
        List<String> names = new ArrayList<>(LockStrategy.NAMES);
        names.addAll(LockStrategy.POLITE);
        for (String name : names) {
            int locks = 3;
            int threads = 4;
            int rounds = 20_000;
            Contenders c = new Contenders(name, locks, threads, 1);
            long[] cells = new long[locks];
            int[][] sets = {{0, 1}, {1, 0}, {1, 2}, {2, 0}};
            try (Crew crew = new Crew(threads, name)) {
                crew.run(t -> {
                    for (int k = 0; k < rounds; k++) {
                        c.lockers[t].lockAll(sets[t], 2);
                        cells[sets[t][0]]++;
                        cells[sets[t][1]]++;
                        c.lockers[t].unlockAll();
                    }
                });
            }
            long total = cells[0] + cells[1] + cells[2];
            assertThat(total).as(name).isEqualTo(2L * threads * rounds);
            LockCounters counters = new LockCounters();
            c.report(counters, threads * rounds);
            assertThat(counters.transactions).isEqualTo((long) threads * rounds);
            if (name.equals(LockStrategy.GLOBAL) || name.equals(LockStrategy.ORDERED)) {
                assertThat(counters.rollbacks).as(name).isZero();
            }
        }
    }

    /**
     * The strategies with a shared mode: four threads lock overlapping pairs in opposite orders,
     * writing the first lock of their pair and reading the second; a writer checks that nobody
     * else is inside its lock, a reader that no writer is, and every round finishes.
     */
    @Test
    void sharedStrategiesExcludeWritersWithoutDeadlock() {
        for (String name : LockStrategy.SHARED) {
            int threads = 4;
            int rounds = 5_000;
            Contenders c = new Contenders(name, 3, threads, 1);
            java.util.concurrent.atomic.AtomicIntegerArray inside = new java.util.concurrent.atomic.AtomicIntegerArray(3);
            java.util.concurrent.atomic.AtomicInteger violations = new java.util.concurrent.atomic.AtomicInteger();
            int[][] sets = {{0, 1}, {1, 0}, {1, 2}, {2, 0}};
            int writer = 1 << 16;
            try (Crew crew = new Crew(threads, name)) {
                crew.run(t -> {
                    int w = sets[t][0];
                    int r = sets[t][1];
                    for (int k = 0; k < rounds; k++) {
                        c.lockers[t].lockAll(sets[t], 2, 0b10);      // write the first, read the second
                        if (inside.getAndAdd(w, writer) != 0 | inside.getAndIncrement(r) >= writer) {
                            violations.incrementAndGet();
                        }
                        inside.addAndGet(w, -writer);
                        inside.decrementAndGet(r);
                        c.lockers[t].unlockAll();
                    }
                });
            }
            assertThat(violations.get()).as(name).isZero();
            LockCounters counters = new LockCounters();
            c.report(counters, threads * rounds);
            assertThat(counters.transactions).isEqualTo((long) threads * rounds);
        }
    }

    /** A try-and-back-off strategy that meets a held lock rolls back and still gets the set. */
    @Test
    void rollbacksAreCounted() throws Exception {
        LockStrategy s = LockStrategy.create(LockStrategy.NO_WAIT, 2);
        Locker holder = s.newLocker(1);
        Locker other = s.newLocker(2);
        holder.lockAll(new int[] {1}, 1);
        AtomicLong done = new AtomicLong();
        Thread t = Thread.ofPlatform().start(() -> {
            other.lockAll(new int[] {0, 1}, 2);
            done.set(other.rollbacks());
            other.unlockAll();
        });
        while (t.getState() != Thread.State.TIMED_WAITING && t.isAlive()) {
            Thread.onSpinWait();                      // until it has failed once and pauses
        }
        holder.unlockAll();
        t.join();
        assertThat(done.get()).isPositive();
    }

    /** Unknown names are refused with the list of known ones. */
    @Test
    void unknownStrategyIsRefused() {
        assertThatThrownBy(() -> LockStrategy.create("fifo", 1)).hasMessageContaining("wound-wait");
    }
}
