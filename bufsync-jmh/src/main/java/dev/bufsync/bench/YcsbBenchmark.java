package dev.bufsync.bench;

import java.util.SplittableRandom;
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
 * {@code ycsb}: YCSB-like transactions in the shape of DBx1000's ("Staring into the Abyss",
 * PVLDB 2014): a table of {@code rows} rows, each transaction accesses {@value #KEYS} distinct rows
 * drawn with Zipf skew θ ({@link Zipf}), half of the accesses writes; two-phase locking with one
 * lock per row, released at commit. The score is committed transactions per second; the counters
 * give the abort ratio (rollbacks / (rollbacks + commits)).
 *
 * <p>Hypothesis: at θ = 0.9, where a few rows are in most transactions, wound/wait transactions
 * commit at least as many transactions per second as NO_WAIT (target in docs/bench.md). The paper
 * found NO_WAIT and WAIT_DIE best among its lock-based schemes on 1024 simulated cores; here
 * wound-wait is added, and {@code ordered} (DBx1000's KEY_ORDER) is the deadlock-free reference.
 *
 * <p>Design: in the first variant every access, read or write, takes the row's exclusive lock,
 * for every strategy alike. The second variant takes the rows that are only read shared:
 * {@code wound-wait-shared} and {@code wait-die-shared} ({@code WwSharedMutex}) against
 * {@code no-wait-rw} (NO_WAIT over {@code ReentrantReadWriteLock}s, DBx1000's shared locks). The
 * accesses (increment or read
 * of the row's value) happen once the transaction holds all its rows. An aborted NO_WAIT
 * transaction waits a random pause of up to DBx1000's ABORT_PENALTY (100 µs) before its retry;
 * a wound/wait transaction that backs off waits on the contended row instead. The transactions
 * are drawn before the measurement (a ring of 2048 per thread), sorted for {@code ordered}.
 * Two threads, one per core, as DBx1000 runs one worker per core.
 *
 * <p>Verdict (three full runs, 2-core AMD EPYC, JDK 25): missed, within noise. At θ = 0.9
 * wound-wait commits 0.67–0.94 times as many transactions per second as NO_WAIT (abort ratio
 * about 0.007, like NO_WAIT's), wait-die 0.56–1.15 times (abort ratio 0.12); {@code ordered}, which
 * waits in key order behind the hot rows, 0.54–0.62 times. At low skew ours pays its
 * per-transaction ticket and context against NO_WAIT's bare try-locks (0.5–1.3 times).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class YcsbBenchmark {
    /** Rows per transaction (DBx1000's REQ_PER_QUERY). */
    public static final int KEYS = 16;
    /** Committed transactions per invocation, all threads together. */
    public static final int OPS = 1024;
    private static final int RING = 2048;

    @Param({"0", "0.6", "0.8", "0.9"})
    public double theta;

    @Param({"no-wait", "ordered", "wound-wait", "wait-die", "no-wait-rw", "wound-wait-shared",
            "wait-die-shared"})
    public String strategy;

    @Param({"2"})
    public int threads;

    @Param({"1000000"})
    public int rows;

    // Set up by the JMH thread before the crew starts. workloads[t], writeMasks[t] and sinks[t]
    // belong to member t (sinks read by the JMH thread after a round, ordered by the crew's end
    // barrier); values[k] is read and written only under row k's lock.
    private Crew crew;
    private Contenders contenders;
    private Workload[] workloads;
    private int[][] writeMasks;
    private long[] values;
    private long[] sinks;

    /** Makes the table, draws every thread's transactions and starts the crew. */
    @Setup(Level.Trial)
    public void setUp() {
        if (OPS % threads != 0) {
            throw new IllegalArgumentException("threads must divide " + OPS);
        }
        contenders = new Contenders(strategy, rows, threads, 2014);
        Zipf zipf = new Zipf(rows, theta);
        boolean sorted = contenders.strategy.locksInIdOrder();
        workloads = new Workload[threads];
        writeMasks = new int[threads][RING];
        for (int t = 0; t < threads; t++) {
            SplittableRandom random = new SplittableRandom(500 + t);
            workloads[t] = Workload.generate(RING, KEYS, rows, () -> zipf.next(random), sorted);
            for (int s = 0; s < RING; s++) {
                writeMasks[t][s] = random.nextInt(1 << KEYS);   // each access a write with p = 1/2
            }
        }
        values = new long[rows];
        sinks = new long[threads];
        crew = new Crew(threads, "ycsb");
    }

    /** Stops the crew. */
    @TearDown(Level.Trial)
    public void tearDown() {
        crew.close();
    }

    /**
     * One round: the threads commit {@value #OPS} transactions together.
     *
     * @param counters commits, rollbacks and wounds beside the score
     * @param bh consumes what the reads summed
     */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public void transactions(LockCounters counters, Blackhole bh) {
        crew.run(this::work);
        contenders.report(counters, OPS);
        bh.consume(sinks);
    }

    private void work(int t) {
        Locker locker = contenders.lockers[t];
        Workload workload = workloads[t];
        int[] masks = writeMasks[t];
        long[] table = values;
        long sum = sinks[t];
        for (int k = 0; k < OPS / threads; k++) {
            int[] keys = workload.next();
            int mask = masks[k & (RING - 1)];
            locker.lockAll(keys, KEYS, ~mask);          // reads shared where the strategy can
            for (int i = 0; i < KEYS; i++) {
                if ((mask & (1 << i)) != 0) {
                    table[keys[i]]++;
                } else {
                    sum += table[keys[i]];
                }
            }
            locker.unlockAll();
        }
        sinks[t] = sum;
    }
}
