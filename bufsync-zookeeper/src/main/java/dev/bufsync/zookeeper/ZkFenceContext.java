package dev.bufsync.zookeeper;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * A producer's timeline of fences that processes anywhere can wait on: the cross-process form of
 * a {@link dev.bufsync.fence.FenceContext}. It guarantees that every fence it creates is signalled
 * exactly once: by the producer ({@link #signal}), or, if the producer goes away first (crash,
 * session expiry, {@link #close()}), with an error, by whichever client sees it go. Nothing waits
 * forever on a dead process.
 *
 * <pre>{@code
 * try (ZkFenceContext ctx = cluster.fenceContext("driver-1")) {
 *     ZkFence done = ctx.create();
 *     publish(done.path());                  // consumers: cluster.fence(path).await(timeout)
 *     ... do the work ...
 *     ctx.signal(done);                      // or ctx.signal(done, "what went wrong")
 * }
 * }</pre>
 *
 * <p>Only one client at a time may open a context of a given name. Fence nodes are persistent
 * (a waiter may come late); they are not deleted by this class.
 */
public final class ZkFenceContext implements AutoCloseable {
    /*
     * Overview.
     *
     * Nodes, under R/fences/<name>:
     *   alive     ephemeral, the producer's liveness; its czxid is the context's incarnation
     *   <protection>fence-<seq>  persistent sequential, one per fence, created in Curator's
     *             protected mode (a create retried after a connection loss finds its node instead
     *             of making a second one); data: "P <incarnation>" pending,
     *             "S" signalled, "E <error>" signalled with an error by the producer,
     *             "A <reason>" signalled with an error because the producer went away
     *
     * Every transition leaves "P" and is a setData at version 0, so exactly one succeeds: the
     * producer's signal or an observer's abandonment, never both. An observer abandons a pending
     * fence only when the alive node is missing or belongs to another incarnation. Waiters watch
     * the fence node and the alive node, so a signal or a producer's death wakes them.
     *
     * pending: the producer's own fences not yet signalled, written by the producer thread(s),
     * read by close(); a concurrent set so that close() may run on another thread.
     */

    static final String FENCE = "fence-";

    private final ZkCluster cluster;
    private final String name;
    private final String path;
    private final long incarnation;
    private final int epoch;
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;                 // set once by close()

    private ZkFenceContext(ZkCluster cluster, String name, long incarnation) {
        this.cluster = cluster;
        this.name = name;
        this.path = cluster.fencesPath() + "/" + name;
        this.incarnation = incarnation;
        this.epoch = cluster.epoch();
    }

    static ZkFenceContext open(ZkCluster cluster, String name) throws InterruptedException {
        String path = cluster.fencesPath() + "/" + name;
        cluster.ensurePath(path);
        Stat stat = new Stat();
        try {
            cluster.call(() -> cluster.client.create().storingStatIn(stat).withMode(CreateMode.EPHEMERAL)
                    .forPath(path + "/alive"));
        } catch (KeeperException.NodeExistsException e) {
            if (!ours(cluster, path + "/alive", stat)) {
                throw new IllegalStateException("fence context '" + name + "' is already open in another live client");
            }
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path + "/alive");
        }
        ZkFenceContext context = new ZkFenceContext(cluster, name, stat.getCzxid());
        abandonDead(cluster, name);         // fences of an earlier, dead incarnation
        return context;
    }

    /** Whether an existing ephemeral node is this client's session's (a create retried after it succeeded). */
    private static boolean ours(ZkCluster cluster, String path, Stat into) throws InterruptedException {
        try {
            Stat stat = cluster.call(() -> cluster.client.checkExists().forPath(path));
            long session = cluster.client.getZookeeperClient().getZooKeeper().getSessionId();
            if (stat == null || stat.getEphemeralOwner() != session) return false;
            into.setCzxid(stat.getCzxid());
            return true;
        } catch (KeeperException e) {
            return false;
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * Creates a pending fence of this context (one round trip).
     *
     * @return a handle on the new fence; hand its {@link ZkFence#path()} to the waiters
     * @throws IllegalStateException if this context is closed
     * @throws ZkSessionLostException if the session this context was opened under is gone
     * @throws InterruptedException if interrupted during the create
     */
    public ZkFence create() throws InterruptedException {
        checkUsable("create");
        try {
            String fence = cluster.call(() -> cluster.client.create().withProtection()
                    .withMode(CreateMode.PERSISTENT_SEQUENTIAL).forPath(path + "/" + FENCE, ZkCluster.utf8("P " + incarnation)));
            pending.add(fence);
            return ZkFence.at(cluster, fence);
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path);
        }
    }

    /**
     * Signals the fence successfully (one round trip).
     *
     * @param fence a fence this context created and has not signalled yet
     * @throws IllegalStateException if the fence is not a pending fence of this context, if this
     *     context is closed, or if another client abandoned the fence meanwhile
     * @throws ZkSessionLostException if the session is gone (the fence is, or will be, abandoned)
     * @throws InterruptedException if interrupted during the write
     */
    public void signal(ZkFence fence) throws InterruptedException {
        settle(fence, "S");
    }

    /**
     * Signals the fence with an error; waiters see {@code error} from {@link ZkFence#error()}.
     *
     * @param fence a fence this context created and has not signalled yet
     * @param error what went wrong, for the waiters; {@code null} or empty becomes {@code "error"}
     * @throws IllegalStateException as for {@link #signal(ZkFence)}
     * @throws ZkSessionLostException if the session is gone (the fence is, or will be, abandoned)
     * @throws InterruptedException if interrupted during the write
     */
    public void signal(ZkFence fence, String error) throws InterruptedException {
        settle(fence, "E " + (error == null || error.isEmpty() ? "error" : error));
    }

    /** Whether a child of a context's node is a fence (not the liveness node). */
    static boolean isFence(String child) {
        return child.contains(FENCE);       // protected-mode names start with a GUID prefix
    }

    /**
     * The context's name.
     *
     * @return the name given to {@link ZkCluster#fenceContext(String)}
     */
    public String name() {
        return name;
    }

    /**
     * Signals every pending fence of this context with an error and gives up the context.
     * Idempotent; after a session loss there is nothing left to do (observers abandon the fences).
     *
     * @throws InterruptedException if interrupted while signalling the pending fences or deleting
     *     the liveness node; the context is closed all the same
     */
    @Override
    public void close() throws InterruptedException {
        if (closed) return;
        closed = true;
        cluster.forget(this);
        if (cluster.epoch() != epoch) return;
        try {
            for (String fence : List.copyOf(pending)) {
                transition(fence, "A context '" + name + "' closed before signalling it");
            }
            cluster.call(() -> cluster.client.delete().forPath(path + "/alive"));
        } catch (KeeperException | ZkSessionLostException e) {
            // the session's end removes the alive node; observers abandon the rest
        }
    }

    private void settle(ZkFence fence, String state) throws InterruptedException {
        checkUsable("signal");
        if (!pending.contains(fence.path())) {
            throw new IllegalStateException("fence " + fence.path() + " is not a pending fence of context '"
                    + name + "' (already signalled, or created elsewhere)");
        }
        try {
            transition(fence.path(), state);
        } catch (KeeperException.BadVersionException e) {
            if (state.equals(currentState(fence.path()))) {
                pending.remove(fence.path());       // our setData was retried after it succeeded
                return;
            }
            cluster.checkEpoch(epoch, "fence context '" + name + "'");
            throw new IllegalStateException("fence " + fence.path() + " was already signalled (abandoned "
                    + "by another client that saw this producer gone)");
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, fence.path());
        }
    }

    private String currentState(String fence) throws InterruptedException {
        try {
            return ZkCluster.utf8(cluster.call(() -> cluster.client.getData().forPath(fence)));
        } catch (KeeperException e) {
            return null;
        }
    }

    private void transition(String fence, String state) throws KeeperException, InterruptedException {
        cluster.call(() -> cluster.client.setData().withVersion(0).forPath(fence, ZkCluster.utf8(state)));
        pending.remove(fence);
    }

    private void checkUsable(String what) {
        if (closed) throw new IllegalStateException(what + " on closed fence context '" + name + "'");
        cluster.checkEpoch(epoch, "fence context '" + name + "'");
    }

    /**
     * Signals with an error every pending fence of the named context whose incarnation is not the
     * live one (its producer is gone). Returns how many this call signalled.
     */
    static int abandonDead(ZkCluster cluster, String name) throws InterruptedException {
        String path = cluster.fencesPath() + "/" + name;
        try {
            Stat alive = cluster.call(() -> cluster.client.checkExists().forPath(path + "/alive"));
            long live = alive == null ? -1 : alive.getCzxid();
            int abandoned = 0;
            for (String child : cluster.call(() -> cluster.client.getChildren().forPath(path))) {
                if (isFence(child) && abandonIfDead(cluster, path + "/" + child, live)) abandoned++;
            }
            return abandoned;
        } catch (KeeperException.NoNodeException e) {
            return 0;
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path);
        }
    }

    /** Abandons one fence if it is pending and not of incarnation {@code live}. */
    static boolean abandonIfDead(ZkCluster cluster, String fence, long live) throws InterruptedException {
        Stat stat = new Stat();
        try {
            String data = ZkCluster.utf8(cluster.call(() -> cluster.client.getData().storingStatIn(stat).forPath(fence)));
            if (stat.getVersion() != 0 || !data.startsWith("P ") || Long.parseLong(data.substring(2)) == live) {
                return false;
            }
            cluster.call(() -> cluster.client.setData().withVersion(0).forPath(fence,
                    ZkCluster.utf8("A the producer of " + fence + " went away (process died or its session expired)")));
            cluster.fencesAbandoned.increment();
            return true;
        } catch (KeeperException.BadVersionException | KeeperException.NoNodeException raced) {
            return false;       // signalled meanwhile (by the producer or another observer)
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, fence);
        }
    }
}
