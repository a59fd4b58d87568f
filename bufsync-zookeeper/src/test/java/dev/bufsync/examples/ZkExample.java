package dev.bufsync.examples;

import dev.bufsync.ww.WwClass;
import dev.bufsync.zookeeper.ZkCluster;
import dev.bufsync.zookeeper.ZkTransaction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;

public class ZkExample {
    public static void main(String[] args) throws Exception {
        String ensemble = args.length > 0 ? args[0] : "localhost:2181";
        try (CuratorFramework curator = CuratorFrameworkFactory.newClient(ensemble, new RetryNTimes(30, 200))) {
            curator.start();
            try (ZkCluster cluster = ZkCluster.attach(curator, "/bufsync");
                 ZkTransaction txn = cluster.lockSpace("buffers", WwClass.Algorithm.WOUND_WAIT).begin()) {
                txn.lockAll(List.of("a", "b"));         // any order, in any process
                txn.write("a", "hello".getBytes(StandardCharsets.UTF_8));   // refused if the lock was lost
                System.out.println("a = " + new String(txn.read("a"), StandardCharsets.UTF_8));
            }                                           // unlocks everything
        }
    }
}
