package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.buffer.Access;
import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkFence;
import dev.bufsync.zookeeper.ZkFenceContext;
import dev.bufsync.zookeeper.ZkLockSpace;
import dev.bufsync.zookeeper.ZkSessionLostException;
import dev.bufsync.zookeeper.ZkTransaction;
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
    /** The line a job prints before it publishes anything: {@code JOB <fence> <reads> <writes>}. */
    static final String JOB = "JOB ";
    /** How a job's fence error starts when a dependency failed (the job still did its device step). */
    static final String DEPENDENCY_FAILED = "dependency failed: ";
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final ZkCluster cluster;
    private final ZkLockSpace space;
    private final String contextName;
    private final Random random;
    private final int buffers;
    private final SharedBuffers memory;
    private ZkFenceContext context;
    private long transactions, completed, backoffs, fencesCreated, fencesSignaled, dependencyErrors,
            sessionLosses, errors, lockRoundTrips;

    private ClusterDriver(ZkCluster cluster, WwClass.Algorithm algorithm, int index, int buffers, long seed,
                          SharedBuffers memory) throws InterruptedException {
        this.memory = memory;
        this.cluster = cluster;
        this.space = cluster.lockSpace(ClusterDemo.SPACE, algorithm).withWaitTimeout(WAIT);
        this.contextName = "driver-" + index;
        this.random = new Random(seed * 31 + index);
        this.buffers = buffers;
        this.context = cluster.fenceContext(contextName);
    }

    /**
     * Arguments: connect string, root, driver index, buffers, seconds, seed, algorithm,
     * session timeout in ms, the shared buffers' file.
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
            SharedBuffers memory = SharedBuffers.map(java.nio.file.Path.of(args[8]), Integer.parseInt(args[3]));
            ClusterDriver driver = new ClusterDriver(cluster, WwClass.Algorithm.valueOf(args[6]),
                    Integer.parseInt(args[2]), Integer.parseInt(args[3]), Long.parseLong(args[5]), memory);
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
        memory.close();
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

    /**
     * One job: lock its buffers, publish its fence (as writer of the buffers it writes, as a reader
     * of those it reads), unlock; wait for its dependencies (a read waits for the buffer's writer,
     * a write for its writer and readers); work; signal.
     */
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
            System.out.println(JOB + done.path() + " " + String.join(",", reads) + " " + String.join(",", writes));
            System.out.flush();                     // logged before anything is published, for the replay
            for (String b : reads) {
                BufferFences f = BufferFences.parse(txn.read(b));
                for (String d : f.readDependencies()) dependencies.add(cluster.fence(d));
                txn.write(b, f.withReader(done.path()).bytes());
            }
            for (String b : writes) {
                for (String d : BufferFences.parse(txn.read(b)).writeDependencies()) dependencies.add(cluster.fence(d));
                txn.write(b, BufferFences.ofWriter(done.path()).bytes());
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
        long job = SharedBuffers.jobId(done.path());
        long[] inputs = reads.stream().mapToLong(b -> memory.attach(index(b), Access.READ).content()).toArray();
        for (String b : writes) {
            SharedBuffers.Attached out = memory.attach(index(b), Access.WRITE);
            out.setContent(SharedBuffers.mix(job, out.content(), inputs));
        }
        if (failed == null) {
            context.signal(done);
        } else {
            context.signal(done, DEPENDENCY_FAILED + failed);
        }
        fencesSignaled++;
        completed++;
    }

    static int index(String buffer) {
        return Integer.parseInt(buffer.substring(1));
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
