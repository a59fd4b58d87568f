package dev.bufsync.exec;

import dev.bufsync.resv.Reservation;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code scale}: one round of {@code transactions} {@link Exec} transactions, each locking
 * {@code locks} reservations drawn uniformly from {@code reservations}, shared out among
 * {@code virtualThreads} virtual threads ({@code virtual}) or {@code platformThreads} platform
 * threads ({@code platform}), each started for the round; the score is the round's wall time.
 *
 * <p>Hypothesis: waits park with {@code LockSupport} and nothing blocks inside
 * {@code synchronized}, so 10,000 virtual threads finish the same work as 100 platform threads
 * within 20 % of their time, and never deadlock. A round that has not finished within
 * {@link #STALL_SECONDS} fails the run, naming the threads still unfinished: a deadlock cannot
 * pass for a slow round.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class ScaleBenchmark {
    /** How long a round may take before the run fails as deadlocked or stalled. */
    public static final int STALL_SECONDS = 60;

    @Param({"platform", "virtual"})
    public String strategy;

    @Param("100000")
    public int reservations;

    @Param("10000")
    public int virtualThreads;

    @Param("100")
    public int platformThreads;

    @Param("100000")
    public int transactions;

    @Param("4")
    public int locks;

    // Both written by setUp on the benchmark thread, before any round; a round's threads read them
    // after Thread.start, which orders the writes before their reads.
    private Reservation[] pool;
    private int[] sets;                        // transaction t locks pool[sets[t * locks + i]]

    /** Creates the reservations and draws every transaction's lock set. */
    @Setup
    public void setUp() {
        if (!strategy.equals("virtual") && !strategy.equals("platform")) {
            throw new IllegalArgumentException("scale strategy must be virtual or platform, not " + strategy);
        }
        pool = new Reservation[reservations];
        for (int i = 0; i < reservations; i++) {
            pool[i] = new Reservation();
        }
        SplittableRandom rnd = new SplittableRandom(42);
        sets = new int[transactions * locks];
        for (int t = 0; t < transactions; t++) {
            int base = t * locks;
            for (int i = 0; i < locks; i++) {
                int r;
                do {
                    r = rnd.nextInt(reservations);
                } while (contains(sets, base, i, r));
                sets[base + i] = r;
            }
        }
    }

    private static boolean contains(int[] a, int from, int n, int v) {
        for (int i = from; i < from + n; i++) {
            if (a[i] == v) {
                return true;
            }
        }
        return false;
    }

    /**
     * One round: start the threads, each runs every {@code threads}-th transaction, wait for all.
     *
     * @return the transactions run
     * @throws InterruptedException if interrupted
     */
    @Benchmark
    public int round() throws InterruptedException {
        boolean virtual = strategy.equals("virtual");
        int threads = virtual ? virtualThreads : platformThreads;
        Thread.Builder builder = virtual ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
        CountDownLatch done = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int k = 0; k < threads; k++) {
            int first = k;
            builder.start(() -> {
                try {
                    for (int t = first; t < transactions; t += threads) {
                        transaction(t);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            });
        }
        if (!done.await(STALL_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("scale: " + done.getCount() + " of " + threads + " " + strategy
                    + " threads unfinished after " + STALL_SECONDS + " s: deadlocked or stalled");
        }
        if (failure.get() != null) {
            throw new IllegalStateException("scale: a " + strategy + " thread failed", failure.get());
        }
        return transactions;
    }

    /** The pool, for tests. */
    Reservation[] pool() {
        return pool;
    }

    private void transaction(int t) throws InterruptedException {
        int base = t * locks;
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                for (int i = 0; i < locks; i++) {
                    e.lock(pool[sets[base + i]]);
                }
            });
        }
    }
}
