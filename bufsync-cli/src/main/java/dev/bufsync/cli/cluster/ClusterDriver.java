package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkFence;
import dev.bufsync.zookeeper.ZkFenceContext;
import dev.bufsync.zookeeper.ZkLockSpace;
import dev.bufsync.zookeeper.ZkSessionLostException;
import dev.bufsync.zookeeper.ZkTransaction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;

/**
 * One driver of {@code bufsync demo --cluster}, run as its own JVM by {@link ClusterDemo}: it
 * submits jobs over the shared buffers until its time is up, each job a cross-process lock-all
 * transaction that publishes the job's fence on the buffers it writes, then waits for the fences
 * of the buffers' previous writers, works, and signals its own fence. It prints {@code READY}
 * when attached and {@code RESULT <json>} at the end.
 */
public final class ClusterDriver {
    static final String READY = "READY";
    static final String RESULT = "RESULT ";
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ZkCluster cluster;
    private final ZkLockSpace space;
    private final String contextName;
    private final Random random;
    private final int buffers;
    private ZkFenceContext context;
    private long transactions, completed, backoffs, fencesCreated, fencesSignaled, dependencyErrors,
            sessionLosses, errors, lockRoundTrips;

    private ClusterDriver(ZkCluster cluster, WwClass.Algorithm algorithm, int index, int buffers, long seed)
            throws InterruptedException {
        this.cluster = cluster;
        this.space = cluster.lockSpace(ClusterDemo.SPACE, algorithm).withWaitTimeout(WAIT);
        this.contextName = "driver-" + index;
        this.random = new Random(seed * 31 + index);
        this.buffers = buffers;
        this.context = cluster.fenceContext(contextName);
    }

    /**
     * Arguments: connect string, root, driver index, buffers, seconds, seed, algorithm,
     * session timeout in ms.
     */
    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(args[0])
                .sessionTimeoutMs(Integer.parseInt(args[7]))
                .connectionTimeoutMs(10_000)
                .retryPolicy(new RetryNTimes(50, 200))
                .build();
        client.start();
        try (ZkCluster cluster = ZkCluster.attach(client, args[1])) {
            ClusterDriver driver = new ClusterDriver(cluster, WwClass.Algorithm.valueOf(args[6]),
                    Integer.parseInt(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[5]));
            System.out.println(READY);
            System.out.flush();
            Map<String, Object> result = driver.run(System.nanoTime() + (long) (Double.parseDouble(args[4]) * 1e9));
            System.out.println(RESULT + new ObjectMapper().writeValueAsString(result));
            System.out.flush();
            System.exit(driver.errors == 0 ? 0 : 1);
        } finally {
            client.close();
        }
    }

    private Map<String, Object> run(long deadline) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() < deadline) {
            try {
                job();
            } catch (ZkSessionLostException e) {
                sessionLosses++;                  // ZooKeeper freed our locks; go on in a new session
                context.close();
                context = reopen();
            } catch (TimeoutException | RuntimeException e) {
                errors++;
                System.out.println("error: " + e);
            }
        }
        context.close();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("context", contextName);
        r.put("transactions", transactions);
        r.put("completed", completed);
        r.put("backoffs", backoffs);
        r.put("fencesCreated", fencesCreated);
        r.put("fencesSignaled", fencesSignaled);
        r.put("dependencyErrors", dependencyErrors);
        r.put("sessionExpiries", cluster.sessionExpiries());
        r.put("sessionLosses", sessionLosses);
        r.put("fencesAbandoned", cluster.fencesAbandoned());
        r.put("roundTrips", cluster.roundTrips());
        r.put("lockRoundTrips", lockRoundTrips);
        r.put("errors", errors);
        r.put("seconds", (System.nanoTime() - start) / 1e9);
        return r;
    }

    private ZkFenceContext reopen() throws InterruptedException {
        long until = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                return cluster.fenceContext(contextName);
            } catch (IllegalStateException stillLive) {
                // our old session's liveness node is not gone yet
                if (System.nanoTime() > until) throw stillLive;
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    /** One job: lock its buffers, publish its fence, unlock; wait for its dependencies; work; signal. */
    private void job() throws InterruptedException, TimeoutException {
        List<String> reads = pick(1 + random.nextInt(3), List.of());
        List<String> writes = pick(1 + random.nextInt(2), reads);
        List<String> all = new ArrayList<>(reads);
        all.addAll(writes);
        transactions++;
        List<ZkFence> dependencies = new ArrayList<>();
        ZkFence done;
        try (ZkTransaction txn = space.begin()) {
            long before = cluster.roundTrips();
            txn.lockAll(all);
            lockRoundTrips += cluster.roundTrips() - before;
            done = context.create();
            fencesCreated++;
            for (String b : all) {
                String previous = new String(txn.read(b), StandardCharsets.UTF_8);
                if (!previous.isEmpty()) dependencies.add(cluster.fence(previous));
            }
            for (String b : writes) {
                txn.write(b, done.path().getBytes(StandardCharsets.UTF_8));
            }
            backoffs += txn.backoffs();
            before = cluster.roundTrips();
            txn.close();
            lockRoundTrips += cluster.roundTrips() - before;
        }
        String failed = null;
        for (ZkFence d : dependencies) {
            d.await(WAIT);
            if (d.error() != null) {
                dependencyErrors++;
                failed = d.path() + ": " + d.error();
            }
        }
        TimeUnit.MICROSECONDS.sleep(500 + random.nextInt(2000));    // the device works
        if (failed == null) {
            context.signal(done);
        } else {
            context.signal(done, "dependency failed: " + failed);
        }
        fencesSignaled++;
        completed++;
    }

    private List<String> pick(int n, List<String> exclude) {
        List<String> picked = new ArrayList<>();
        while (picked.size() < n) {
            String b = "b" + random.nextInt(buffers);
            if (!picked.contains(b) && !exclude.contains(b)) picked.add(b);
        }
        return picked;
    }
}
