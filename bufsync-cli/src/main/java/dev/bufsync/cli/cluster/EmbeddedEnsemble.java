package dev.bufsync.cli.cluster;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.util.ServiceUtils;

/**
 * A real three-server ZooKeeper ensemble inside this process: what {@code demo --cluster},
 * {@code torture --suite cluster} and {@code bench cluster} use when no {@code --zookeeper} is given.
 *
 * <p>ZooKeeper's server ends its JVM ({@code System.exit}) on some fatal errors of its own: a
 * quorum or election port it cannot bind (status 14) is the one met here, when a free port picked
 * for a server was taken by another socket before the server bound it. Inside the command line that
 * would end the whole run without a summary (and inside a test JVM, the test run), so the servers
 * only count such errors; an ensemble that met one while starting, or whose servers do not all
 * serve, is closed and started again on new ports, three times at most.
 */
final class EmbeddedEnsemble {
    private static final int ATTEMPTS = 3;
    private static final int READY_SECONDS = 30;
    /** ZooKeeper's fatal errors in this JVM, counted instead of exiting; written by server threads. */
    private static final AtomicInteger FATAL = new AtomicInteger();

    private EmbeddedEnsemble() {
    }

    /** Starts three servers on free local ports, each serving; the caller closes the cluster. */
    static TestingCluster start() throws Exception {
        ServiceUtils.setSystemExitProcedure(status -> FATAL.incrementAndGet());
        for (int attempt = 1; ; attempt++) {
            int fatalBefore = FATAL.get();
            TestingCluster servers = new TestingCluster(3);
            try {
                servers.start();
                if (everyServerServes(servers) && FATAL.get() == fatalBefore) {
                    return servers;
                }
            } catch (Exception | Error e) {
                close(servers, e);
                if (attempt == ATTEMPTS) throw e;
                continue;
            }
            close(servers, null);
            if (attempt == ATTEMPTS) {
                throw new IllegalStateException("could not start an embedded three-server ZooKeeper ensemble in "
                        + ATTEMPTS + " attempts: a server could not bind its ports or did not serve within "
                        + READY_SECONDS + " s");
            }
        }
    }

    /** Whether each server, asked alone, answers a read (it has joined the quorum). */
    private static boolean everyServerServes(TestingCluster servers) throws InterruptedException {
        for (InstanceSpec server : servers.getInstances()) {
            try (CuratorFramework c = CuratorFrameworkFactory.newClient(server.getConnectString(),
                    READY_SECONDS * 1000, READY_SECONDS * 1000, new RetryNTimes(READY_SECONDS * 5, 200))) {
                c.start();
                if (!c.blockUntilConnected(READY_SECONDS, TimeUnit.SECONDS)) return false;
                c.checkExists().forPath("/");
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                return false;
            }
        }
        return true;
    }

    private static void close(TestingCluster servers, Throwable failure) {
        try {
            servers.close();
        } catch (Exception e) {
            if (failure != null) failure.addSuppressed(e);
        }
    }
}
