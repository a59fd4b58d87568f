package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.ww.WwClass.Algorithm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Virtual threads are first-class: 10,000 virtual threads, each locking a random subset of 1,000
 * mutexes in random order with the back-off loop, all finish, and no mutex is ever held twice.
 */
class WwMutexVirtualThreadTest {
    private static final int THREADS = 10_000;
    private static final int MUTEXES = 1_000;

    /** Every virtual thread's transaction completes; exclusion holds; nothing stays locked. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void tenThousandVirtualThreadsAllFinish(Algorithm algorithm) throws Exception {
        WwClass cls = WwClass.builder("vthreads").algorithm(algorithm).injectBackoff(false).build();
        List<WwMutex> mutexes = new ArrayList<>();
        for (int i = 0; i < MUTEXES; i++) {
            mutexes.add(new WwMutex(cls));
        }
        AtomicIntegerArray inside = new AtomicIntegerArray(MUTEXES);
        LongAdder violations = new LongAdder();
        LongAdder backoffs = new LongAdder();
        List<Future<?>> futures = new ArrayList<>(THREADS);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < THREADS; t++) {
                final long seed = t;
                futures.add(pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    int n = 1 + rnd.nextInt(8);
                    int[] picks = rnd.ints(n, 0, MUTEXES).distinct().toArray();
                    try (AcquireContext ctx = cls.begin()) {
                        BackoffLoop.lockAll(ctx, Arrays.stream(picks).mapToObj(mutexes::get).toList(),
                                backoffs::increment);
                        for (int i : picks) {
                            if (inside.getAndIncrement(i) != 0) {
                                violations.increment();
                            }
                        }
                        Thread.yield();
                        for (int i : picks) {
                            inside.decrementAndGet(i);
                        }
                        ctx.unlockAll();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        }
        assertThat(violations.sum()).isZero();
        assertThat(mutexes).noneMatch(WwMutex::isLocked);
        assertThat(cls.stats().contexts()).isEqualTo(THREADS);
        assertThat(cls.stats().backoffs()).isEqualTo(backoffs.sum());
    }
}
