package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.Main;
import dev.bufsync.cli.Output;
import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.Watcher;

/**
 * {@code bufsync demo --cluster}: the demo's drivers as separate JVM processes sharing buffers
 * through a ZooKeeper ensemble (an embedded three-server one unless {@code --zookeeper} names
 * one). It can SIGKILL one driver and stop one server mid-run, then checks that the survivors
 * completed, that every fence was signalled (the killed driver's pending ones with an error) and
 * that nothing stayed locked.
 */
public final class ClusterDemo {
    static final String SPACE = "buffers";
    private static final int DRIVER_SESSION_MS = 6_000;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    /** What to run. {@code zookeeper} null: embedded ensemble; kill delays null: no kill. */
    public record Settings(int processes, int buffers, double seconds, long seed, WwClass.Algorithm algorithm,
                           String zookeeper, Double killDriverAfter, Double killServerAfter) {
        /** Checks the combination; returns an error message or null. */
        public String problem() {
            if (processes < 2) return "--processes must be at least 2";
            if (buffers < 5) return "--buffers must be at least 5 with --cluster (a job touches up to five)";
            if (seconds <= 0) return "--seconds must be positive";
            if (killServerAfter != null && zookeeper != null) {
                return "--kill-server-after only stops a server of the embedded ensemble, not of --zookeeper " + zookeeper;
            }
            if (killDriverAfter != null && (killDriverAfter < 0 || killDriverAfter >= seconds)) {
                return "--kill-driver-after must be between 0 and --seconds (" + seconds + ")";
            }
            if (killServerAfter != null && (killServerAfter < 0 || killServerAfter >= seconds)) {
                return "--kill-server-after must be between 0 and --seconds (" + seconds + ")";
            }
            return null;
        }
    }

    private final Settings settings;
    private final Output out;

    private ClusterDemo(Settings settings, Output out) {
        this.settings = settings;
        this.out = out;
    }

    /** Runs the demo; returns the exit status and the summary. */
    public static Map.Entry<Integer, Map<String, Object>> run(Settings settings, Output out) throws Exception {
        return new ClusterDemo(settings, out).run();
    }

    private Map.Entry<Integer, Map<String, Object>> run() throws Exception {
        TestingCluster embedded = null;
        String connect = settings.zookeeper();
        if (connect == null) {
            out.progress("starting an embedded three-server ZooKeeper ensemble...");
            embedded = EmbeddedEnsemble.start();
            connect = embedded.getConnectString();
            out.line("embedded three-server ZooKeeper ensemble at " + connect);
        }
        try {
            return coordinate(connect, embedded);
        } finally {
            if (embedded != null) embedded.close();
        }
    }

    private Map.Entry<Integer, Map<String, Object>> coordinate(String connect, TestingCluster embedded) throws Exception {
        String root = "/bufsync-demo/run-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
        java.nio.file.Path bufferFile = java.nio.file.Files.createTempFile("bufsync-demo-buffers", ".bin");
        CuratorFramework client = CuratorFrameworkFactory.builder().connectString(connect)
                .sessionTimeoutMs(30_000).connectionTimeoutMs(10_000).retryPolicy(new RetryNTimes(50, 200)).build();
        client.start();
        List<ChildProcess> drivers = new ArrayList<>();
        try (ZkCluster cluster = ZkCluster.attach(client, root)) {
            out.line(String.format(Locale.ROOT, "%d driver processes share %d buffers for %s s (%s, seed %d)%s%s",
                    settings.processes(), settings.buffers(), fmt(settings.seconds()), settings.algorithm(), settings.seed(),
                    settings.killDriverAfter() == null ? "" : "; one driver is SIGKILLed after " + fmt(settings.killDriverAfter()) + " s",
                    settings.killServerAfter() == null ? "" : "; one server stops after " + fmt(settings.killServerAfter()) + " s"));
            for (int i = 0; i < settings.processes(); i++) {
                drivers.add(ChildProcess.start(i, ClusterDriver.class, driverArgs(connect, root, i, bufferFile)));
            }
            for (ChildProcess d : drivers) d.awaitReady(START_TIMEOUT);
            long started = System.nanoTime();
            ChildProcess victim = drivers.get(drivers.size() - 1);
            boolean killedDriver = false, killedServer = false;
            double nextDriver = settings.killDriverAfter() == null ? Double.MAX_VALUE : settings.killDriverAfter();
            double nextServer = settings.killServerAfter() == null ? Double.MAX_VALUE : settings.killServerAfter();
            while (nextDriver != Double.MAX_VALUE || nextServer != Double.MAX_VALUE) {
                double at = Math.min(nextDriver, nextServer);
                long wait = started + (long) (at * 1e9) - System.nanoTime();
                if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
                if (at == nextDriver) {
                    boolean midJob = awaitPendingFence(cluster, client, root + "/fences/driver-" + victim.index);
                    victim.kill();
                    out.line("SIGKILLed driver " + victim.index + " (pid " + victim.process.pid() + ")"
                            + (midJob ? " with a fence pending" : ""));
                    killedDriver = true;
                    nextDriver = Double.MAX_VALUE;
                } else {
                    InstanceSpec server = embedded.getInstances().iterator().next();
                    embedded.killServer(server);
                    out.line("stopped ZooKeeper server " + server.getServerId() + " (port " + server.getPort() + ")");
                    killedServer = true;
                    nextServer = Double.MAX_VALUE;
                }
            }
            Duration exitTimeout = Duration.ofMillis((long) (settings.seconds() * 1000) + 120_000);
            for (ChildProcess d : drivers) d.awaitExit(exitTimeout);
            int expiredKilled = killedDriver && awaitGone(client, root + "/fences/driver-" + victim.index + "/alive") ? 1 : 0;
            int reaped = cluster.reapAbandoned();
            FenceCensus census = FenceCensus.take(cluster, client, root + "/fences");
            JobReplay.Result replay = replay(cluster, client, drivers, bufferFile);
            List<String> locked = cluster.lockSpace(SPACE, settings.algorithm()).lockedObjects();
            return summarize(drivers, killedDriver ? victim : null, killedServer, expiredKilled, reaped, census, locked,
                    replay, connect, embedded != null);
        } finally {
            for (ChildProcess d : drivers) d.kill();
            client.close();
            java.nio.file.Files.deleteIfExists(bufferFile);
        }
    }

