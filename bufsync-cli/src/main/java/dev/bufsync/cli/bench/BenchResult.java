package dev.bufsync.cli.bench;

import java.util.LinkedHashMap;
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
 */
public record BenchResult(String benchmark, Map<String, String> params, String strategy,
                          double score, double scoreError, String unit, boolean higherIsBetter,
                          Map<String, Double> counters) {

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
        return switch (unit) {
            case "ns/op" -> score;
            case "us/op" -> score * 1e3;
            case "ms/op" -> score * 1e6;
            case "s/op" -> score * 1e9;
            default -> score;
        };
    }

    /**
     * The result as the JSON summary of DESIGN.md section 4 lists it: the contract's fields, then
     * the error, the ratio to the benchmark's baseline and the counters, flat.
     *
     * @param ratio this score over the baseline's at the same point, or NaN
     * @param baseline the baseline's name
     * @return an ordered map for Jackson
     */
    public Map<String, Object> toJson(double ratio, String baseline) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("benchmark", benchmark);
        m.put("params", params);
        m.put("strategy", strategy);
        m.put("score", finite(score));
        m.put("unit", unit);
        m.put("higherIsBetter", higherIsBetter);
        m.put("scoreError", finite(scoreError));
        m.put("baseline", baseline);
        m.put("ratioToBaseline", finite(ratio));
        counters.forEach((k, v) -> m.put(k, finite(v)));
        return m;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
