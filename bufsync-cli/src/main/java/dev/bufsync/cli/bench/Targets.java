package dev.bufsync.cli.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The performance targets of DESIGN.md section 5, each judged on one run's results: met, missed,
 * or not measured (the run did not include the points it needs, or the target is not a benchmark
 * of this suite). A ratio target compares two strategies measured in the same run, never a stored
 * number; the scheduler's targets are absolute times, as DESIGN.md states them.
 */
public final class Targets {

    /** How a target came out. */
    public enum Status {
        /** The run measured it and it holds. */
        MET("met"),
        /** The run measured it and it does not hold. */
        MISSED("missed"),
        /** The run has no results for it. */
        NOT_MEASURED("not measured");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /**
     * A target's outcome.
     *
     * @param benchmark the benchmark it is judged on
     * @param strategy the strategy it is about ("ours"), or empty
     * @param target the target, as DESIGN.md states it
     * @param measured what the run measured, in words (the worst point and its value)
     * @param value the measured ratio or time, NaN when not measured
     * @param status met, missed or not measured
     */
    public record Verdict(String benchmark, String strategy, String target, String measured,
                          double value, Status status) {

        /**
         * The verdict for the JSON summary and results.json.
         *
         * @return an ordered map for Jackson
         */
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("benchmark", benchmark);
            m.put("strategy", strategy);
            m.put("target", target);
            m.put("measured", measured);
            m.put("value", Double.isFinite(value) ? value : null);
            m.put("status", status.toString());
            return m;
        }
    }

    private static final List<String> OURS = List.of("wound-wait", "wait-die");

    private Targets() {
    }

    /**
     * Judges every target on a run's results.
     *
     * @param results all results of the run
     * @return one verdict per target and strategy, in DESIGN.md's order
     */
    public static List<Verdict> judge(List<BenchResult> results) {
        List<Verdict> v = new ArrayList<>();
        for (String ours : OURS) {
            v.add(ratioEverywhere(results, "uncontended", ours, "reentrant-lock", 1.3,
                    "≤ 1.3 × reentrant-lock lock+unlock"));
        }
        for (String ours : OURS) {
            v.add(ratioEverywhere(results, "lock-all", ours, "ordered", 1.5,
                    "≤ 1.5 × d plain ReentrantLocks, every d"));
        }
        for (String ours : OURS) {
            v.add(speedup(results, "lock-all", ours, "guava-cycle-detecting", Map.of("d", "20"), 3.0,
                    "≥ 3 × faster than Guava cycle detection at d = 20"));
        }
        for (String baseline : List.of("ordered", "smart-polite")) {
            for (String ours : OURS) {
                v.add(ratioEverywhere(results, "folly-grid", ours, baseline, 1.0,
                        "≥ 1.0 × " + baseline + " (time ≤ 1.0 ×) at every T × M"));
            }
        }
        for (String ours : OURS) {
            v.add(nearMinimum(results, ours));
        }
        for (String ours : OURS) {
            v.add(speedup(results, "philosophers", ours, "ordered", Map.of("table", "5"), 1.2,
                    "≥ 20 % faster than ordered at N = 5 (ordered time ≥ 1.2 ×)"));
        }
        v.add(fewerRollbacks(results));
        for (String ours : OURS) {
            v.add(ratioEverywhere(results, "hellstrom", ours, "ordered", 1.1,
                    "elapsed ≤ 1.1 × ordered locking"));
        }
        for (String ours : OURS) {
            v.add(throughputAtLeast(results, ours));
        }
        for (String fence : List.of("fence-callback", "fence-wake")) {
            v.add(ratioEverywhere(results, fence, "fence", "completable-future", 1.0,
                    "≤ 1.0 × CompletableFuture, 1 and 64 waiters"));
        }
        v.add(timeAtMost(results, "scheduler", "scheduler", Map.of("buffers", "10"), 1_000,
                "schedule + retire, 10 buffers, one thread: ≤ 1 µs"));
        v.add(timeAtMost(results, "scheduler", "scheduler", Map.of("buffers", "100"), 10_000,
                "schedule + retire, 100 buffers, one thread: ≤ 10 µs"));
        v.add(notInSuite("memory", "a WwMutex ≤ 32 bytes; 10^6 reservations without fences ≤ 150 MB"));
        v.add(notInSuite("scale", "10,000 virtual threads on 100,000 reservations within 20 % of 100 platform threads"));
        return v;
    }

    /** ours/baseline ≤ limit at every common point (lower is better), or ≥ limit (higher is better). */
    private static Verdict ratioEverywhere(List<BenchResult> results, String bench, String ours,
                                           String baseline, double limit, String target) {
        double worst = Double.NaN;
        String where = "";
        for (BenchResult o : of(results, bench, ours)) {
            BenchResult b = at(results, bench, baseline, o.params());
            if (b == null) {
                continue;
            }
            double r = o.score() / b.score();
            boolean worse = o.higherIsBetter() ? !(r >= worst) : !(r <= worst);
            if (Double.isNaN(worst) || worse) {
                worst = r;
                where = o.axisLabel();
            }
        }
        if (Double.isNaN(worst)) {
            return notMeasured(bench, ours, target);
        }
        boolean higher = of(results, bench, ours).get(0).higherIsBetter();
        boolean met = higher ? worst >= limit : worst <= limit;
        return new Verdict(bench, ours, target, String.format(Locale.ROOT, "worst %.2f × %s (at %s)",
                worst, baseline, where), worst, met ? Status.MET : Status.MISSED);
    }

