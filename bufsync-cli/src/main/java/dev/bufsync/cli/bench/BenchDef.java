package dev.bufsync.cli.bench;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One benchmark of the suite as {@code bufsync bench} knows it: its stable name, the JMH class
 * that measures it, how a JMH result maps to a strategy and to a point on the chart's x axis,
 * which strategy the ratios compare with, and the points and iteration times of each
 * {@link RunMode}. Most benchmarks are JMH classes; a few ({@code demo}, {@code memory}) are
 * {@linkplain Probe probes} that the command runs itself.
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
 * @param probe what runs it when it is not a JMH benchmark, or {@code null}
 */
public record BenchDef(String name, String jmhClass, boolean strategyParam, String axisTitle,
                       Function<Map<String, String>, String> axis, String baseline,
                       boolean higherIsBetter, Map<RunMode, Settings> settings, Probe probe) {

    /** A JMH benchmark: {@link #jmhClass} runs through JMH's Runner. */
    BenchDef(String name, String jmhClass, boolean strategyParam, String axisTitle,
             Function<Map<String, String>, String> axis, String baseline, boolean higherIsBetter,
             Map<RunMode, Settings> settings) {
        this(name, jmhClass, strategyParam, axisTitle, axis, baseline, higherIsBetter, settings, null);
    }

    /**
     * A benchmark the command measures itself, without JMH, because its figure is not a timed
     * operation (object sizes) or its workload is the command's own (the demo).
     */
    interface Probe {
        /**
         * The strategies each point measures, for the point count of the mode line.
         *
         * @return strategy names
         */
        List<String> strategies();

        /**
         * Measures every point of the settings.
         *
         * @param def the benchmark
         * @param settings the mode's points, repetitions and durations
         * @param progress where to report progress
         * @return one result per point and strategy
         * @throws Exception if the measurement failed
         */
        List<BenchResult> run(BenchDef def, Settings settings, Consumer<String> progress)
                throws Exception;
    }

    /**
     * What one mode runs of a benchmark.
     *
     * @param params JMH parameter values to run (parameters not named keep their defaults)
     * @param methods for method-per-strategy benchmarks, the methods to run; empty for all
     * @param warmups warm-up iterations
     * @param warmupMillis time of each warm-up iteration
     * @param iterations measurement iterations
     * @param iterationMillis time of each measurement iteration
     * @param forks forked VMs per point (JMH; 0 runs in this VM), or repetitions (probes)
     */
    public record Settings(Map<String, List<String>> params, List<String> methods, int warmups,
                           int warmupMillis, int iterations, int iterationMillis, int forks) {
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
                    iterationMillis, mode.forks()));
            return this;
        }

        /** Sets the forks of a mode already given, for benchmarks whose ratio spreads widely. */
        Builder forks(RunMode mode, int forks) {
            Settings s = settings.get(mode);
            settings.put(mode, new Settings(s.params(), s.methods(), s.warmups(), s.warmupMillis(),
                    s.iterations(), s.iterationMillis(), forks));
            return this;
        }

        Map<RunMode, Settings> build() {
            return Map.copyOf(settings);
        }
    }
}
