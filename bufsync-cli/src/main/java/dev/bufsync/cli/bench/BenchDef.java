package dev.bufsync.cli.bench;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One benchmark of the suite as {@code bufsync bench} knows it: its stable name, the JMH class
 * that measures it, how a JMH result maps to a strategy and to a point on the chart's x axis,
 * which strategy the ratios compare with, and the points and iteration times of each
 * {@link RunMode}.
 *
 * @param name the benchmark's name in results (stable across versions)
 * @param jmhClass the fully qualified JMH benchmark class
 * @param strategyParam {@code true} if the strategy is the JMH parameter {@code strategy};
 *     {@code false} if each strategy is a benchmark method (named by {@link #strategyOfMethod})
 * @param axisTitle what the chart's x axis shows
 * @param axis the x-axis label of a result, from its parameters
 * @param baseline the strategy every ratio in the benchmark's table compares with
 * @param higherIsBetter whether a higher score is better (throughput) or worse (time)
 * @param settings what each mode runs
 */
public record BenchDef(String name, String jmhClass, boolean strategyParam, String axisTitle,
                       Function<Map<String, String>, String> axis, String baseline,
                       boolean higherIsBetter, Map<RunMode, Settings> settings) {

    /**
     * What one mode runs of a benchmark.
     *
     * @param params JMH parameter values to run (parameters not named keep their defaults)
     * @param methods for method-per-strategy benchmarks, the methods to run; empty for all
     * @param warmups warm-up iterations
     * @param warmupMillis time of each warm-up iteration
     * @param iterations measurement iterations
     * @param iterationMillis time of each measurement iteration
     */
    public record Settings(Map<String, List<String>> params, List<String> methods, int warmups,
                           int warmupMillis, int iterations, int iterationMillis) {
    }

    /**
     * A strategy's name from a benchmark method's name: camel case to kebab case
     * ({@code woundWait} → {@code wound-wait}), except {@code synchronizedBlock} →
     * {@code synchronized}, which cannot be a Java method name.
     *
     * @param method the JMH method name
     * @return the strategy name
     */
    public static String strategyOfMethod(String method) {
        if (method.equals("synchronizedBlock")) {
            return "synchronized";
        }
        return method.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** Builds the settings of the three modes. */
    static final class Builder {
        private final Map<RunMode, Settings> settings = new EnumMap<>(RunMode.class);

        Builder mode(RunMode mode, int warmups, int warmupMillis, int iterations,
                     int iterationMillis, List<String> methods, Object... params) {
            Map<String, List<String>> p = new LinkedHashMap<>();
            for (int i = 0; i < params.length; i += 2) {
                @SuppressWarnings("unchecked")
                List<String> values = (List<String>) params[i + 1];
                p.put((String) params[i], values);
            }
            settings.put(mode, new Settings(p, methods, warmups, warmupMillis, iterations,
                    iterationMillis));
            return this;
        }

        Map<RunMode, Settings> build() {
            return Map.copyOf(settings);
        }
    }
}
