package dev.bufsync.cli.bench;

import static dev.bufsync.cli.bench.RunMode.FULL;
import static dev.bufsync.cli.bench.RunMode.QUICK;
import static dev.bufsync.cli.bench.RunMode.SMOKE;

import dev.bufsync.bench.DiningTable;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The benchmarks {@code bufsync bench} runs, in order, with the points of each mode.
 *
 * <p><b>Adding a benchmark</b>: write the JMH class in {@code bufsync-jmh} (package of the code under
 * test, named {@code <Topic>Benchmark}, with either a {@code @Param("strategy")} whose values are
 * the strategy names or one benchmark method per strategy) and add one {@link BenchDef} to
 * {@link #ALL}. Its targets go in {@link Targets}, written against the benchmark, parameter and
 * strategy names; the report draws its chart and table without further code.
 */
public final class Catalog {
    private static final List<String> NONE = List.of();
    /** Quick mode's strategies for the lock-set benchmarks: the targets' baselines and ours. */
    private static final List<String> QUICK_LOCK_SET = List.of("ordered", "smart-polite",
            "wound-wait", "wait-die");
    /**
     * Full mode's forks for benchmarks whose ratio moves by tens of percent from VM to VM (the
     * contended ones, thread wake-ups, the demo): enough for a spread, and a target is met only
     * when every fork holds it.
     */
    private static final int CONTENDED_FORKS = 3;
    private static final List<String> DEMO_DRIVERS = List.of("2", "4", "8");
    private static final List<String> DEMO_BUFFERS = List.of("8", "16", "64");

    /** Every benchmark, in the order they run. */
    public static final List<BenchDef> ALL = List.of(
            new BenchDef("uncontended", "dev.bufsync.ww.UncontendedBenchmark", false, "one thread",
                    p -> "1 thread", "reentrant-lock", false, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, NONE)
                    .mode(QUICK, 3, 200, 2, 250, NONE)
                    .mode(FULL, 4, 500, 5, 500, NONE)
                    .build()),
            new BenchDef("lock-all", "dev.bufsync.ww.LockAllBenchmark", false,
                    "d (mutexes per transaction)", p -> p.get("d"), "ordered", false,
                    new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, List.of("ordered", "woundWait"), "d", List.of("1", "4"))
                    .mode(QUICK, 3, 200, 2, 250, NONE, "d", List.of("1", "20"))
                    .mode(FULL, 4, 500, 5, 500, NONE,
                            "d", List.of("1", "2", "3", "4", "5", "10", "20"))
                    .build()),
            new BenchDef("shared-class", "dev.bufsync.ww.SharedClassBenchmark", false,
                    "d (mutexes per transaction, each thread its own)", p -> p.get("d"), "ordered",
                    false, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, List.of("ordered", "woundWait"), "d", List.of("1"))
                    .mode(QUICK, 2, 200, 2, 250, NONE, "d", List.of("1", "4"))
                    .mode(FULL, 3, 500, 5, 500, NONE, "d", List.of("1", "4", "16"))
                    .forks(FULL, CONTENDED_FORKS)
                    .build()),
            new BenchDef("exec-lock-all", "dev.bufsync.exec.ExecBenchmark", false,
                    "d (reservations per submission)", p -> p.get("d"), "ordered", false,
                    new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, List.of("ordered", "wwExec"), "d", List.of("1"))
                    .mode(QUICK, 2, 200, 2, 250, List.of("ordered", "wwExec"), "d", List.of("1", "20"))
                    .mode(FULL, 4, 500, 5, 500, NONE, "d", List.of("1", "2", "5", "10", "20"))
                    .build()),
            new BenchDef("folly-grid", "dev.bufsync.bench.FollyGridBenchmark", true,
                    "threads × mutexes", p -> p.get("threads") + "×" + p.get("mutexes"), "ordered",
                    false, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, NONE, "threads", List.of("2"),
                            "mutexes", List.of("2", "4"), "strategy", List.of("ordered", "wound-wait"))
                    .mode(QUICK, 2, 200, 2, 250, NONE, "threads", List.of("2", "8"),
                            "mutexes", List.of("2", "8"), "strategy", QUICK_LOCK_SET)
                    .mode(FULL, 2, 500, 4, 500, NONE, "threads", List.of("2", "4", "8", "16"),
                            "mutexes", List.of("2", "4", "8", "16"))
                    .forks(FULL, CONTENDED_FORKS)
                    .build()),
            new BenchDef("philosophers", "dev.bufsync.bench.PhilosophersBenchmark", true,
                    "table (diners, or solid)", p -> p.get("table"), "ordered", false,
                    new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 1, NONE, "table", List.of("2", "3"), "eatMillis", List.of("15"),
                            "strategy", List.of("ordered", "wound-wait"))
                    .mode(QUICK, 1, 1, 2, 1, NONE, "table", List.of("5", "8", "cube", "dodecahedron"),
                            "eatMillis", List.of("60"), "strategy", QUICK_LOCK_SET)
                    .mode(FULL, 1, 1, 2, 1, NONE, "table", DiningTable.allNames(),
                            "eatMillis", List.of("150"))
                    .forks(FULL, CONTENDED_FORKS)
                    .build()),
            new BenchDef("hellstrom", "dev.bufsync.bench.HellstromBenchmark", true, "threads",
                    p -> p.get("threads"), "ordered", false, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, NONE, "threads", List.of("2"), "pool", List.of("10000"),
                            "batch", List.of("50"), "strategy", List.of("ordered", "wound-wait"))
                    .mode(QUICK, 2, 250, 2, 300, NONE, "threads", List.of("2", "4"),
                            "strategy", List.of("ordered", "wound-wait", "wait-die"))
                    .mode(FULL, 2, 1000, 4, 1000, NONE, "threads", List.of("2", "4"))
                    .forks(FULL, CONTENDED_FORKS)
                    .build()),
            new BenchDef("ycsb", "dev.bufsync.bench.YcsbBenchmark", true, "Zipf θ",
                    p -> p.get("theta"), "no-wait", true, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, NONE, "theta", List.of("0", "0.9"), "rows", List.of("10000"),
                            "strategy", List.of("no-wait", "wound-wait"))
                    .mode(QUICK, 2, 250, 2, 300, NONE, "theta", List.of("0", "0.9"))
                    .mode(FULL, 2, 1000, 4, 1000, NONE, "theta", List.of("0", "0.6", "0.8", "0.9"))
                    .forks(FULL, CONTENDED_FORKS)
                    .build()),
            new BenchDef("fence-callback", "dev.bufsync.fence.FenceCallbackBenchmark", false,
                    "waiters (callbacks per fence)", p -> p.get("waiters"), "completable-future",
                    false, onePerParam("waiters", "1", "64", FULL.forks())),
            new BenchDef("fence-wake", "dev.bufsync.fence.FenceWakeBenchmark", false,
                    "waiters (parked threads)", p -> p.get("waiters"), "completable-future", false,
                    onePerParam("waiters", "1", "64", CONTENDED_FORKS)),
            new BenchDef("scheduler", "dev.bufsync.sched.SchedulerBenchmark", false,
                    "buffers per job", p -> p.get("buffers"), "scheduler", false,
                    onePerParam("buffers", "10", "100", FULL.forks())),
            new BenchDef("demo", DemoProbe.class.getName(), true, "drivers × buffers",
                    p -> p.get("drivers") + "×" + p.get("buffers"), DemoProbe.GLOBAL, true,
                    new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 200, NONE, "drivers", List.of("2"), "buffers", List.of("8"))
                    .mode(QUICK, 1, 500, 1, 800, NONE, "drivers", DEMO_DRIVERS, "buffers", DEMO_BUFFERS)
                    .mode(FULL, 1, 2000, 1, 3000, NONE, "drivers", DEMO_DRIVERS, "buffers", DEMO_BUFFERS)
                    .forks(SMOKE, 1)
                    .forks(FULL, CONTENDED_FORKS)
                    .build(), new DemoProbe()),
            new BenchDef("cluster", ClusterProbe.class.getName(), true, "processes × contention",
                    p -> p.get("processes") + " " + p.get("contention"), "multi-lock", true, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 300, NONE, "processes", List.of("2"), "contention", List.of("none"))
                    .mode(QUICK, 1, 1000, 1, 1500, NONE, "processes", List.of("2", "4"), "contention", List.of("none", "abba"))
                    .mode(FULL, 1, 2000, 1, 5000, NONE, "processes", List.of("2", "4", "8"), "contention", List.of("none", "abba"))
                    .forks(FULL, CONTENDED_FORKS)
                    .build(), new ClusterProbe()),
            new BenchDef("memory", MemoryProbe.class.getName(), true, "object",
                    Catalog::memoryLabel, "reentrant-lock", false, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 0, NONE, "reservations", List.of("10000"))
                    .mode(QUICK, 0, 0, 1, 0, NONE, "reservations", List.of("1000000"),
                            "sample", List.of("100000"))
                    .mode(FULL, 0, 0, 1, 0, NONE, "reservations", List.of("1000000"))
                    .build(), new MemoryProbe()),
            new BenchDef("scale", "dev.bufsync.exec.ScaleBenchmark", true, "threads",
                    p -> Numbers.count(p.get("virtualThreads")) + " virtual or "
                            + Numbers.count(p.get("platformThreads")) + " platform threads on "
                            + Numbers.count(p.get("reservations")) + " reservations",
                    "platform", false, new BenchDef.Builder()
                    .mode(SMOKE, 0, 0, 1, 30, NONE, "reservations", List.of("1000"),
                            "virtualThreads", List.of("200"), "platformThreads", List.of("8"),
                            "transactions", List.of("2000"))
                    .mode(QUICK, 1, 500, 2, 500, NONE)
                    .mode(FULL, 3, 1000, 4, 1000, NONE)
                    .forks(FULL, CONTENDED_FORKS)
                    .build()));

    private Catalog() {
    }

    /**
     * The settings of a single-threaded benchmark measured at two values of one parameter: smoke
     * mode runs the first, quick and full mode both.
     */
    private static Map<RunMode, BenchDef.Settings> onePerParam(String param, String first,
                                                              String second, int fullForks) {
        return new BenchDef.Builder()
                .mode(SMOKE, 0, 0, 1, 30, NONE, param, List.of(first))
                .mode(QUICK, 2, 200, 2, 250, NONE, param, List.of(first, second))
                .mode(FULL, 4, 500, 5, 500, NONE, param, List.of(first, second))
                .forks(FULL, fullForks)
                .build();
    }

    private static String memoryLabel(Map<String, String> p) {
        return MemoryProbe.MUTEX.equals(p.get("object")) ? "one mutex"
                : Numbers.count(p.get("reservations")) + " reservations";
    }

    /**
     * The benchmark of a name.
     *
     * @param name a benchmark name
     * @return the definition, if the suite has it
     */
    public static Optional<BenchDef> find(String name) {
        return ALL.stream().filter(d -> d.name().equals(name)).findFirst();
    }

    /**
     * The names of every benchmark, in order.
     *
     * @return the names
     */
    public static List<String> names() {
        return ALL.stream().map(BenchDef::name).toList();
    }
}
