package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The targets are judged on the run's own results, fork by fork: met only when every fork holds,
 * "not judged in quick mode" for timed targets in quick mode, and listed only for the benchmarks
 * that ran.
 */
class TargetsTest {

    private static BenchResult result(String bench, String strategy, double score, String unit,
                                      boolean higher, Map<String, Double> counters, String... params) {
        return new BenchResult(bench, params(params), strategy, score, Double.NaN, unit, higher, counters);
    }

    private static BenchResult forks(String bench, String strategy, List<Double> forks, String... params) {
        double mean = forks.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        return new BenchResult(bench, params(params), strategy, mean, Double.NaN, "ns/op", false, Map.of(), forks);
    }

    private static Map<String, String> params(String... params) {
        Map<String, String> p = new LinkedHashMap<>();
        for (int i = 0; i < params.length; i += 2) {
            p.put(params[i], params[i + 1]);
        }
        return p;
    }

    private static Targets.Verdict verdict(List<Targets.Verdict> vs, String bench, String strategy,
                                           String targetStart) {
        return vs.stream().filter(v -> v.benchmark().equals(bench) && v.strategy().equals(strategy)
                && v.target().startsWith(targetStart)).findFirst().orElseThrow();
    }

    /** A ratio target takes the worst point: one bad d misses lock-all's target. */
    @Test
    void ratioTargetsJudgeTheWorstPoint() {
        List<BenchResult> rs = new ArrayList<>();
        for (String d : List.of("1", "20")) {
            rs.add(result("lock-all", "ordered", 10, "ns/op", false, Map.of(), "d", d));
        }
        rs.add(result("lock-all", "wound-wait", 14, "ns/op", false, Map.of(), "d", "1"));
        rs.add(result("lock-all", "wound-wait", 16, "ns/op", false, Map.of(), "d", "20"));
        rs.add(result("lock-all", "wait-die", 14, "ns/op", false, Map.of(), "d", "1"));
        rs.add(result("lock-all", "wait-die", 15, "ns/op", false, Map.of(), "d", "20"));
        rs.add(result("lock-all", "guava-cycle-detecting", 47, "ns/op", false, Map.of(), "d", "20"));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        Targets.Verdict ww = verdict(vs, "lock-all", "wound-wait", "≤ 1.5");
        assertThat(ww.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(ww.value()).isEqualTo(1.6);
        assertThat(ww.measured()).contains("at 20");
        assertThat(verdict(vs, "lock-all", "wait-die", "≤ 1.5").status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(vs, "lock-all", "wound-wait", "≥ 3").status()).isEqualTo(Targets.Status.MISSED);
        assertThat(verdict(vs, "lock-all", "wait-die", "≥ 3").status()).isEqualTo(Targets.Status.MET);
    }

    /**
     * The mean ratio (12.7 / 10 = 1.27) meets ≤ 1.3, but the third fork (1.45) does not: the target
     * is missed, and the verdict shows the spread and how many forks held.
     */
    @Test
    void metOnlyWhenEveryForkHolds() {
        List<BenchResult> rs = List.of(
                forks("uncontended", "reentrant-lock", List.of(10.0, 10.0, 10.0), "threads", "1"),
                forks("uncontended", "wound-wait", List.of(11.0, 12.0, 14.5), "threads", "1"),
                forks("uncontended", "wait-die", List.of(11.0, 12.0, 12.9), "threads", "1"));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        Targets.Verdict ww = verdict(vs, "uncontended", "wound-wait", "≤ 1.3");
        assertThat(rs.get(1).score() / rs.get(0).score()).isLessThan(1.3);
        assertThat(ww.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(ww.value()).isEqualTo(1.45);
        assertThat(ww.spread()).containsExactly(1.1, 1.45);
        assertThat(ww.measured()).contains("1.10–1.45 across 3 forks").contains("2 of 3 hold");
        Targets.Verdict wd = verdict(vs, "uncontended", "wait-die", "≤ 1.3");
        assertThat(wd.status()).isEqualTo(Targets.Status.MET);
        assertThat(wd.measured()).contains("3 of 3 hold");
    }

    /** Every point's forks count: one fork missing at d = 1 misses the target, though d = 20 holds in both. */
    @Test
    void aMissInOneForkAtOnePointMisses() {
        List<BenchResult> rs = List.of(
                forks("lock-all", "ordered", List.of(10.0, 10.0), "d", "1"),
                forks("lock-all", "ordered", List.of(100.0, 100.0), "d", "20"),
                forks("lock-all", "wound-wait", List.of(14.0, 15.5), "d", "1"),
                forks("lock-all", "wound-wait", List.of(120.0, 120.0), "d", "20"));
        Targets.Verdict ww = verdict(Targets.judge(rs, RunMode.FULL), "lock-all", "wound-wait", "≤ 1.5");
        assertThat(ww.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(ww.measured()).contains("at 1").contains("1 of 2 hold");
    }

    /**
     * Quick mode does not judge timed targets, whatever they measured (the ratio is still shown),
     * but judges sizes, which one run measures exactly; not measured stays not measured.
     */
    @Test
    void quickModeJudgesOnlyExactTargets() {
        List<BenchResult> rs = List.of(
                result("uncontended", "reentrant-lock", 10, "ns/op", false, Map.of(), "threads", "1"),
                result("uncontended", "wound-wait", 30, "ns/op", false, Map.of(), "threads", "1"),
                result("memory", "ww-mutex", 32, "bytes", false, Map.of(), "object", "mutex"),
                result("memory", "reservation", 151, "MB", false, Map.of(), "object", "reservations",
                        "reservations", "1000000"));
        List<Targets.Verdict> quick = Targets.judge(rs, RunMode.QUICK);
        Targets.Verdict ww = verdict(quick, "uncontended", "wound-wait", "≤ 1.3");
        assertThat(ww.status()).isEqualTo(Targets.Status.NOT_JUDGED);
        assertThat(ww.status().toString()).isEqualTo("not judged in quick mode");
        assertThat(ww.measured()).contains("3.00 × reentrant-lock").contains("--full");
        assertThat(verdict(quick, "uncontended", "wait-die", "≤ 1.3").status())
                .isEqualTo(Targets.Status.NOT_MEASURED);
        assertThat(verdict(quick, "memory", "ww-mutex", "a WwMutex").status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(quick, "memory", "reservation", "10⁶").status()).isEqualTo(Targets.Status.MISSED);
        assertThat(verdict(Targets.judge(rs, RunMode.FULL), "uncontended", "wound-wait", "≤ 1.3").status())
                .isEqualTo(Targets.Status.MISSED);
    }

    /** Only the targets of benchmarks with results are listed; none without results. */
    @Test
    void targetsAreLimitedToWhatRan() {
        assertThat(Targets.judge(List.of(), RunMode.FULL)).isEmpty();
        List<BenchResult> rs = List.of(
                result("scheduler", "scheduler", 0.8, "us/op", false, Map.of(), "buffers", "10"));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        assertThat(vs).extracting(Targets.Verdict::benchmark).containsOnly("scheduler");
        assertThat(verdict(vs, "scheduler", "scheduler", "schedule + retire, 100 ").status())
                .isEqualTo(Targets.Status.NOT_MEASURED);
    }

    /** Throughput targets compare upwards, and the abort ratios are reported beside them. */
    @Test
    void throughputTargetComparesUpwards() {
        List<BenchResult> rs = List.of(
                result("ycsb", "no-wait", 100, "ops/s", true, Map.of("abortRatio", 0.2), "theta", "0.9"),
                result("ycsb", "wound-wait", 120, "ops/s", true, Map.of("abortRatio", 0.01), "theta", "0.9"),
                result("ycsb", "wait-die", 90, "ops/s", true, Map.of("abortRatio", 0.3), "theta", "0.9"));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        Targets.Verdict ww = verdict(vs, "ycsb", "wound-wait", "committed");
        assertThat(ww.status()).isEqualTo(Targets.Status.MET);
        assertThat(ww.measured()).contains("1.20 × no-wait").contains("abort ratio 0.010 against 0.200");
        assertThat(verdict(vs, "ycsb", "wait-die", "committed").status()).isEqualTo(Targets.Status.MISSED);
    }

    /** ycsb's shared-read variant is judged against no-wait over readers-writer locks. */
    @Test
    void sharedReadVariantComparesWithNoWaitRw() {
        List<BenchResult> rs = List.of(
                result("ycsb", "no-wait-rw", 100, "ops/s", true, Map.of("abortRatio", 0.2), "theta", "0.9"),
                result("ycsb", "wound-wait-shared", 130, "ops/s", true, Map.of("abortRatio", 0.01), "theta", "0.9"),
                result("ycsb", "wait-die-shared", 80, "ops/s", true, Map.of("abortRatio", 0.3), "theta", "0.9"));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        Targets.Verdict ww = verdict(vs, "ycsb", "wound-wait-shared", "with shared reads");
        assertThat(ww.status()).isEqualTo(Targets.Status.MET);
        assertThat(ww.measured()).contains("1.30 × no-wait-rw");
        assertThat(verdict(vs, "ycsb", "wait-die-shared", "with shared reads").status())
                .isEqualTo(Targets.Status.MISSED);
    }

    /** The philosophers' targets use the ratio to the minimum and the speed-up over ordered at N = 5. */
    @Test
    void philosophersTargets() {
        List<BenchResult> rs = List.of(
                result("philosophers", "ordered", 95, "ms/op", false, Map.of("minimumMs", 74.8), "table", "5"),
                result("philosophers", "wound-wait", 76, "ms/op", false, Map.of("minimumMs", 75.0), "table", "5"),
                result("philosophers", "wound-wait", 70, "ms/op", false, Map.of("minimumMs", 60.0), "table", "cube"));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        Targets.Verdict near = verdict(vs, "philosophers", "wound-wait", "within 10 %");
        assertThat(near.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(near.measured()).contains("cube");
        assertThat(verdict(vs, "philosophers", "wound-wait", "≥ 20 %").status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(vs, "philosophers", "wait-die", "≥ 20 %").status())
                .isEqualTo(Targets.Status.NOT_MEASURED);
    }

    /** Times are judged in every fork, in nanoseconds whatever the unit. */
    @Test
    void timeTargetsJudgeEveryFork() {
        List<BenchResult> rs = List.of(
                new BenchResult("scheduler", params("buffers", "10"), "scheduler", 0.95, 0.1, "us/op", false,
                        Map.of(), List.of(0.9, 1.05)),
                new BenchResult("scheduler", params("buffers", "100"), "scheduler", 6, 0.1, "us/op", false,
                        Map.of(), List.of(5.0, 7.0)));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        Targets.Verdict ten = verdict(vs, "scheduler", "scheduler", "schedule + retire, 10 ");
        assertThat(ten.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(ten.measured()).startsWith("1050 ns").contains("900–1050");
        assertThat(verdict(vs, "scheduler", "scheduler", "schedule + retire, 100 ").status())
                .isEqualTo(Targets.Status.MET);
    }

    /**
     * Scale: finishing at the target's point is the no-deadlock verdict (a stalled round fails the
     * run), and throughput within 20 % means platform time / virtual time ≥ 0.8 in every fork.
     */
    @Test
    void scaleTargets() {
        String[] point = {"reservations", "100000", "virtualThreads", "10000", "platformThreads", "100",
            "transactions", "100000", "locks", "4"};
        List<BenchResult> rs = List.of(
                new BenchResult("scale", params(point), "platform", 100, 1, "ms/op", false, Map.of(),
                        List.of(100.0, 100.0)),
                new BenchResult("scale", params(point), "virtual", 120, 1, "ms/op", false, Map.of(),
                        List.of(120.0, 130.0)));
        List<Targets.Verdict> vs = Targets.judge(rs, RunMode.FULL);
        assertThat(verdict(vs, "scale", "virtual", "10⁴ virtual threads on 10⁵ reservations: no deadlock")
                .status()).isEqualTo(Targets.Status.MET);
        Targets.Verdict within = verdict(vs, "scale", "virtual", "10⁴ virtual threads on 10⁵ reservations: throughput");
        assertThat(within.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(within.value()).isCloseTo(100.0 / 130, org.assertj.core.data.Offset.offset(1e-9));
        List<Targets.Verdict> quick = Targets.judge(rs, RunMode.QUICK);
        assertThat(verdict(quick, "scale", "virtual", "10⁴ virtual threads on 10⁵ reservations: no deadlock")
                .status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(quick, "scale", "virtual", "10⁴ virtual threads on 10⁵ reservations: throughput")
                .status()).isEqualTo(Targets.Status.NOT_JUDGED);
    }
}
