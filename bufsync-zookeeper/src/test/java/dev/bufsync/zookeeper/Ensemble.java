package dev.bufsync.zookeeper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.util.ServiceUtils;

/**
 * A real three-server ZooKeeper ensemble in this JVM, and clients on it that stand for separate
 * processes: each has its own Curator client and so its own session.
 */
final class Ensemble implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger roots = new AtomicInteger();

    final TestingCluster servers;
    private final List<CuratorFramework> clients = new ArrayList<>();

    /** ZooKeeper's fatal errors in this JVM, counted instead of exiting; written by server threads. */
    private static final AtomicInteger FATAL = new AtomicInteger();

    /**
     * Starts three servers, each serving. ZooKeeper ends its JVM on a quorum or election port it
     * cannot bind (status 14: a free port picked for it was taken before it bound it), which would
     * end the test run; here such errors are counted, and an ensemble that met one or whose servers
     * do not all serve is started again on new ports, three times at most.
     */
    Ensemble() throws Exception {
        ServiceUtils.setSystemExitProcedure(status -> FATAL.incrementAndGet());
        TestingCluster started = null;
        for (int attempt = 1; started == null; attempt++) {
            int fatalBefore = FATAL.get();
            TestingCluster candidate = new TestingCluster(3);
            candidate.start();
            if (everyServerServes(candidate) && FATAL.get() == fatalBefore) {
                started = candidate;
            } else {
                candidate.close();
                if (attempt == 3) throw new IllegalStateException("no healthy three-server ensemble in 3 attempts");
            }
        }
        servers = started;
    }

    /** Whether each server, asked alone, answers a read (it has joined the quorum). */
    private static boolean everyServerServes(TestingCluster cluster) throws InterruptedException {
        for (InstanceSpec server : cluster.getInstances()) {
            try (CuratorFramework c = CuratorFrameworkFactory.newClient(server.getConnectString(),
                    (int) WAIT.toMillis(), (int) WAIT.toMillis(), new RetryNTimes(150, 200))) {
                c.start();
                if (!c.blockUntilConnected((int) WAIT.toSeconds(), TimeUnit.SECONDS)) return false;
                c.checkExists().forPath("/");
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                return false;
            }
        }
        return true;
    }

    /** A fresh root, so tests do not see each other's nodes. */
    static String root() {
        return "/test-" + roots.incrementAndGet();
    }

    /** A started client with its own session. */
    CuratorFramework client() {
        CuratorFramework c = CuratorFrameworkFactory.builder()
                .connectString(servers.getConnectString())
                .sessionTimeoutMs(15_000)
                .connectionTimeoutMs(10_000)
                .retryPolicy(new RetryNTimes(30, 200))
                .build();
        c.start();
        synchronized (clients) {
            clients.add(c);
        }
        return c;
    }

    /** A cluster on a new client (a new "process") under {@code root}. */
    ZkCluster attach(String root) throws InterruptedException {
        return ZkCluster.attach(client(), root);
    }

    /**
     * Expires the client's session on the servers (ephemerals are deleted at once), the classic way:
     * a second handle joins the session and closes it. Returns once the client has seen LOST.
     */
    static void expireSession(CuratorFramework client, String connect) throws Exception {
        CountDownLatch lost = new CountDownLatch(1);
        client.getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.LOST) lost.countDown();
        });
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        CountDownLatch joined = new CountDownLatch(1);
        ZooKeeper twin = new ZooKeeper(connect, 15_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) joined.countDown();
        }, zk.getSessionId(), zk.getSessionPasswd());
        try {
            if (!joined.await(WAIT.toSeconds(), TimeUnit.SECONDS)) throw new AssertionError("twin did not connect");
        } finally {
            twin.close();
        }
        if (!lost.await(WAIT.toSeconds(), TimeUnit.SECONDS)) throw new AssertionError("client did not see LOST");
    }

    @Override
    public void close() throws Exception {
        synchronized (clients) {
            for (CuratorFramework c : clients) c.close();
        }
        servers.close();
    }
}
