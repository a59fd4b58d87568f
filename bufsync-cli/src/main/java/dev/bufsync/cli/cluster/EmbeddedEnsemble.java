package dev.bufsync.cli.cluster;

import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.util.ServiceUtils;

/**
 * A real three-server ZooKeeper ensemble inside this process: what {@code demo --cluster},
 * {@code torture --suite cluster} and {@code bench cluster} use when no {@code --zookeeper} is given.
 *
 * <p>ZooKeeper's server ends its JVM ({@code System.exit}) on some fatal errors of its own, such
 * as a quorum port it cannot bind. Inside the command line that would end the whole run without a
 * summary (and inside a test JVM, the test run), so the ensemble's servers only log such errors:
 * the clients then see the server gone, which the cluster contract already handles.
 */
final class EmbeddedEnsemble {
    private EmbeddedEnsemble() {
    }

    /** Starts three servers on free local ports; the caller closes the cluster. */
    static TestingCluster start() throws Exception {
        ServiceUtils.setSystemExitProcedure(ServiceUtils.LOG_ONLY);
        TestingCluster servers = new TestingCluster(3);
        try {
            servers.start();
        } catch (Exception | Error e) {
            try {
                servers.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return servers;
    }
}
