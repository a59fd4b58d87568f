package dev.bufsync.cli.cluster;

import dev.bufsync.zookeeper.ZkTransaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.test.TestingCluster;

/**
 * The {@code cluster} benchmark: lock-all transactions of two objects per second on a real
 * three-server ensemble, bufsync's {@link ZkTransaction#lockAll} against Curator's
 * {@link InterProcessMultiLock}, each client a separate JVM ({@link ClusterBenchClient}) with its
 * own ZooKeeper session. Every client attaches and warms up, then all start together and run for
 * the same time. Without contention every client locks its own pair; with {@code abba} every client
 * locks the same pair, half of them listing it in the opposite order. The multi-lock waits at most
 * {@link #MULTI_LOCK_TIMEOUT} per attempt and its timeouts are counted. Round trips are counted for
 * both, by Curator's tracer (one trace per ZooKeeper operation).
 */
public final class ClusterBench implements AutoCloseable {
    /** How long one InterProcessMultiLock acquire waits before it counts as a timeout. */
    public static final Duration MULTI_LOCK_TIMEOUT = Duration.ofSeconds(1);
    /** The strategies measured. */
    public static final String BUFSYNC = "bufsync", MULTI_LOCK = "multi-lock";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final TestingCluster ensemble;

    /** Starts the ensemble the measurements share. */
    public ClusterBench() throws Exception {
        ensemble = EmbeddedEnsemble.start();
    }

    /**
     * One measurement.
     *
     * @param transactionsPerSecond committed lock-all transactions per second, all clients together
     * @param roundTripsPerTransaction ZooKeeper operations per committed transaction (NaN if none committed)
     * @param timeouts acquisitions that timed out (multi-lock; bufsync has none)
     * @param backoffs bufsync back-offs
     * @param bufsyncRoundTripsPerTransaction bufsync's own count of its calls per transaction (NaN for multi-lock)
     */
    public record Result(double transactionsPerSecond, double roundTripsPerTransaction, long timeouts, long backoffs,
                         double bufsyncRoundTripsPerTransaction) {
    }

    /**
     * Measures {@code strategy} with {@code clients} client processes for {@code duration}, each
     * client first running uncounted transactions for {@code warmup}.
     */
    public Result measure(String strategy, int clients, boolean abba, Duration warmup, Duration duration) throws Exception {
        String root = "/bufsync-bench/run-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        List<ChildProcess> ps = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                List<String> objects = abba ? (i % 2 == 0 ? List.of("A", "B") : List.of("B", "A"))
                        : List.of("c" + i + "a", "c" + i + "b");
                ps.add(ChildProcess.start(i, ClusterBenchClient.class, ChildProcess.MEASURING,
                        List.of(ensemble.getConnectString(), root, strategy, String.join(",", objects),
                                Long.toString(duration.toMillis()), Long.toString(warmup.toMillis()))));
            }
            for (ChildProcess p : ps) p.awaitReady(START_TIMEOUT.plus(warmup));     // attached and warmed up
            for (ChildProcess p : ps) p.send("go");
            long transactions = 0, timeouts = 0, backoffs = 0, roundTrips = 0, bufsyncRoundTrips = 0;
            for (ChildProcess p : ps) {
                p.awaitExit(duration.plus(START_TIMEOUT));
                if (!p.succeeded()) {
                    throw new IllegalStateException("bench client " + p.index + " failed (exit " + p.exitCode()
                            + "); its output: " + p.tail());
                }
                transactions += p.result().get("transactions").asLong();
                timeouts += p.result().get("timeouts").asLong();
                backoffs += p.result().get("backoffs").asLong();
                roundTrips += p.result().get("roundTrips").asLong();
                bufsyncRoundTrips += p.result().get("bufsyncRoundTrips").asLong();
            }
            return new Result(transactions / (duration.toNanos() / 1e9),
                    perTransaction(roundTrips, transactions), timeouts, backoffs,
                    strategy.equals(BUFSYNC) ? perTransaction(bufsyncRoundTrips, transactions) : Double.NaN);
        } finally {
            for (ChildProcess p : ps) p.kill();
        }
    }

    private static double perTransaction(long count, long transactions) {
        return transactions > 0 ? (double) count / transactions : Double.NaN;
    }

    @Override
    public void close() throws Exception {
        ensemble.close();
    }
}
