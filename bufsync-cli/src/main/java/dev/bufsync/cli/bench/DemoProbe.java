package dev.bufsync.cli.bench;

import dev.bufsync.cli.demo.DemoThroughput;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.openjdk.jmh.util.ListStatistics;

/**
 * The {@code demo} benchmark: the demo's own run ({@link DemoThroughput}) with ww locking and with
 * one global lock, in jobs per second, at every (drivers, buffers) point of the mode. Both modes of
 * a point run the same seeded workload, one after the other; each repetition uses a new seed, and
 * the repetitions give the spread of the ratio. The first point is run once per mode, unmeasured,
 * as warm-up.
 */
final class DemoProbe implements BenchDef.Probe {
    static final String WW = "ww";
    static final String GLOBAL = "global";
    private static final long SEED = 20_240_601L;

    @Override
    public List<String> strategies() {
        return List.of(WW, GLOBAL);
    }

    @Override
    public List<BenchResult> run(BenchDef def, BenchDef.Settings s, Consumer<String> progress)
            throws InterruptedException {
        List<String> driverCounts = s.params().get("drivers");
        List<String> bufferCounts = s.params().get("buffers");
        int repetitions = Math.max(1, s.forks());
        Duration each = Duration.ofMillis(s.iterationMillis());
        for (int w = 0; w < s.warmups(); w++) {
            for (String locking : strategies()) {
                progress.accept("warm-up " + locking);
                DemoThroughput.jobsPerSecond(locking, Integer.parseInt(driverCounts.get(0)),
                        Integer.parseInt(bufferCounts.get(0)), Duration.ofMillis(s.warmupMillis()), SEED - 1 - w);
            }
        }
        List<BenchResult> results = new ArrayList<>();
        for (String d : driverCounts) {
            for (String b : bufferCounts) {
                Map<String, List<Double>> runs = new LinkedHashMap<>();
                for (int r = 0; r < repetitions; r++) {
                    for (String locking : strategies()) {
                        progress.accept(String.format(Locale.ROOT, "drivers=%s buffers=%s %s (repetition %d/%d)",
                                d, b, locking, r + 1, repetitions));
                        runs.computeIfAbsent(locking, k -> new ArrayList<>()).add(DemoThroughput.jobsPerSecond(
                                locking, Integer.parseInt(d), Integer.parseInt(b), each, SEED + r));
                    }
                }
                Map<String, String> params = new LinkedHashMap<>();
                params.put("drivers", d);
                params.put("buffers", b);
                runs.forEach((locking, scores) -> results.add(result(def, params, locking, scores)));
            }
        }
        return results;
    }

    private static BenchResult result(BenchDef def, Map<String, String> params, String locking,
                                      List<Double> scores) {
        ListStatistics stats = new ListStatistics();
        scores.forEach(stats::addValue);
        double error = scores.size() > 1 ? stats.getMeanErrorAt(0.999) : Double.NaN;
        return new BenchResult(def.name(), params, locking, stats.getMean(), error, "jobs/s", def.higherIsBetter(), Map.of(), List.copyOf(scores));
    }
}
