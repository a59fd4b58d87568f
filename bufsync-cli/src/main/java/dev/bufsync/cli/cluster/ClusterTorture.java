package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkLockSpace;
import dev.bufsync.zookeeper.ZkTransaction;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.TestingCluster;

/**
 * The scenarios of {@code torture --suite cluster}: the ww ladder with every transaction in its
 * own JVM on a real three-server ensemble (started once, inside this process), and kills. Every
 * back-off is checked (in the worker) to name an older stamp; counts kept in the objects show lost
 * updates; nothing may stay locked.
 */
public final class ClusterTorture {
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration EXIT = Duration.ofSeconds(150);
    private static final int SESSION_MS = 6_000;
    private static TestingCluster ensemble;          // started by the first scenario; guarded by the class

    private ClusterTorture() {
    }

    /** What a scenario reports: iterations, back-offs, and why it failed (or null). */
    public record Outcome(long iterations, long backoffs, String failure) {
    }

    /** A scenario's body: given the algorithm (null for one-shot scenarios) and the stress duration. */
    @FunctionalInterface
    public interface Body {
        Outcome run(WwClass.Algorithm algorithm, Duration duration, Runnable tick) throws Exception;
    }

    /** A named scenario. */
    public record Case(String name, boolean perAlgorithm, boolean timed, Body body) {
    }

    /** The suite's scenarios. */
    public static List<Case> cases() {
        return List.of(
                new Case("abba", true, false, (a, d, tick) -> ring(a, 2, tick)),
                new Case("cycle", true, false, (a, d, tick) -> ring(a, 3, tick)),
                new Case("stress-reorder", true, true, ClusterTorture::stress),
                new Case("kill-holder", false, false, (a, d, tick) -> killHolder(tick)),
                new Case("kill-producer", false, false, (a, d, tick) -> killProducer(tick)));
    }

