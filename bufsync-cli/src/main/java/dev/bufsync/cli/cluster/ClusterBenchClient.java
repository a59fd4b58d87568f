package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkLockSpace;
import dev.bufsync.zookeeper.ZkTransaction;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.curator.drivers.AdvancedTracerDriver;
import org.apache.curator.drivers.EventTrace;
import org.apache.curator.drivers.OperationTrace;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.retry.RetryNTimes;

/**
 * One client process of {@code bench --only cluster}, started by {@link ClusterBench}: it attaches
 * with its own session, takes its objects once (creating their nodes), warms up (its JIT and the
 * ensemble's) by running transactions uncounted for a while, prints {@code READY}, waits
 * for a line on its standard input, runs lock-all transactions for the given time and prints
 * {@code RESULT <json>} with its transactions, timeouts, back-offs and round trips (ZooKeeper
 * operations as Curator traces them; for bufsync also its own count, which must agree).
 */
public final class ClusterBenchClient {
    private final Operations operations = new Operations();
    private long transactions, timeouts, backoffs, roundTrips, bufsyncRoundTrips;

    private ClusterBenchClient() {
    }

    /**
     * Arguments: connect, root, strategy, objects (comma-separated, in lock order), measured
     * milliseconds, warm-up milliseconds (transactions run before READY, not counted).
     */
    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(args[0])
                .sessionTimeoutMs(30_000).connectionTimeoutMs(10_000).retryPolicy(new RetryNTimes(20, 100)).build();
        ClusterBenchClient c = new ClusterBenchClient();
        client.getZookeeperClient().setTracerDriver(c.operations);
        client.start();
        try {
            List<String> objects = List.of(args[3].split(","));
            long nanos = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[4]));
            long warmup = TimeUnit.MILLISECONDS.toNanos(Long.parseLong(args[5]));
            if (args[2].equals(ClusterBench.BUFSYNC)) {
                c.bufsync(client, args[1], objects, warmup, nanos);
            } else if (args[2].equals(ClusterBench.MULTI_LOCK)) {
                c.multiLock(client, args[1], objects, warmup, nanos);
            } else {
                throw new IllegalArgumentException("unknown strategy " + args[2]);
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("transactions", c.transactions);
            r.put("timeouts", c.timeouts);
            r.put("backoffs", c.backoffs);
            r.put("roundTrips", c.roundTrips);
            r.put("bufsyncRoundTrips", c.bufsyncRoundTrips);
            System.out.println(ClusterDriver.RESULT + new ObjectMapper().writeValueAsString(r));
            System.out.flush();
        } finally {
            client.close();
        }
        System.exit(0);
    }

    private void bufsync(CuratorFramework client, String root, List<String> objects, long warmup, long nanos)
            throws Exception {
        try (ZkCluster cluster = ZkCluster.attach(client, root)) {
            ZkLockSpace space = cluster.lockSpace("bench", WwClass.Algorithm.WOUND_WAIT);
            Transaction run = () -> {
                try (ZkTransaction txn = space.begin()) {
                    txn.lockAll(objects);
                }
                return true;
            };
            run.once();                                     // creates the objects' nodes
            runFor(warmup, run);
            awaitStart();
            long ops0 = operations.count.sum(), rt0 = cluster.roundTrips(), b0 = cluster.backoffs();
            transactions = runFor(nanos, run);
            roundTrips = operations.count.sum() - ops0;
            bufsyncRoundTrips = cluster.roundTrips() - rt0;
            backoffs = cluster.backoffs() - b0;
        }
    }

    private void multiLock(CuratorFramework client, String root, List<String> objects, long warmup, long nanos)
            throws Exception {
        InterProcessMultiLock lock = new InterProcessMultiLock(client,
                objects.stream().map(o -> root + "/locks/" + o).toList());
        if (lock.acquire(30, TimeUnit.SECONDS)) lock.release();    // creates the lock nodes
        Transaction run = () -> {
            if (!lock.acquire(ClusterBench.MULTI_LOCK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) return false;
            lock.release();
            return true;
        };
        runFor(warmup, run);
        awaitStart();
        long ops0 = operations.count.sum();
        long attempts = 0;
        for (long end = System.nanoTime() + nanos; System.nanoTime() < end; attempts++) {
            if (run.once()) transactions++;
        }
        timeouts = attempts - transactions;
        roundTrips = operations.count.sum() - ops0;
    }

    /** One lock-all transaction; false if it timed out. */
    private interface Transaction {
        boolean once() throws Exception;
    }

    /** Runs transactions for {@code nanos}; returns how many committed. */
    private static long runFor(long nanos, Transaction t) throws Exception {
        long committed = 0;
        for (long end = System.nanoTime() + nanos; System.nanoTime() < end; ) {
            if (t.once()) committed++;
        }
        return committed;
    }

    /** Counts ZooKeeper operations: Curator traces each one it sends (each retry too). */
    private static final class Operations extends AdvancedTracerDriver {
        final LongAdder count = new LongAdder();

        @Override
        public void addTrace(OperationTrace trace) {
            count.increment();
        }

        @Override
        public void addEvent(EventTrace trace) {
        }
    }

    /** Prints READY and waits for the start line, so that every client starts warm and together. */
    private static void awaitStart() throws Exception {
        System.out.println(ClusterDriver.READY);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (in.readLine() == null) throw new IllegalStateException("the benchmark ended before this client started");
    }
}
