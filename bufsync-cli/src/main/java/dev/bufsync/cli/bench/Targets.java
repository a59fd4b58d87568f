package dev.bufsync.cli.bench;

import dev.bufsync.exec.ScaleBenchmark;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.stream.Collectors;

/**
 * The performance targets (the table of docs/bench.md), each judged on one run's results: met,
 * missed, not measured, or not judged in quick mode. Only the targets of benchmarks that ran are
 * listed.
 *
 * <p>A ratio target compares two strategies measured in the same run, never a stored number, and
 * fork by fork: the i-th fork of ours against the i-th fork of the baseline. A target is met only
 * when every fork holds it at every point; the verdict gives the worst point and the spread of its
 * ratio across forks. Quick mode's one short fork cannot be faithful to a full run for anything
 * timed (its ratios moved by up to 4 × against full runs), so there a timed target is "not judged
 * in quick mode" (what it measured is still shown); quick mode judges only the exact targets:
 * object sizes, and that the scale benchmark finished at all.
 */
public final class Targets {

    /** How a target came out. */
    public enum Status {
        /** The run measured it and it holds in every fork. */
        MET("met"),
        /** The run measured it and it does not hold, in at least one fork. */
        MISSED("missed"),
        /** The run has no results for it. */
        NOT_MEASURED("not measured"),
        /** Quick mode measured it but cannot judge it faithfully. */
        NOT_JUDGED("not judged in quick mode");

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
     * @param target the target, in words
     * @param measured what the run measured, in words (the worst point, its value and its spread)
     * @param value the measured ratio, time or size at the worst point and fork, NaN when not measured
     * @param spread the lowest and highest value across forks at the worst point; empty with one
     *     fork or no spread
     * @param status met, missed, not measured or not judged
     */
    public record Verdict(String benchmark, String strategy, String target, String measured,
                          double value, List<Double> spread, Status status) {

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
            m.put("spread", spread);
            m.put("status", status.toString());
            return m;
        }
    }

    /** Whether quick mode can judge a target: not when it is timed, yes when it is exact. */
    private enum Kind { TIMED, EXACT }

    private static final List<String> OURS = List.of("wound-wait", "wait-die");
    /** Ours with shared reads ({@code ycsb}'s second variant). */
    private static final List<String> OURS_SHARED = List.of("wound-wait-shared", "wait-die-shared");
    private static final Map<String, String> SCALE_POINT = Map.of("reservations", "100000",
            "virtualThreads", "10000", "platformThreads", "100");
    private static final BinaryOperator<Double> WORST_HIGH = Math::max;
    private static final BinaryOperator<Double> WORST_LOW = Math::min;

    private Targets() {
    }

