package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The targets of DESIGN.md section 5 are judged on the run's own results, met, missed or not measured. */
class TargetsTest {

    private static BenchResult result(String bench, String strategy, double score, String unit,
                                      boolean higher, Map<String, Double> counters, String... params) {
        Map<String, String> p = new LinkedHashMap<>();
        for (int i = 0; i < params.length; i += 2) {
            p.put(params[i], params[i + 1]);
        }
        return new BenchResult(bench, p, strategy, score, Double.NaN, unit, higher, counters);
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
        List<Targets.Verdict> vs = Targets.judge(rs);
        Targets.Verdict ww = verdict(vs, "lock-all", "wound-wait", "≤ 1.5");
        assertThat(ww.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(ww.value()).isEqualTo(1.6);
        assertThat(ww.measured()).contains("at 20");
        assertThat(verdict(vs, "lock-all", "wait-die", "≤ 1.5").status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(vs, "lock-all", "wound-wait", "≥ 3").status()).isEqualTo(Targets.Status.MISSED);
        assertThat(verdict(vs, "lock-all", "wait-die", "≥ 3").status()).isEqualTo(Targets.Status.MET);
    }

    /** Throughput targets compare upwards, and the abort ratios are reported beside them. */
    @Test
    void throughputTargetComparesUpwards() {
        List<BenchResult> rs = List.of(
                result("ycsb", "no-wait", 100, "ops/s", true, Map.of("abortRatio", 0.2), "theta", "0.9"),
                result("ycsb", "wound-wait", 120, "ops/s", true, Map.of("abortRatio", 0.01), "theta", "0.9"),
                result("ycsb", "wait-die", 90, "ops/s", true, Map.of("abortRatio", 0.3), "theta", "0.9"));
        List<Targets.Verdict> vs = Targets.judge(rs);
        Targets.Verdict ww = verdict(vs, "ycsb", "wound-wait", "committed");
        assertThat(ww.status()).isEqualTo(Targets.Status.MET);
        assertThat(ww.measured()).contains("1.20 × no-wait").contains("abort ratio 0.010 against 0.200");
        assertThat(verdict(vs, "ycsb", "wait-die", "committed").status()).isEqualTo(Targets.Status.MISSED);
    }

    /** The philosophers' targets use the ratio to the minimum and the speed-up over ordered at N = 5. */
    @Test
    void philosophersTargets() {
        List<BenchResult> rs = List.of(
                result("philosophers", "ordered", 95, "ms/op", false, Map.of("ratioToMinimum", 1.27), "table", "5"),
                result("philosophers", "wound-wait", 76, "ms/op", false, Map.of("ratioToMinimum", 1.01), "table", "5"),
                result("philosophers", "wound-wait", 70, "ms/op", false, Map.of("ratioToMinimum", 1.17), "table", "cube"));
        List<Targets.Verdict> vs = Targets.judge(rs);
        Targets.Verdict near = verdict(vs, "philosophers", "wound-wait", "within 10 %");
        assertThat(near.status()).isEqualTo(Targets.Status.MISSED);
        assertThat(near.measured()).contains("cube");
        assertThat(verdict(vs, "philosophers", "wound-wait", "≥ 20 %").status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(vs, "philosophers", "wait-die", "≥ 20 %").status())
                .isEqualTo(Targets.Status.NOT_MEASURED);
    }

    /** Fence and scheduler targets are not measured without results, then judged on them. */
    @Test
    void fenceAndSchedulerTargetsAreJudgedOnTheirResults() {
        List<Targets.Verdict> none = Targets.judge(List.of());
        Targets.Verdict fence = verdict(none, "fence-callback", "fence", "≤ 1.0");
        assertThat(fence.status()).isEqualTo(Targets.Status.NOT_MEASURED);
        assertThat(fence.measured()).contains("no results");
        List<BenchResult> rs = List.of(
                result("fence-callback", "completable-future", 100, "ns/op", false, Map.of(), "waiters", "1"),
                result("fence-callback", "fence", 90, "ns/op", false, Map.of(), "waiters", "1"),
                result("scheduler", "scheduler", 0.8, "us/op", false, Map.of(), "buffers", "10"),
                result("scheduler", "scheduler", 12, "us/op", false, Map.of(), "buffers", "100"));
        List<Targets.Verdict> vs = Targets.judge(rs);
        assertThat(verdict(vs, "fence-callback", "fence", "≤ 1.0").status()).isEqualTo(Targets.Status.MET);
        assertThat(verdict(vs, "scheduler", "scheduler", "schedule + retire, 10 ").status())
                .isEqualTo(Targets.Status.MET);
        assertThat(verdict(vs, "scheduler", "scheduler", "schedule + retire, 100 ").status())
                .isEqualTo(Targets.Status.MISSED);
    }
}
