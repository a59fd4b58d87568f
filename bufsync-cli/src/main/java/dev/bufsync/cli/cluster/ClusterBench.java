package dev.bufsync.cli.cluster;

import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkLockSpace;
import dev.bufsync.zookeeper.ZkTransaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingCluster;

/**
 * The {@code cluster} benchmark: lock-all transactions of two objects per second on a real
 * three-server ensemble, bufsync's {@link ZkTransaction#lockAll} against Curator's
 * {@link InterProcessMultiLock}, each client with its own ZooKeeper session (as separate
 * processes would have; the clients run on platform threads of one JVM so that the figure is the
 * protocol's, not JVM start-up's). Without contention every client locks its own pair; with
 * {@code abba} every client locks the same pair, half of them listing it in the opposite order.
 * The multi-lock waits at most {@link #MULTI_LOCK_TIMEOUT} per attempt and its timeouts are counted.
 */
public final class ClusterBench implements AutoCloseable {
    /** How long one InterProcessMultiLock acquire waits before it counts as a timeout. */
    public static final Duration MULTI_LOCK_TIMEOUT = Duration.ofSeconds(1);
    /** The strategies measured. */
    public static final String BUFSYNC = "bufsync", MULTI_LOCK = "multi-lock";

    private final TestingCluster ensemble;

    /** Starts the ensemble the measurements share. */
    public ClusterBench() throws Exception {
        ensemble = new TestingCluster(3);
        ensemble.start();
    }

    /**
     * One measurement.
     *
     * @param transactionsPerSecond committed lock-all transactions per second, all clients together
     * @param roundTripsPerTransaction ZooKeeper calls per transaction (bufsync only; NaN otherwise)
     * @param timeouts acquisitions that timed out (multi-lock) or back-offs (bufsync are not timeouts: 0)
     * @param backoffs bufsync back-offs
     */
    public record Result(double transactionsPerSecond, double roundTripsPerTransaction, long timeouts, long backoffs) {
    }

    /** Measures {@code strategy} with {@code clients} sessions for {@code duration}. */
    public Result measure(String strategy, int clients, boolean abba, Duration duration) throws Exception {
        String root = "/bufsync-bench/run-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        List<CuratorFramework> sessions = new ArrayList<>();
        LongAdder transactions = new LongAdder(), timeouts = new LongAdder(), backoffs = new LongAdder(),
                roundTrips = new LongAdder();
        CyclicBarrier start = new CyclicBarrier(clients + 1);
        List<Thread> threads = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                CuratorFramework c = CuratorFrameworkFactory.builder().connectString(ensemble.getConnectString())
                        .sessionTimeoutMs(30_000).connectionTimeoutMs(10_000).retryPolicy(new RetryNTimes(20, 100)).build();
                c.start();
                sessions.add(c);
                List<String> objects = abba ? (i % 2 == 0 ? List.of("A", "B") : List.of("B", "A"))
                        : List.of("c" + i + "a", "c" + i + "b");
                Runnable body = strategy.equals(BUFSYNC)
                        ? bufsync(c, root, objects, start, duration, transactions, backoffs, roundTrips)
                        : multiLock(c, root, objects, start, duration, transactions, timeouts);
                threads.add(Thread.ofPlatform().name("bench-client-" + i).start(body));
            }
            start.await(60, TimeUnit.SECONDS);          // every client attached and warmed up
            for (Thread t : threads) t.join(duration.plusSeconds(30));
        } finally {
            for (Thread t : threads) t.interrupt();
            for (CuratorFramework c : sessions) c.close();
        }
        double seconds = duration.toNanos() / 1e9;
        long n = transactions.sum();
        return new Result(n / seconds, strategy.equals(BUFSYNC) && n > 0 ? (double) roundTrips.sum() / n : Double.NaN,
                timeouts.sum(), backoffs.sum());
    }

    private static Runnable bufsync(CuratorFramework c, String root, List<String> objects, CyclicBarrier start,
                                    Duration duration, LongAdder transactions, LongAdder backoffs, LongAdder roundTrips) {
        return () -> {
            try (ZkCluster cluster = ZkCluster.attach(c, root)) {
                ZkLockSpace space = cluster.lockSpace("bench", WwClass.Algorithm.WOUND_WAIT);
                try (ZkTransaction warm = space.begin()) {
                    warm.lockAll(objects);                  // creates the objects' nodes
                }
                start.await(60, TimeUnit.SECONDS);
                long end = System.nanoTime() + duration.toNanos();
                long rt0 = cluster.roundTrips(), b0 = cluster.backoffs();
                while (System.nanoTime() < end) {
                    try (ZkTransaction txn = space.begin()) {
                        txn.lockAll(objects);
                    }
                    transactions.increment();
                }
                roundTrips.add(cluster.roundTrips() - rt0);
                backoffs.add(cluster.backoffs() - b0);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static Runnable multiLock(CuratorFramework c, String root, List<String> objects, CyclicBarrier start,
                                      Duration duration, LongAdder transactions, LongAdder timeouts) {
        return () -> {
            try {
                InterProcessMultiLock lock = new InterProcessMultiLock(c,
                        objects.stream().map(o -> root + "/locks/" + o).toList());
                if (lock.acquire(30, TimeUnit.SECONDS)) lock.release();     // creates the lock nodes
                start.await(60, TimeUnit.SECONDS);
                long end = System.nanoTime() + duration.toNanos();
                while (System.nanoTime() < end) {
                    if (lock.acquire(MULTI_LOCK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                        lock.release();
                        transactions.increment();
                    } else {
                        timeouts.increment();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Override
    public void close() throws Exception {
        ensemble.close();
    }
}
