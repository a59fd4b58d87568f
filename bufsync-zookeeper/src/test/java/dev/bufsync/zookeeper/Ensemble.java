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
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/**
 * A real three-server ZooKeeper ensemble in this JVM, and clients on it that stand for separate
 * processes: each has its own Curator client and so its own session.
 */
final class Ensemble implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger roots = new AtomicInteger();

    final TestingCluster servers;
    private final List<CuratorFramework> clients = new ArrayList<>();

    Ensemble() throws Exception {
        servers = new TestingCluster(3);
        servers.start();
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
