package dev.bufsync.cli.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One measured point: a benchmark, its parameters and a strategy, with the score and the counters
 * that explain it.
 *
 * @param benchmark the benchmark's name (see {@link Catalog})
 * @param params the JMH parameters other than the strategy, in the benchmark's order
 * @param strategy the strategy's name
 * @param score the primary score
 * @param scoreError JMH's 99.9 % half-width, NaN with too few iterations
 * @param unit the score's unit
 * @param higherIsBetter whether a higher score is better
 * @param counters counts and derived ratios (rollbacks, transactions, wounds,
 *     rollbacksPerTransaction, abortRatio, minimumMs, ratioToMinimum), absent when not measured
 * @param forkScores the score of each fork (JMH) or repetition (probes), in run order
 */
public record BenchResult(String benchmark, Map<String, String> params, String strategy,
                          double score, double scoreError, String unit, boolean higherIsBetter,
                          Map<String, Double> counters, List<Double> forkScores) {

    /** A result measured once: its one fork's score is the score. */
    public BenchResult(String benchmark, Map<String, String> params, String strategy, double score,
                       double scoreError, String unit, boolean higherIsBetter, Map<String, Double> counters) {
        this(benchmark, params, strategy, score, scoreError, unit, higherIsBetter, counters, List.of(score));
    }

    /**
     * This result's ratio to another at the same point, fork by fork (the i-th fork of each, as
     * far as both have forks): the spread of a ratio across independent VMs.
     *
     * @param baseline the result to divide by
     * @return one ratio per fork pair, at least one
     */
    public List<Double> forkRatios(BenchResult baseline) {
        int n = Math.min(forkScores.size(), baseline.forkScores.size());
        if (n == 0) {
            return List.of(score / baseline.score);
        }
        Double[] r = new Double[n];
        for (int i = 0; i < n; i++) {
            r[i] = forkScores.get(i) / baseline.forkScores.get(i);
        }
        return List.of(r);
    }

    /**
     * The x-axis label of this point in its benchmark's chart.
     *
     * @return the label
     */
    public String axisLabel() {
        return Catalog.find(benchmark).map(d -> d.axis().apply(params)).orElse("");
    }

    /**
     * The counter of a name, or NaN.
     *
     * @param name a counter name
     * @return its value, or NaN if absent
     */
    public double counter(String name) {
        Double v = counters.get(name);
        return v == null ? Double.NaN : v;
    }

    /**
     * The score in nanoseconds per operation, for time units; the score itself otherwise.
     *
     * @return the normalised score
     */
    public double scoreNanos() {
        return score * nanosPerUnit();
    }

    /**
     * Each fork's score in nanoseconds per operation, for time units.
     *
     * @return the normalised fork scores
     */
    public List<Double> forkNanos() {
        double f = nanosPerUnit();
        return forkScores.stream().map(v -> v * f).toList();
    }

    private double nanosPerUnit() {
        return switch (unit) {
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            default -> 1;
        };
    }

    /**
     * The result as the JSON summary lists it: benchmark, params, strategy, score, unit and
     * higherIsBetter, then the error, each fork's score, the ratio to the benchmark's baseline
     * with its spread across forks, and the counters, flat.
     *
     * @param ratio this score over the baseline's at the same point, or NaN
     * @param spread the ratio's lowest and highest value across forks, or empty
     * @param baseline the baseline's name
     * @return an ordered map for Jackson
     */
    public Map<String, Object> toJson(double ratio, List<Double> spread, String baseline) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("benchmark", benchmark);
        m.put("params", params);
        m.put("strategy", strategy);
        m.put("score", finite(score));
        m.put("unit", unit);
        m.put("higherIsBetter", higherIsBetter);
        m.put("scoreError", finite(scoreError));
        m.put("forkScores", forkScores);
        m.put("baseline", baseline);
        m.put("ratioToBaseline", finite(ratio));
        m.put("ratioSpread", spread);
        counters.forEach((k, v) -> m.put(k, finite(v)));
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
