package dev.bufsync.cli.bench;

import dev.bufsync.cli.cluster.ClusterBench;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The {@code cluster} benchmark ({@link ClusterBench}): lock-all transactions per second on a real
 * three-server ZooKeeper ensemble, bufsync against Curator's InterProcessMultiLock, per number of
 * client processes and contention; counters give round trips per transaction, back-offs and timeouts.
 */
final class ClusterProbe implements BenchDef.Probe {
    @Override
    public List<String> strategies() {
        return List.of(ClusterBench.BUFSYNC, ClusterBench.MULTI_LOCK);
    }

    @Override
    public List<BenchResult> run(BenchDef def, BenchDef.Settings s, Consumer<String> progress) throws Exception {
        List<BenchResult> results = new ArrayList<>();
        Duration each = Duration.ofMillis(s.iterationMillis()), warmup = Duration.ofMillis(s.warmupMillis());
        int repetitions = Math.max(1, s.forks());
        try (ClusterBench bench = new ClusterBench()) {
            for (int w = 0; w < s.warmups(); w++) {
                for (String strategy : strategies()) {      // the ensemble's JIT, before the first point
                    progress.accept("warm-up: " + strategy);
                    bench.measure(strategy, 2, false, warmup, warmup);
                }
            }
            for (String contention : s.params().get("contention")) {
                for (String processes : s.params().get("processes")) {
                    for (String strategy : strategies()) {
                        List<Double> scores = new ArrayList<>();
                        Map<String, Double> counters = new LinkedHashMap<>();
                        for (int r = 0; r < repetitions; r++) {
                            progress.accept(String.format(Locale.ROOT, "%s processes=%s contention=%s (repetition %d/%d)",
                                    strategy, processes, contention, r + 1, repetitions));
                            ClusterBench.Result m = bench.measure(strategy, Integer.parseInt(processes),
                                    contention.equals("abba"), warmup, each);
                            scores.add(m.transactionsPerSecond());
                            counters.merge("timeouts", (double) m.timeouts(), Double::sum);
                            counters.merge("backoffs", (double) m.backoffs(), Double::sum);
                            if (!Double.isNaN(m.roundTripsPerTransaction())) {
                                counters.put("roundTripsPerTransaction", m.roundTripsPerTransaction());
                            }
                            if (!Double.isNaN(m.bufsyncRoundTripsPerTransaction())) {
                                counters.put("bufsyncRoundTripsPerTransaction", m.bufsyncRoundTripsPerTransaction());
                            }
                        }
                        Map<String, String> params = new LinkedHashMap<>();
                        params.put("processes", processes);
                        params.put("contention", contention);
                        double mean = scores.stream().mapToDouble(Double::doubleValue).average().orElse(0);
                        results.add(new BenchResult(def.name(), params, strategy, mean, Double.NaN, "txn/s",
                                true, counters, List.copyOf(scores)));
                    }
                }
            }
        }
        return results;
    }
}