    /** n processes, process i locks o_i then o_(i+1 mod n) after all hold their first. */
    private static Outcome ring(WwClass.Algorithm algorithm, int n, Runnable tick) throws Exception {
        try (Run run = new Run(algorithm)) {
            List<ChildProcess> ps = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ps.add(run.worker(i, "order", "o" + i + ",o" + ((i + 1) % n), "ring", String.valueOf(n)));
            }
            Outcome o = run.finish(ps, tick);
            if (o.failure() != null) return o;
            for (int i = 0; i < n; i++) {
                if (run.count("o" + i) != 2) return run.failed(o, "o" + i + " was incremented " + run.count("o" + i) + " times, not 2");
            }
            return o.backoffs() == 0 ? run.failed(o, "the ring resolved without a back-off") : o;
        }
    }

    /** 4 processes run transactions over random 3-sets of 6 objects for the duration. */
    private static Outcome stress(WwClass.Algorithm algorithm, Duration duration, Runnable tick) throws Exception {
        int processes = 4, objects = 6;
        try (Run run = new Run(algorithm)) {
            List<ChildProcess> ps = new ArrayList<>();
            long seed = ThreadLocalRandom.current().nextLong(1 << 20);
            for (int i = 0; i < processes; i++) {
                ps.add(run.worker(i, "stress", String.valueOf(objects), "3", String.valueOf(duration.toMillis() / 1000.0),
                        String.valueOf(seed + i)));
            }
            Outcome o = run.finish(ps, tick);
            if (o.failure() != null) return o;
            long increments = 0, counted = 0;
            for (ChildProcess p : ps) increments += p.result().get("increments").asLong();
            for (int i = 0; i < objects; i++) counted += run.count("s" + i);
            return counted == increments ? o
                    : run.failed(o, "objects count " + counted + " increments, the processes made " + increments);
        }
    }

    /** A holder is SIGKILLed; a waiter in another process gets the locks once its session expires. */
    private static Outcome killHolder(Runnable tick) throws Exception {
        try (Run run = new Run(WwClass.Algorithm.WOUND_WAIT)) {
            ChildProcess holder = run.worker(0, "hold", "k1,k2");
            holder.awaitLine("HOLDING", START);
            ChildProcess waiter = run.worker(1, "order", "k1,k2", "solo", "1");
            holder.kill();
            holder.awaitExit(EXIT);
            tick.run();
            return run.finish(List.of(waiter), tick);
        }
    }

    /** A producer is SIGKILLed with a fence pending; a waiter in another process sees it signalled with an error. */
    private static Outcome killProducer(Runnable tick) throws Exception {
        try (Run run = new Run(WwClass.Algorithm.WOUND_WAIT)) {
            ChildProcess producer = run.worker(0, "produce", "producer");
            String fence = producer.awaitLine("FENCE", START);
            ChildProcess waiter = run.worker(1, "await", fence);
            waiter.awaitReady(START);
            producer.kill();
            producer.awaitExit(EXIT);
            tick.run();
            return run.finish(List.of(waiter), tick);
        }
    }

    private static synchronized String connectString() throws Exception {
        if (ensemble == null) {
            TestingCluster servers = EmbeddedEnsemble.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    servers.close();
                } catch (Exception e) {
                    // exiting anyway
                }
            }));
            ensemble = servers;
        }
        return ensemble.getConnectString();
    }

    /** One scenario run: its own root and a checking client. */
    private static final class Run implements AutoCloseable {
        final WwClass.Algorithm algorithm;
        final String connect;
        final String root = "/bufsync-torture/run-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        final CuratorFramework client;
        final ZkCluster cluster;
        final List<ChildProcess> all = new ArrayList<>();

        Run(WwClass.Algorithm algorithm) throws Exception {
            this.algorithm = algorithm;
            this.connect = connectString();
            this.client = CuratorFrameworkFactory.builder().connectString(connect).sessionTimeoutMs(30_000)
                    .connectionTimeoutMs(10_000).retryPolicy(new RetryNTimes(50, 200)).build();
            client.start();
            this.cluster = ZkCluster.attach(client, root);
        }

        ChildProcess worker(int index, String mode, String... args) throws Exception {
            List<String> a = new ArrayList<>(List.of(connect, root, algorithm.name(), String.valueOf(SESSION_MS), mode));
            a.addAll(List.of(args));
            ChildProcess p = ChildProcess.start(index, ClusterWorker.class, a);
            all.add(p);
            return p;
        }

        /** Waits for the processes; fails if one did not exit 0 or something stayed locked. */
        Outcome finish(List<ChildProcess> ps, Runnable tick) throws Exception {
            long iterations = 0, backoffs = 0;
            for (ChildProcess p : ps) {
                p.awaitExit(EXIT);
                tick.run();
                if (!p.succeeded()) {
                    JsonNode r = p.result();
                    return new Outcome(iterations, backoffs, "process " + p.index + " exited " + p.exitCode()
                            + (r != null ? " " + r.get("violations") : "") + "; last output " + p.tail());
                }
                iterations += p.result().get("transactions").asLong();
                backoffs += p.result().get("backoffs").asLong();
            }
            List<String> locked = cluster.lockSpace("torture", algorithm).lockedObjects();
            return new Outcome(iterations, backoffs, locked.isEmpty() ? null : "still locked after the run: " + locked);
        }

        int count(String object) throws Exception {
            ZkLockSpace space = cluster.lockSpace("torture", algorithm);
            try (ZkTransaction t = space.begin()) {
                t.lockAll(List.of(object));          // a read after acquiring sees every earlier holder's write
                byte[] v = t.read(object);
                return v.length == 0 ? 0 : ByteBuffer.wrap(v).getInt();
            }
        }

        Outcome failed(Outcome o, String why) {
            return new Outcome(o.iterations(), o.backoffs(), why);
        }

        @Override
        public void close() {
            for (ChildProcess p : all) p.kill();
            cluster.close();
            client.close();
        }
    }
}
