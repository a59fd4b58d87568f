package dev.bufsync.zookeeper;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A handle on one fence of a {@link ZkFenceContext}, in any process. It guarantees that
 * {@link #await} returns once the fence is signalled, and that a fence whose producer went away is
 * signalled with an error rather than left pending: a waiter that sees the producer gone signals
 * it (and the other pending fences of that producer) itself.
 *
 * <pre>{@code
 * ZkFence fence = cluster.fence(path);
 * fence.await(Duration.ofSeconds(30));
 * if (fence.error() != null) { ... the producer failed or died ... }
 * }</pre>
 *
 * <p>A handle is cheap and may be shared between threads once signalled; its state, once seen
 * signalled, is cached.
 */
public final class ZkFence {
    private final ZkCluster cluster;
    private final String path;
    private volatile String settled;      // null while pending; written once by a reader that saw the
                                          // final state (idempotent: every reader sees the same one)

    private ZkFence(ZkCluster cluster, String path) {
        this.cluster = cluster;
        this.path = path;
    }

    static ZkFence at(ZkCluster cluster, String path) {
        if (path == null || !path.startsWith(cluster.fencesPath() + "/") || !ZkFenceContext.isFence(path.substring(path.lastIndexOf('/') + 1))) {
            throw new IllegalArgumentException("'" + path + "' is not a fence path under " + cluster.fencesPath());
        }
        return new ZkFence(cluster, path);
    }

    /**
     * The fence's znode path, to hand to other processes.
     *
     * @return the absolute path of the fence's node, which {@link ZkCluster#fence(String)} accepts
     *     in any process attached under the same root
     */
    public String path() {
        return path;
    }

    /**
     * Whether the fence is signalled now (one or two reads); a pending fence of a dead producer is
     * signalled with an error by this call.
     *
     * @return {@code true} if the fence is signalled, successfully or with an error; {@code false}
     *     if it is still pending
     * @throws IllegalStateException if the fence's node does not exist
     * @throws InterruptedException if interrupted during a read
     */
    public boolean isSignalled() throws InterruptedException {
        return poll(null);
    }

    /**
     * Waits until the fence is signalled, with or without an error.
     *
     * @param timeout the longest time to wait
     * @throws TimeoutException if it is still pending after {@code timeout}
     * @throws IllegalStateException if the fence's node does not exist
     * @throws InterruptedException if interrupted while waiting
     */
    public void await(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Wakeup wakeup = new Wakeup();
        cluster.register(wakeup);
        try {
            while (true) {
                wakeup.drain();
                if (poll(wakeup)) return;
                if (!wakeup.park(deadline)) {
                    throw new TimeoutException("fence " + path + " still pending after " + timeout.toMillis() + " ms");
                }
            }
        } finally {
            cluster.unregister(wakeup);
        }
    }

    /**
     * The error the fence was signalled with, or {@code null} for success.
     *
     * @return the error the producer passed to {@link ZkFenceContext#signal(ZkFence, String)}, or
     *     the reason the fence was abandoned; {@code null} if it was signalled successfully
     * @throws IllegalStateException if the fence was not seen signalled yet
     */
    public String error() {
        String s = settled;
        if (s == null) throw new IllegalStateException("fence " + path + " is not signalled (await it first)");
        return s.equals("S") ? null : s.substring(2);
    }

    /**
     * Whether the fence was signalled with an error because its producer went away.
     *
     * @return {@code true} if the fence was seen abandoned; {@code false} if it is pending, was
     *     not seen signalled yet, or was signalled by its producer
     */
    public boolean isAbandoned() {
        String s = settled;
        return s != null && s.startsWith("A ");
    }

    @Override
    public String toString() {
        String s = settled;
        return "ZkFence[" + path + (s == null ? ", pending" : s.equals("S") ? ", signalled" : ", error: " + s.substring(2)) + "]";
    }

    /**
     * Reads the fence (and, while it is pending, its producer's liveness), with watches if given.
     * A pending fence of a gone producer is abandoned, then read again after a sync, since this
     * client's server may lag a signal that won the race.
     */
    private boolean poll(Wakeup watch) throws InterruptedException {
        if (settled != null) return true;
        String alive = path.substring(0, path.lastIndexOf('/')) + "/alive";
        try {
            for (int round = 0; round < 2; round++) {
                Stat stat = new Stat();
                String data = ZkCluster.utf8(cluster.call(() -> watch == null
                        ? cluster.client.getData().storingStatIn(stat).forPath(path)
                        : cluster.client.getData().storingStatIn(stat).usingWatcher(watch).forPath(path)));
                if (!data.startsWith("P ")) {
                    settled = data;
                    return true;
                }
                Stat producer = cluster.call(() -> watch == null
                        ? cluster.client.checkExists().forPath(alive)
                        : cluster.client.checkExists().usingWatcher(watch).forPath(alive));
                if (producer != null && producer.getCzxid() == Long.parseLong(data.substring(2))) {
                    return false;
                }
                if (round == 0) {
                    ZkFenceContext.abandonDead(cluster, path.substring(cluster.fencesPath().length() + 1, path.lastIndexOf('/')));
                    cluster.sync(path);
                }
            }
            return false;           // still pending as far as this client sees; a watch wakes an await
        } catch (KeeperException.NoNodeException e) {
            throw new IllegalStateException("fence " + path + " does not exist");
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path);
        }
    }
}
