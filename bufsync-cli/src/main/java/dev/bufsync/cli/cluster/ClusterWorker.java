package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkBackoffException;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkFence;
import dev.bufsync.zookeeper.ZkFenceContext;
import dev.bufsync.zookeeper.ZkLockSpace;
import dev.bufsync.zookeeper.ZkTransaction;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;

/**
 * One process of {@code torture --suite cluster}, started by {@link ClusterTorture}. Modes:
 * {@code order} locks objects in the given order by the ww protocol by hand (after a cross-process
 * barrier once the first is held) and counts one increment per object; {@code stress} runs
 * transactions over random sets for a while; {@code hold} locks a set and waits to be killed;
 * {@code produce} creates a fence and waits to be killed; {@code await} waits for a fence.
 * It prints {@code READY} once attached, {@code HOLDING} / {@code FENCE <path>} where the mode
 * says, and {@code RESULT <json>} at the end; every back-off is checked to name an older stamp.
 */
public final class ClusterWorker {
    private static final Duration WAIT = Duration.ofSeconds(60);

    private final CuratorFramework client;
    private final ZkCluster cluster;
    private final ZkLockSpace space;
    private final String root;
    private long transactions, backoffs, increments;
    private final List<String> violations = new ArrayList<>();

    private ClusterWorker(CuratorFramework client, ZkCluster cluster, String root, WwClass.Algorithm algorithm) {
        this.client = client;
        this.cluster = cluster;
        this.root = root;
        this.space = cluster.lockSpace("torture", algorithm).withWaitTimeout(WAIT);
    }

    /** Arguments: connect, root, algorithm, session ms, mode, mode arguments... */
    public static void main(String[] args) throws Exception {
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(args[0])
                .sessionTimeoutMs(Integer.parseInt(args[3])).connectionTimeoutMs(10_000)
                .retryPolicy(new RetryNTimes(50, 200)).build();
        client.start();
        try (ZkCluster cluster = ZkCluster.attach(client, args[1])) {
            ClusterWorker w = new ClusterWorker(client, cluster, args[1], WwClass.Algorithm.valueOf(args[2]));
            System.out.println(ClusterDriver.READY);
            System.out.flush();
            String[] rest = Arrays.copyOfRange(args, 5, args.length);
            switch (args[4]) {
                case "order" -> w.order(List.of(rest[0].split(",")), rest[1], Integer.parseInt(rest[2]));
                case "stress" -> w.stress(Integer.parseInt(rest[0]), Integer.parseInt(rest[1]), Double.parseDouble(rest[2]),
                        Long.parseLong(rest[3]));
                case "hold" -> w.hold(List.of(rest[0].split(",")));
                case "produce" -> w.produce(rest[0]);
                case "await" -> w.await(rest[0]);
                default -> throw new IllegalArgumentException("unknown mode " + args[4]);
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("transactions", w.transactions);
            r.put("backoffs", w.backoffs);
            r.put("increments", w.increments);
            r.put("violations", w.violations);
            System.out.println(ClusterDriver.RESULT + new ObjectMapper().writeValueAsString(r));
            System.out.flush();
            System.exit(w.violations.isEmpty() ? 0 : 1);
        } finally {
            client.close();
        }
    }

    private void order(List<String> order, String barrier, int parties) throws Exception {
        run(order, barrier, parties);
    }

    private void stress(int objects, int perTransaction, double seconds, long seed) throws Exception {
        Random random = new Random(seed);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            List<String> set = new ArrayList<>();
            while (set.size() < perTransaction) {
                String o = "s" + random.nextInt(objects);
                if (!set.contains(o)) set.add(o);
            }
            run(set, null, 0);
        }
    }

    /** One transaction by hand: lock in order, back off and lockSlow on conflict, then increment each object. */
    private void run(List<String> order, String barrier, int parties) throws Exception {
        transactions++;
        try (ZkTransaction txn = space.begin()) {
            txn.lock(order.get(0));
            if (barrier != null) barrier(barrier, parties);
            int next = 1;
            while (next < order.size()) {
                try {
                    if (!txn.holds(order.get(next))) txn.lock(order.get(next));
                    next++;
                } catch (ZkBackoffException e) {
                    backoffs++;
                    if (e.olderStamp() <= 0 || e.olderStamp() >= e.stamp()) {
                        violations.add("back-off did not name an older stamp: " + e.getMessage());
                    }
                    txn.unlockAll();
                    txn.lockSlow(e.object());
                    next = 0;
                }
            }
            for (String o : order) {
                byte[] v = txn.read(o);
                int count = v.length == 0 ? 0 : ByteBuffer.wrap(v).getInt();
                txn.write(o, ByteBuffer.allocate(4).putInt(count + 1).array());
                increments++;
            }
        }
    }

    /** Waits until {@code parties} processes have reached the barrier (ephemeral children, watched). */
    private void barrier(String name, int parties) throws Exception {
        String path = root + "/barriers/" + name;
        client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL_SEQUENTIAL).forPath(path + "/p-");
        long end = System.nanoTime() + WAIT.toNanos();
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            if (client.getChildren().usingWatcher((org.apache.zookeeper.Watcher) e -> changed.countDown())
                    .forPath(path).size() >= parties) {
                return;
            }
            if (!changed.await(end - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                throw new IllegalStateException("barrier " + name + " not reached by " + parties + " processes");
            }
        }
    }

    private void hold(List<String> objects) throws Exception {
        ZkTransaction txn = space.begin();
        txn.lockAll(objects);
        System.out.println("HOLDING");
        System.out.flush();
        TimeUnit.SECONDS.sleep(WAIT.toSeconds());          // until SIGKILLed
        violations.add("was not killed");
    }

    private void produce(String context) throws Exception {
        ZkFenceContext ctx = cluster.fenceContext(context);
        ZkFence fence = ctx.create();
        System.out.println("FENCE " + fence.path());
        System.out.flush();
        TimeUnit.SECONDS.sleep(WAIT.toSeconds());          // until SIGKILLed
        violations.add("was not killed");
    }

    private void await(String path) throws Exception {
        ZkFence fence = cluster.fence(path);
        transactions++;                                     // one wait, counted as the scenario's iteration
        fence.await(WAIT);
        if (!fence.isAbandoned()) violations.add("fence of the killed producer was not signalled with an error: " + fence);
    }
}
