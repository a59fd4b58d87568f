package dev.bufsync.cli.cluster;

import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkFence;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/** Counts the fences of every context under a cluster's root by state. */
final class FenceCensus {
    int total, pending, succeeded, failed, abandoned;

    int signalled() {
        return succeeded + failed + abandoned;
    }

    static FenceCensus take(ZkCluster cluster, CuratorFramework client, String fences) throws Exception {
        FenceCensus c = new FenceCensus();
        try {
            for (String context : client.getChildren().forPath(fences)) {
                for (String f : client.getChildren().forPath(fences + "/" + context)) {
                    if (f.equals("alive")) continue;
                    ZkFence fence = cluster.fence(fences + "/" + context + "/" + f);
                    c.total++;
                    if (!fence.isSignalled()) c.pending++;
                    else if (fence.isAbandoned()) c.abandoned++;
                    else if (fence.error() != null) c.failed++;
                    else c.succeeded++;
                }
            }
        } catch (KeeperException.NoNodeException none) {
            // no fence was ever created
        }
        return c;
    }
}
