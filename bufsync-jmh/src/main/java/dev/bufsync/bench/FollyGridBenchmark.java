package dev.bufsync.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * {@code folly-grid}: T threads share M mutexes; thread t repeatedly locks mutexes t mod M and
 * (t+1) mod M, runs a short critical section (a chain of {@value #CRITICAL_SECTION} dependent
 * multiply-adds, which the JIT cannot fold) and unlocks both. This is Folly's
 * {@code SynchronizedBenchmark.cpp} grid, T, M ∈ {2, 4, 8, 16}.
 *
 * <p>Hypothesis: bufsync's wound/wait transaction over two mutexes is at least as fast as
 * address-ordered {@code ReentrantLock}s and as the {@code smart-polite} {@code std::lock}
 * algorithm at every point of the grid (target in docs/bench.md). The score is nanoseconds of wall
 * time per lock-pair operation, all threads together ({@value #OPS} operations per invocation,
 * shared evenly among the threads), as Folly reports it; lower is better.
 *
 * <p>Why a crew and not JMH threads: T up to 16 runs on two cores here, so most threads are
 * descheduled at any moment; a fixed amount of work finished by all threads, timed from start to
 * the last thread's end, measures what a user sees, including the cost of waking parked waiters
 * and of any unfairness that leaves one thread behind. JMH's {@code @Threads} would average each
 * thread's own rate instead, hiding the tail.
 *
 * <p>Verdict (2-core AMD EPYC, JDK 25): missed. Ordered and smart &amp; polite locking take
 * 50–150 ns per operation everywhere; ours takes 1.5–4.5 times as long (up to 9 times at T = 2,
 * M = 2, where every overlap is an ABBA conflict and wound-wait rolls back up to 18 % of its
 * transactions). A strict hand-off (every unlock granting the first waiter, usually descheduled
 * on two cores) made M = 2 with 8 or 16 threads a convoy at 4–48 times; bounded barging
 * (docs/ww.md, invariant 5) removed it. What remains is the per-transaction cost (ticket, context)
 * paid on both cores and the check of the waiters a mutex taken while others wait needs.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class FollyGridBenchmark {
    /** Lock-pair operations per invocation, all threads together. */
    public static final int OPS = 4096;
    /** Iterations of the critical section's loop. */
    public static final int CRITICAL_SECTION = 100;

    @Param({"2", "4", "8", "16"})
    public int threads;

    @Param({"2", "4", "8", "16"})
    public int mutexes;

    @Param({"ordered", "smart-polite", "persistent", "wound-wait", "wait-die"})
    public String strategy;

    // Set up by the JMH thread before the crew starts; pairs is read-only afterwards. sinks[t] is
    // written by crew member t during a round and read by the JMH thread after it (the crew's
    // end barrier orders the two).
    private Crew crew;
    private Contenders contenders;
    private int[][] pairs;
    private long[] sinks;

    /** Makes the pool, the threads' pairs and the crew. */
    @Setup(Level.Trial)
    public void setUp() {
        if (OPS % threads != 0) {
            throw new IllegalArgumentException("threads must divide " + OPS);
        }
        contenders = new Contenders(strategy, mutexes, threads, 42);
        pairs = new int[threads][];
        for (int t = 0; t < threads; t++) {
            pairs[t] = new int[] {t % mutexes, (t + 1) % mutexes};
        }
        sinks = new long[threads];
        crew = new Crew(threads, "folly-grid");
    }

    /** Stops the crew. */
    @TearDown(Level.Trial)
    public void tearDown() {
        crew.close();
    }

    /**
     * One round: every thread does its share of lock-pair operations.
     *
     * @param counters rollbacks and wounds beside the score
     * @param bh consumes the critical sections' results
     */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public void lockPair(LockCounters counters, Blackhole bh) {
        crew.run(this::work);
        contenders.report(counters, OPS);
        bh.consume(sinks);
    }

    private void work(int t) {
        Locker locker = contenders.lockers[t];
        int[] pair = pairs[t];
        long sink = sinks[t];
        for (int k = OPS / threads; k > 0; k--) {
            locker.lockAll(pair, 2);
            sink = criticalSection(sink);
            locker.unlockAll();
        }
        sinks[t] = sink;
    }

    /** A chain of dependent multiply-adds (a linear congruential step per iteration). */
    static long criticalSection(long x) {
        for (int i = 0; i < CRITICAL_SECTION; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }
}