    private Map.Entry<Integer, Map<String, Object>> summarize(List<ChildProcess> drivers, ChildProcess killed, boolean serverKilled,
            int expiredKilled, int reaped, FenceCensus census, List<String> locked, JobReplay.Result replay, String connect,
            boolean embedded) {
        long transactions = 0, completed = 0, backoffs = 0, errors = 0, expiries = expiredKilled, abandoned = reaped,
                roundTrips = 0, lockRoundTrips = 0, dependencyErrors = 0;
        double seconds = 0;
        boolean survivorsOk = true;
        for (ChildProcess d : drivers) {
            if (d == killed) continue;
            JsonNode r = d.result();
            if (!d.succeeded()) {
                survivorsOk = false;
                out.line("driver " + d.index + " failed (exit " + d.exitCode() + "); its last output:\n  "
                        + String.join("\n  ", d.tail()));
                errors++;
                continue;
            }
            transactions += r.get("transactions").asLong();
            completed += r.get("completed").asLong();
            backoffs += r.get("backoffs").asLong();
            errors += r.get("errors").asLong();
            expiries += r.get("sessionExpiries").asLong();
            abandoned += r.get("fencesAbandoned").asLong();
            roundTrips += r.get("roundTrips").asLong();
            lockRoundTrips += r.get("lockRoundTrips").asLong();
            dependencyErrors += r.get("dependencyErrors").asLong();
            seconds = Math.max(seconds, r.get("seconds").asDouble());
            survivorsOk &= r.get("completed").asLong() > 0;
        }
        out.table(List.of("processes", "killed", "completed", "back-offs", "fences", "signalled", "pending", "abandoned",
                        "session expiries", "round trips/txn", "lock+unlock", "locked after"),
                List.of(List.of(String.valueOf(drivers.size()), killed == null ? "0" : "1", String.format(Locale.ROOT, "%,d", completed),
                        String.format(Locale.ROOT, "%,d", backoffs), String.valueOf(census.total), String.valueOf(census.signalled()),
                        String.valueOf(census.pending), String.valueOf(census.abandoned), String.valueOf(expiries),
                        perTransaction(roundTrips, transactions), perTransaction(lockRoundTrips, transactions),
                        String.valueOf(locked.size()))));
        boolean ok = survivorsOk && errors == 0 && census.pending == 0 && locked.isEmpty() && replay.mismatched().isEmpty();
        out.line(String.format(Locale.ROOT, "shared mapped buffers against a sequential replay of %d completed jobs in fence order:"
                + " %d equal, %d different %s, %d touched by a job that did not complete (not checkable)",
                replay.replayed(), replay.matched(), replay.mismatched().size(), replay.mismatched(), replay.unknown()));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("command", "demo");
        s.put("locking", "ww-cluster");
        s.put("algorithm", settings.algorithm().name());
        s.put("submissions", transactions);
        s.put("completed", completed);
        s.put("backoffs", backoffs);
        s.put("deadlocked", false);
        s.put("deadlockCycle", List.of());
        s.put("fencesCreated", census.total);
        s.put("fencesSignaled", census.signalled());
        s.put("fencesPending", census.pending);
        s.put("errors", errors);
        s.put("throughputPerSec", seconds == 0 ? 0 : completed / seconds);
        s.put("seconds", seconds);
        s.put("processes", drivers.size());
        s.put("killed", killed == null ? 0 : 1);
        s.put("serverStopped", serverKilled);
        s.put("fencesAbandoned", census.abandoned);
        s.put("fencesAbandonedByThisRun", abandoned);
        s.put("fencesFailed", census.failed);
        s.put("dependencyErrors", dependencyErrors);
        s.put("sessionExpiries", expiries);
        s.put("roundTripsPerTransaction", transactions == 0 ? 0 : (double) roundTrips / transactions);
        s.put("lockRoundTripsPerTransaction", transactions == 0 ? 0 : (double) lockRoundTrips / transactions);
        s.put("lockedAfter", locked);
        s.put("zookeeper", embedded ? "embedded" : connect);
        s.put("drivers", settings.processes());
        s.put("buffers", settings.buffers());
        s.put("seed", settings.seed());
        s.put("buffersMatched", replay.matched());
        s.put("buffersMismatched", replay.mismatched());
        s.put("buffersUnverifiable", replay.unknown());
        s.put("jobsReplayed", replay.replayed());
        s.put("asExpected", ok);
        out.line(ok ? "survivors completed, every fence signalled" + (killed == null ? "" : " (the killed driver's pending ones with an error)")
                + ", nothing locked" : "CHECK FAILED: see the table above");
        return Map.entry(ok ? Main.OK : Main.FAILED, s);
    }