    /**
     * Judges the targets of the benchmarks that have results in a run.
     *
     * @param results all results of the run
     * @param mode the run's mode: quick mode judges only exact targets
     * @return one verdict per target and strategy of the benchmarks that ran, in the table's order
     */
    public static List<Verdict> judge(List<BenchResult> results, RunMode mode) {
        Set<String> ran = results.stream().map(BenchResult::benchmark).collect(Collectors.toSet());
        Verdicts all = new Verdicts();
        for (String ours : OURS) {
            all.add(ratioEverywhere(results, "uncontended", ours, "reentrant-lock", 1.3,
                    "≤ 1.3 × reentrant-lock lock+unlock"), Kind.TIMED);
        }
        for (String ours : OURS) {
            all.add(ratioEverywhere(results, "lock-all", ours, "ordered", 1.5,
                    "≤ 1.5 × d plain ReentrantLocks, every d"), Kind.TIMED);
        }
        for (String ours : OURS) {
            all.add(speedup(results, "lock-all", ours, "guava-cycle-detecting", Map.of("d", "20"), 3.0,
                    "≥ 3 × faster than Guava cycle detection at d = 20"), Kind.TIMED);
        }
        for (String baseline : List.of("ordered", "smart-polite")) {
            for (String ours : OURS) {
                all.add(ratioEverywhere(results, "folly-grid", ours, baseline, 1.0,
                        "≥ 1.0 × " + baseline + " (time ≤ 1.0 ×) at every T × M"), Kind.TIMED);
            }
        }
        for (String ours : OURS) {
            all.add(nearMinimum(results, ours), Kind.TIMED);
        }
        for (String ours : OURS) {
            all.add(speedup(results, "philosophers", ours, "ordered", Map.of("table", "5"), 1.2,
                    "≥ 20 % faster than ordered at N = 5 (ordered time ≥ 1.2 ×)"), Kind.TIMED);
        }
        all.add(fewerRollbacks(results), Kind.TIMED);
        for (String ours : OURS) {
            all.add(ratioEverywhere(results, "hellstrom", ours, "ordered", 1.1,
                    "elapsed ≤ 1.1 × ordered locking"), Kind.TIMED);
        }
        for (String ours : OURS) {
            all.add(ratioAt(results, "ycsb", ours, "no-wait", Map.of("theta", "0.9"), 1.0,
                    "committed transactions/s ≥ no-wait at θ = 0.9, abort ratio reported"), Kind.TIMED);
        }
        for (String ours : OURS_SHARED) {
            all.add(ratioAt(results, "ycsb", ours, "no-wait-rw", Map.of("theta", "0.9"), 1.0,
                    "with shared reads: committed transactions/s ≥ no-wait-rw at θ = 0.9, abort ratio reported"),
                    Kind.TIMED);
        }
        for (String fence : List.of("fence-callback", "fence-wake")) {
            all.add(ratioEverywhere(results, fence, "fence", "completable-future", 1.0,
                    "≤ 1.0 × CompletableFuture, 1 and 64 waiters"), Kind.TIMED);
        }
        all.add(timeAtMost(results, "scheduler", Map.of("buffers", "10"), 1_000,
                "schedule + retire, 10 buffers, one thread: ≤ 1 µs"), Kind.TIMED);
        all.add(timeAtMost(results, "scheduler", Map.of("buffers", "100"), 10_000,
                "schedule + retire, 100 buffers, one thread: ≤ 10 µs"), Kind.TIMED);
        all.add(sizeAtMost(results, "ww-mutex", Map.of("object", MemoryProbe.MUTEX), 32,
                "a WwMutex ≤ 32 bytes", "%.0f bytes"), Kind.EXACT);
        all.add(sizeAtMost(results, "reservation", Map.of("reservations", "1000000"), 150,
                "10⁶ reservations without fences ≤ 150 MB of heap", "%.1f MB"), Kind.EXACT);
        all.add(scaleFinished(results), Kind.EXACT);
        all.add(speedup(results, "scale", "virtual", "platform", SCALE_POINT, 0.8,
                "10⁴ virtual threads on 10⁵ reservations: throughput within 20 % of 100 platform threads"),
                Kind.TIMED);
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < all.verdicts.size(); i++) {
            Verdict v = all.verdicts.get(i);
            if (ran.contains(v.benchmark())) {
                verdicts.add(mode == RunMode.QUICK && all.kinds.get(i) == Kind.TIMED ? notJudged(v) : v);
            }
        }
        return verdicts;
    }

    /** Every target's verdict with its kind, in the table's order. */
    private static final class Verdicts {
        final List<Verdict> verdicts = new ArrayList<>();
        final List<Kind> kinds = new ArrayList<>();

        void add(Verdict v, Kind kind) {
            verdicts.add(v);
            kinds.add(kind);
        }
    }

    /** ours/baseline ≤ limit in every fork at every common point (≥ limit when higher is better). */
    private static Verdict ratioEverywhere(List<BenchResult> results, String bench, String ours,
                                           String baseline, double limit, String target) {
        Judged worst = null;
        for (BenchResult o : of(results, bench, ours)) {
            BenchResult b = at(results, bench, baseline, o.params());
            if (b != null) {
                Judged j = Judged.of(o.forkRatios(b), o.higherIsBetter(), limit, o.axisLabel());
                worst = Judged.worse(worst, j);
            }
        }
        if (worst == null) {
            return notMeasured(bench, ours, target);
        }
        return worst.verdict(bench, ours, target, String.format(Locale.ROOT, "worst %.2f × %s (at %s)",
                worst.value(), baseline, worst.where()));
    }

    /** ours/baseline at one point, in every fork: ≥ limit when higher is better, else ≤ limit. */
    private static Verdict ratioAt(List<BenchResult> results, String bench, String ours, String baseline,
                                   Map<String, String> point, double limit, String target) {
        BenchResult o = at(results, bench, ours, point);
        BenchResult b = at(results, bench, baseline, point);
        if (o == null || b == null) {
            return notMeasured(bench, ours, target);
        }
        Judged j = Judged.of(o.forkRatios(b), o.higherIsBetter(), limit, o.axisLabel());
        return j.verdict(bench, ours, target, String.format(Locale.ROOT, "%.2f × %s; abort ratio %.3f against %.3f",
                j.value(), baseline, o.counter("abortRatio"), b.counter("abortRatio")));
    }

    /** baseline time / ours time ≥ limit at one point, in every fork. */
    private static Verdict speedup(List<BenchResult> results, String bench, String ours,
                                   String baseline, Map<String, String> point, double limit,
                                   String target) {
        BenchResult o = at(results, bench, ours, point);
        BenchResult b = at(results, bench, baseline, point);
        if (o == null || b == null) {
            return notMeasured(bench, ours, target);
        }
        List<Double> s = b.forkRatios(o);
        Judged j = Judged.of(s, true, limit, o.axisLabel());
        return j.verdict(bench, ours, target, String.format(Locale.ROOT, "%s takes %.2f × as long", baseline,
                j.value()));
    }

    private static Verdict nearMinimum(List<BenchResult> results, String ours) {
        String target = "within 10 % of the theoretical minimum on every table";
        Judged worst = null;
        for (BenchResult o : of(results, "philosophers", ours)) {
            double minimum = o.counter("minimumMs");
            if (!Double.isNaN(minimum)) {
                List<Double> r = o.forkScores().stream().map(v -> v / minimum).toList();
                worst = Judged.worse(worst, Judged.of(r, false, 1.10, o.axisLabel()));
            }
        }
        if (worst == null) {
            return notMeasured("philosophers", ours, target);
        }
        return worst.verdict("philosophers", ours, target, String.format(Locale.ROOT,
                "worst %.2f × minimum (table %s)", worst.value(), worst.where()));
    }

    /** Rollbacks are summed over the forks' iterations, so this one has no per-fork spread. */
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
                "%.4f against %.4f (%s threads)", a, b, low.params().get("threads")), a, List.of(),
                a <= b ? Status.MET : Status.MISSED);
    }

    private static Verdict timeAtMost(List<BenchResult> results, String bench, Map<String, String> point,
                                      double nanos, String target) {
        BenchResult o = at(results, bench, bench, point);
        if (o == null) {
            return notMeasured(bench, bench, target);
        }
        Judged j = Judged.of(o.forkNanos(), false, nanos, o.axisLabel());
        return j.verdict(bench, bench, target, String.format(Locale.ROOT, "%.0f ns", j.value()));
    }

    private static Verdict sizeAtMost(List<BenchResult> results, String strategy, Map<String, String> point,
                                      double limit, String target, String format) {
        BenchResult o = at(results, "memory", strategy, point);
        if (o == null) {
            return notMeasured("memory", strategy, target);
        }
        return new Verdict("memory", strategy, target, String.format(Locale.ROOT, format, o.score()),
                o.score(), List.of(), o.score() <= limit ? Status.MET : Status.MISSED);
    }

    /** A stalled or deadlocked round fails the scale run, so results at the target's point mean it finished. */
    private static Verdict scaleFinished(List<BenchResult> results) {
        String target = "10⁴ virtual threads on 10⁵ reservations: no deadlock";
        BenchResult o = at(results, "scale", "virtual", SCALE_POINT);
        if (o == null) {
            return notMeasured("scale", "virtual", target);
        }
        return new Verdict("scale", "virtual", target, "every round finished within "
                + ScaleBenchmark.STALL_SECONDS + " s, in every fork", Double.NaN, List.of(), Status.MET);
    }

    private static Verdict notJudged(Verdict v) {
        if (v.status() == Status.NOT_MEASURED) {
            return v;
        }
        return new Verdict(v.benchmark(), v.strategy(), v.target(), v.measured()
                + "; one short fork cannot judge this, run --full", v.value(), v.spread(), Status.NOT_JUDGED);
    }

    private static Verdict notMeasured(String bench, String ours, String target) {
        return new Verdict(bench, ours, target, "no results for it in this run", Double.NaN, List.of(),
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

    /**
     * One point judged across its forks.
     *
     * @param value the worst fork's value
     * @param spread lowest and highest value across forks, empty with one fork
     * @param holding how many forks hold the limit
     * @param forks how many forks there are
     * @param higherIsBetter the direction of the limit
     * @param where the point's label
     */
    private record Judged(double value, List<Double> spread, int holding, int forks,
                          boolean higherIsBetter, String where) {

        static Judged of(List<Double> values, boolean higherIsBetter, double limit, String where) {
            double worst = values.stream().reduce(higherIsBetter ? WORST_LOW : WORST_HIGH).orElseThrow();
            int holding = (int) values.stream().filter(v -> higherIsBetter ? v >= limit : v <= limit).count();
            List<Double> spread = values.size() < 2 ? List.of()
                    : List.of(Collections.min(values), Collections.max(values));
            return new Judged(worst, spread, holding, values.size(), higherIsBetter, where);
        }

        /** The point that misses in more forks, then the one with the worse worst fork. */
        static Judged worse(Judged a, Judged b) {
            if (a == null) {
                return b;
            }
            int missA = a.forks - a.holding;
            int missB = b.forks - b.holding;
            if (missA != missB) {
                return missB > missA ? b : a;
            }
            boolean bWorse = b.higherIsBetter ? b.value < a.value : b.value > a.value;
            return bWorse ? b : a;
        }

        Verdict verdict(String bench, String ours, String target, String measured) {
            String text = measured;
            if (forks > 1) {
                String f = Math.abs(value) >= 100 ? "%.0f" : "%.2f";
                text += String.format(Locale.ROOT, "; " + f + "–" + f + " across %d forks, %d of %d hold",
                        spread.get(0), spread.get(1), forks, holding, forks);
            }
            return new Verdict(bench, ours, target, text, value, spread,
                    holding == forks ? Status.MET : Status.MISSED);
        }
    }
}
