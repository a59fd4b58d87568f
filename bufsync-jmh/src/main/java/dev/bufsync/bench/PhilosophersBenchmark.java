package dev.bufsync.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code philosophers}: Hinnant's dining philosophers ("Dining Philosophers Rebooted", 2014). One
 * thread per diner; diners never think; each meal takes the diner's forks (two at a round table,
 * three on a solid; see {@link DiningTable}) in a freshly shuffled request order (a coin flip for
 * two), then eats for a random 1–10 ms, until every diner has eaten {@code eatMillis} in total.
 * The score is the wall-clock time of the whole dinner; divided by {@link DiningTable}'s
 * theoretical minimum it gives the ratio the targets use.
 *
 * <p>Hypothesis: wound/wait transactions stay within 10 % of the theoretical minimum on every
 * table and beat ordered locking by at least 20 % at N = 5, where ordered lets one diner block
 * the other four about half the time (targets in docs/bench.md; Hinnant measured ordered ≈ 95 s and
 * smart ≈ 75 s = the minimum at E = 30 s).
 *
 * <p>Design: a meal is a parked wait ({@link LockSupport#parkNanos}), a device doing the work,
 * so that 32 diners fit on two cores and the score measures how well forks are shared, not how
 * CPU is. The time a diner eats is measured (the park may overshoot by the timer slack) and the
 * last meal is cut to the remaining budget, so every diner eats {@code eatMillis} plus at most one
 * overshoot. Scaled from the paper's 30 s per diner; only the ratio to the minimum compares with
 * it. One invocation is one dinner (AverageTime, one dinner per iteration when the iteration time
 * is shorter than a dinner).
 *
 * <p>Verdict (2-core AMD EPYC, JDK 25): the N = 5 target holds (ordered takes 1.7–1.8 times as
 * long, 1.9 times the minimum as Hinnant's 95 s against 75 s); the 10 % target misses: wait-die
 * stays within 1.02–1.42 of the minimum, wound-wait 1.02–1.55, smart &amp; polite (which never
 * waits while holding a fork) 1.01–1.33, ordered up to 14 times. Under wound-wait an older diner
 * waits for a younger one while holding its other fork, and that blocks a neighbour; wait-die
 * releases in that case, which is why it comes closer.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.MILLISECONDS)
@Fork(1)
@State(Scope.Benchmark)
public class PhilosophersBenchmark {
    /** The shortest meal. */
    public static final long MIN_MEAL_NANOS = 1_000_000;
    /** The longest meal. */
    public static final long MAX_MEAL_NANOS = 10_000_000;

    @Param({"2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
        "32", "tetrahedron", "cube", "dodecahedron"})
    public String table;

    @Param({"ordered", "smart-polite", "persistent", "wound-wait", "wait-die"})
    public String strategy;

    @Param({"300"})
    public int eatMillis;

    // Set up by the JMH thread before the crew starts. randoms[d] and requests[d] belong to diner
    // d; meals[d] is zeroed by the JMH thread before a dinner, written by diner d during it and
    // read after it (the crew's barriers order these accesses).
    private DiningTable dining;
    private Crew crew;
    private Contenders contenders;
    private SplittableRandom[] randoms;
    private int[][] requests;
    private long[] meals;

    /** Sets the table and seats a crew of diners. */
    @Setup(Level.Trial)
    public void setUp() {
        dining = DiningTable.of(table);
        int n = dining.diners();
        contenders = new Contenders(strategy, dining.forkCount(), n, 7);
        randoms = new SplittableRandom[n];
        requests = new int[n][];
        meals = new long[n];
        SplittableRandom seeds = new SplittableRandom(2014);
        for (int d = 0; d < n; d++) {
            randoms[d] = seeds.split();
            requests[d] = dining.forksOf(d);
        }
        crew = new Crew(n, "diner");
    }

    /** Sends the diners home. */
    @TearDown(Level.Trial)
    public void tearDown() {
        crew.close();
    }

    /**
     * One dinner: every diner eats {@code eatMillis} in total.
     *
     * @param counters meals and rollbacks beside the score
     */
    @Benchmark
    public void dinner(LockCounters counters) {
        java.util.Arrays.fill(meals, 0);
        crew.run(this::dine);
        long total = 0;
        for (long m : meals) {
            total += m;
        }
        contenders.report(counters, total);
    }

    private void dine(int d) {
        Locker locker = contenders.lockers[d];
        SplittableRandom random = randoms[d];
        int[] forks = requests[d];
        long budget = eatMillis * 1_000_000L;
        long eaten = 0;
        long count = 0;
        while (eaten < budget) {
            shuffle(forks, random);
            long meal = Math.min(random.nextLong(MIN_MEAL_NANOS, MAX_MEAL_NANOS + 1), budget - eaten);
            locker.lockAll(forks, forks.length);
            try {
                eaten += eat(meal);
            } finally {
                locker.unlockAll();
            }
            count++;
        }
        meals[d] = count;
    }

    /** Parks for {@code nanos}, however many wake-ups it takes; returns the time it took. */
    private static long eat(long nanos) {
        long start = System.nanoTime();
        long elapsed;
        while ((elapsed = System.nanoTime() - start) < nanos) {
            LockSupport.parkNanos(nanos - elapsed);
        }
        return elapsed;
    }

    private static void shuffle(int[] a, SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