    /**
     * Replays every job the drivers logged (the killed one's too), in fence order, and compares
     * the result with the mapped buffers ({@link JobReplay}).
     */
    private JobReplay.Result replay(ZkCluster cluster, CuratorFramework client, List<ChildProcess> drivers,
                                    java.nio.file.Path bufferFile) throws Exception {
        List<JobReplay.Job> jobs = new ArrayList<>();
        for (ChildProcess d : drivers) {
            for (String line : d.drainLines(ClusterDriver.JOB)) {
                String[] f = line.split(" ");
                dev.bufsync.zookeeper.ZkFence fence = cluster.fence(f[0]);
                String error = fence.isSignalled() ? fence.error() : "pending";
                boolean completed = !fence.isAbandoned() && (error == null || error.startsWith(ClusterDriver.DEPENDENCY_FAILED));
                jobs.add(new JobReplay.Job(SharedBuffers.jobId(f[0]), client.checkExists().forPath(f[0]).getCzxid(),
                        indexes(f[1]), indexes(f[2]), completed));
            }
        }
        try (SharedBuffers memory = SharedBuffers.map(bufferFile, settings.buffers())) {
            return JobReplay.check(jobs, settings.buffers(), memory::read);
        }
    }

    private static List<Integer> indexes(String buffers) {
        return java.util.Arrays.stream(buffers.split(",")).map(ClusterDriver::index).toList();
    }

    private List<String> driverArgs(String connect, String root, int index, java.nio.file.Path bufferFile) {
        return List.of(connect, root, String.valueOf(index),
                String.valueOf(settings.buffers()), String.valueOf(settings.seconds()), String.valueOf(settings.seed()),
                settings.algorithm().name(), String.valueOf(DRIVER_SESSION_MS), bufferFile.toString());
    }

    /**
     * Waits up to 5 s for the moment the driver's newest fence is pending (it is mid-job), so that
     * the kill leaves a fence for the survivors to abandon; returns whether it saw one.
     */
    private static boolean awaitPendingFence(ZkCluster cluster, CuratorFramework client, String context) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < until) {
            CountDownLatch created = new CountDownLatch(1);
            Watcher w = e -> created.countDown();
            String newest = null;
            for (String child : client.getChildren().usingWatcher(w).forPath(context)) {
                if (!child.equals("alive") && (newest == null || sequence(child) > sequence(newest))) newest = child;
            }
            if (newest != null && !cluster.fence(context + "/" + newest).isSignalled()) return true;
            created.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        return false;
    }

    private static long sequence(String fenceNode) {
        return Long.parseLong(fenceNode.substring(fenceNode.lastIndexOf('-') + 1));
    }

    /** Waits (with a watch, up to a minute) until the node is gone: the killed process's session expired. */
    static boolean awaitGone(CuratorFramework client, String path) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < until) {
            CountDownLatch changed = new CountDownLatch(1);
            Watcher w = e -> changed.countDown();
            if (client.checkExists().usingWatcher(w).forPath(path) == null) return true;
            changed.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        return false;
    }

    private static String perTransaction(long roundTrips, long transactions) {
        return transactions == 0 ? "-" : String.format(Locale.ROOT, "%.1f", (double) roundTrips / transactions);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