    /** baseline time / ours time ≥ limit at one point. */
    private static Verdict speedup(List<BenchResult> results, String bench, String ours,
                                   String baseline, Map<String, String> point, double limit,
                                   String target) {
        BenchResult o = at(results, bench, ours, point);
        BenchResult b = at(results, bench, baseline, point);
        if (o == null || b == null) {
            return notMeasured(bench, ours, target);
        }
        double s = b.score() / o.score();
        return new Verdict(bench, ours, target, String.format(Locale.ROOT, "%s takes %.2f × as long",
                baseline, s), s, s >= limit ? Status.MET : Status.MISSED);
    }

    private static Verdict nearMinimum(List<BenchResult> results, String ours) {
        String target = "within 10 % of the theoretical minimum on every table";
        double worst = Double.NaN;
        String where = "";
        for (BenchResult o : of(results, "philosophers", ours)) {
            double r = o.counter("ratioToMinimum");
            if (Double.isNaN(worst) || r > worst) {
                worst = r;
                where = o.axisLabel();
            }
        }
        if (Double.isNaN(worst)) {
            return notMeasured("philosophers", ours, target);
        }
        return new Verdict("philosophers", ours, target, String.format(Locale.ROOT,
                "worst %.2f × minimum (table %s)", worst, where), worst,
                worst <= 1.10 ? Status.MET : Status.MISSED);
    }

    private static Verdict fewerRollbacks(List<BenchResult> results) {
        String target = "wound-wait rollbacks per transaction ≤ wait-die's at the lowest thread count";
        List<BenchResult> ww = of(results, "hellstrom", "wound-wait");
        BenchResult low = ww.stream().min((a, b) -> Integer.compare(
                Integer.parseInt(a.params().get("threads")), Integer.parseInt(b.params().get("threads"))))
                .orElse(null);
        BenchResult wd = low == null ? null : at(results, "hellstrom", "wait-die", low.params());
        if (wd == null) {
            return notMeasured("hellstrom", "wound-wait", target);
        }
        double a = low.counter("rollbacksPerTransaction");
        double b = wd.counter("rollbacksPerTransaction");
        return new Verdict("hellstrom", "wound-wait", target, String.format(Locale.ROOT,
                "%.4f against %.4f (%s threads)", a, b, low.params().get("threads")), a,
                a <= b ? Status.MET : Status.MISSED);
    }

    private static Verdict throughputAtLeast(List<BenchResult> results, String ours) {
        String target = "committed transactions/s ≥ no-wait at θ = 0.9, abort ratio reported";
        Map<String, String> point = Map.of("theta", "0.9");
        BenchResult o = at(results, "ycsb", ours, point);
        BenchResult b = at(results, "ycsb", "no-wait", point);
        if (o == null || b == null) {
            return notMeasured("ycsb", ours, target);
        }
        double r = o.score() / b.score();
        return new Verdict("ycsb", ours, target, String.format(Locale.ROOT,
                "%.2f × no-wait; abort ratio %.3f against %.3f", r, o.counter("abortRatio"),
                b.counter("abortRatio")), r, r >= 1.0 ? Status.MET : Status.MISSED);
    }

    private static Verdict timeAtMost(List<BenchResult> results, String bench, String ours,
                                      Map<String, String> point, double nanos, String target) {
        BenchResult o = at(results, bench, ours, point);
        if (o == null) {
            return notMeasured(bench, ours, target);
        }
        double t = o.scoreNanos();
        return new Verdict(bench, ours, target, String.format(Locale.ROOT, "%.0f ns", t), t,
                t <= nanos ? Status.MET : Status.MISSED);
    }

    private static Verdict notInSuite(String what, String target) {
        return new Verdict(what, "", target, "not a benchmark of this suite", Double.NaN,
                Status.NOT_MEASURED);
    }

    private static Verdict notMeasured(String bench, String ours, String target) {
        return new Verdict(bench, ours, target, "no results for it in this run", Double.NaN,
                Status.NOT_MEASURED);
    }

    private static List<BenchResult> of(List<BenchResult> results, String bench, String strategy) {
        return results.stream().filter(r -> r.benchmark().equals(bench)
                && r.strategy().equals(strategy)).toList();
    }

    /** The result of a strategy whose parameters include all of {@code point}'s. */
    static BenchResult at(List<BenchResult> results, String bench, String strategy,
                          Map<String, String> point) {
        for (BenchResult r : of(results, bench, strategy)) {
            if (point.entrySet().stream().allMatch(e -> Objects.equals(r.params().get(e.getKey()),
                    e.getValue()) || numericallyEqual(r.params().get(e.getKey()), e.getValue()))) {
                return r;
            }
        }
        return null;
    }

    private static boolean numericallyEqual(String a, String b) {
        try {
            return a != null && Double.parseDouble(a) == Double.parseDouble(b);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
