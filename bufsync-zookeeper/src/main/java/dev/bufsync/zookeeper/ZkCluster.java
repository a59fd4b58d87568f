package dev.bufsync.zookeeper;

import dev.bufsync.ww.WwClass;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;

/**
 * One client's attachment to a ZooKeeper ensemble, under which its {@linkplain ZkLockSpace lock
 * spaces} and {@linkplain ZkFenceContext fence contexts} run. It guarantees that when the client's
 * ZooKeeper session is lost, every transaction and fence context begun under it fails with
 * {@link ZkSessionLostException} at its next step (a thread waiting in one is woken), while
 * ZooKeeper releases what the session held.
 *
 * <pre>{@code
 * CuratorFramework client = CuratorFrameworkFactory.newClient(connect, new ExponentialBackoffRetry(100, 5));
 * client.start();
 * try (ZkCluster cluster = ZkCluster.attach(client, "/bufsync")) {
 *     ZkLockSpace buffers = cluster.lockSpace("buffers", WwClass.Algorithm.WOUND_WAIT);
 *     try (ZkTransaction txn = buffers.begin()) {
 *         txn.lockAll(List.of("a", "b"));
 *         txn.write("a", bytes);
 *     }
 * }
 * }</pre>
 *
 * <p>The client is the caller's: attach does not start it and close does not close it. Every
 * process using the same root and names sees the same locks and fences.
 *
 * <p><b>Implementation notes.</b> The counters ({@link #roundTrips()} and the others) count this
 * client only. Names of spaces, contexts and objects are single path segments of letters,
 * digits, {@code . _ -}.
 */
public final class ZkCluster implements AutoCloseable {
    /*
     * Overview.
     *
     * The cluster owns the session epoch: an int the connection-state listener increments on
     * LOST (Curator posts LOST when the session expired or was given up). Every transaction and
     * fence context records the epoch it began in and checks it before each ZooKeeper call, and
     * every waiter registers its Wakeup here so that a LOST wakes it to see the change. ZooKeeper
     * calls go through call(), which counts the round trip and turns session expiry into
     * ZkSessionLostException; the protocol code handles the remaining KeeperException codes.
     */

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    final CuratorFramework client;
    final String root;
    private final String clientId;                  // random, names this client's transactions
    private final AtomicLong nextTxn = new AtomicLong();
    private volatile int epoch;                     // incremented by the listener thread on LOST
    private volatile boolean closed;                // set once by close()
    private final Set<Wakeup> waiting = ConcurrentHashMap.newKeySet();
    private final Set<ZkFenceContext> contexts = ConcurrentHashMap.newKeySet();
    private final ConnectionStateListener listener = this::stateChanged;

    final LongAdder roundTrips = new LongAdder();
    final LongAdder sessionExpiries = new LongAdder();
    final LongAdder fencesAbandoned = new LongAdder();
    final LongAdder backoffs = new LongAdder();
    final LongAdder wounds = new LongAdder();

    private ZkCluster(CuratorFramework client, String root) {
        this.client = client;
        this.root = root;
        this.clientId = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1);
    }

    /**
     * Attaches to the ensemble a started client talks to, under the root path {@code root}.
     *
     * @param client a started Curator client; it stays the caller's to close
     * @param root the absolute path, such as {@code /bufsync}, under which every node of this
     *     library lives; processes that share it share locks and fences
     * @return the attached cluster; close it to detach
     * @throws IllegalArgumentException if {@code root} is not an absolute path without a trailing slash
     * @throws IllegalStateException if the client is not started or not connected within 30 s
     * @throws InterruptedException if interrupted while connecting
     */
    public static ZkCluster attach(CuratorFramework client, String root) throws InterruptedException {
        Objects.requireNonNull(client, "client");
        if (root == null || !root.startsWith("/") || root.endsWith("/") || root.contains("//")) {
            throw new IllegalArgumentException("ZooKeeper root '" + root
                    + "' must be an absolute path such as /bufsync, without a trailing slash");
        }
        if (!client.isStarted()) {
            throw new IllegalStateException("the Curator client must be started before attach");
        }
        if (!client.blockUntilConnected((int) CONNECT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("no ZooKeeper connection within " + CONNECT_TIMEOUT.toSeconds()
                    + " s to " + client.getZookeeperClient().getCurrentConnectionString());
        }
        ZkCluster cluster = new ZkCluster(client, root);
        client.getConnectionStateListenable().addListener(cluster.listener);
        return cluster;
    }

    /**
     * The lock space (a ww class across processes) of this name, with its algorithm.
     *
     * @param name the space's name, one path segment of letters, digits, {@code . _ -}; every
     *     process using the name locks the same objects
     * @param algorithm how the space settles conflicts; every process must give the same one for
     *     a name
     * @return a new handle on the space, with its own wait timeout; the locks are in ZooKeeper
     * @throws IllegalArgumentException if {@code name} is not a valid name
     */
    public ZkLockSpace lockSpace(String name, WwClass.Algorithm algorithm) {
        return new ZkLockSpace(this, checkName("lock space", name), Objects.requireNonNull(algorithm));
    }

    /**
     * Opens the fence context of this name as its producer; only one client at a time may.
     *
     * @param name the context's name, one path segment of letters, digits, {@code . _ -}
     * @return the open context; closing it (or this cluster) signals its pending fences with an
     *     error
     * @throws IllegalArgumentException if {@code name} is not a valid name
     * @throws IllegalStateException if another live client holds the context
     * @throws InterruptedException if interrupted while creating the context's nodes or
     *     abandoning the fences of an earlier, dead producer
     */
    public ZkFenceContext fenceContext(String name) throws InterruptedException {
        ZkFenceContext context = ZkFenceContext.open(this, checkName("fence context", name));
        contexts.add(context);
        return context;
    }

    /**
     * A handle on the fence at {@code path} (from {@link ZkFence#path()}), for waiting on it.
     *
     * @param path the fence's znode path, as its producer's {@link ZkFence#path()} gave it
     * @return a new handle on the fence; whether the node exists is checked when it is read
     * @throws IllegalArgumentException if {@code path} is not a fence path under this cluster's root
     */
    public ZkFence fence(String path) {
        return ZkFence.at(this, path);
    }

    /**
     * Signals with an error every pending fence whose producer is gone (its context's liveness node
     * vanished: crash, session expiry, close without signalling), under this cluster's root.
     * Waiters do this by themselves for the fences they wait on; call it to settle fences nobody
     * waits on.
     *
     * @return the number of fences this call signalled
     * @throws InterruptedException if interrupted during a ZooKeeper call
     */
    public int reapAbandoned() throws InterruptedException {
        int reaped = 0;
        List<String> names;
        try {
            names = call(() -> client.getChildren().forPath(fencesPath()));
        } catch (KeeperException.NoNodeException e) {
            return 0;
        } catch (KeeperException e) {
            throw unexpected(e, fencesPath());
        }
        for (String name : names) {
            reaped += ZkFenceContext.abandonDead(this, name);
        }
        return reaped;
    }

    /**
     * ZooKeeper calls (round trips) made by this client's transactions and fences.
     *
     * @return the number of ZooKeeper calls, syncs included, made through this cluster since attach
     */
    public long roundTrips() {
        return roundTrips.sum();
    }

    /**
     * Session losses this client has seen since attach.
     *
     * @return the number of times Curator reported the connection {@code LOST} since attach
     */
    public long sessionExpiries() {
        return sessionExpiries.sum();
    }

    /**
     * Pending fences of dead producers this client has signalled with an error.
     *
     * @return the number of fences this client abandoned since attach
     */
    public long fencesAbandoned() {
        return fencesAbandoned.sum();
    }

    /**
     * Back-offs of this client's transactions.
     *
     * @return the number of back-offs since attach, those {@code lockAll} handled included
     */
    public long backoffs() {
        return backoffs.sum();
    }

    /**
     * Wounds this client's transactions have dealt to younger holders.
     *
     * @return the number of wound marks created or lowered since attach
     */
    public long wounds() {
        return wounds.sum();
    }

    /**
     * Detaches: closes the fence contexts opened here (signalling their pending fences with an
     * error) and wakes every waiter, which then fails with {@link ZkSessionLostException}.
     * Idempotent; the Curator client stays open.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        for (ZkFenceContext context : contexts) {
            try {
                context.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();   // observers abandon what is left
            } catch (RuntimeException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
        }
        epoch++;
        wakeAll();
        client.getConnectionStateListenable().removeListener(listener);
        if (first != null) throw first;
    }

    /* ---------------- Session epoch ---------------- */

    private void stateChanged(CuratorFramework c, ConnectionState state) {
        if (state == ConnectionState.LOST) {
            epoch++;
            sessionExpiries.increment();
            wakeAll();
        }
    }

    private void wakeAll() {
        for (Wakeup w : waiting) {
            w.wake();
        }
    }

    int epoch() {
        return epoch;
    }

    void checkEpoch(int begun, String what) {
        if (epoch != begun) {
            throw new ZkSessionLostException(what + " was begun under a ZooKeeper session that "
                    + (closed ? "was detached (ZkCluster closed)" : "expired") + "; ZooKeeper has "
                    + "released what it held; begin a new one");
        }
    }

    void register(Wakeup w) {
        waiting.add(w);
    }

    void unregister(Wakeup w) {
        waiting.remove(w);
    }

    void forget(ZkFenceContext context) {
        contexts.remove(context);
    }

    String newTransactionId() {
        return clientId + "-" + nextTxn.incrementAndGet();
    }

    /* ---------------- ZooKeeper calls ---------------- */

    interface Call<T> {
        T run() throws Exception;
    }

    /**
     * Runs one ZooKeeper call and counts it. Session expiry becomes ZkSessionLostException, an
     * interrupt stays an InterruptedException, KeeperExceptions of the protocol (NodeExists,
     * NoNode, BadVersion, NotEmpty) reach the caller, anything else is an IllegalStateException.
     */
    <T> T call(Call<T> c) throws KeeperException, InterruptedException {
        roundTrips.increment();
        try {
            return c.run();
        } catch (KeeperException.SessionExpiredException e) {
            throw new ZkSessionLostException("ZooKeeper session expired", e);
        } catch (KeeperException e) {
            switch (e.code()) {
                case NODEEXISTS, NONODE, BADVERSION, NOTEMPTY -> throw e;
                default -> throw unexpected(e, e.getPath());
            }
        } catch (InterruptedException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("ZooKeeper call failed: " + e, e);
        }
    }

    /** Builds one op of a multi() (building makes no call). */
    static CuratorOp op(Call<CuratorOp> build) {
        try {
            return build.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("building a ZooKeeper op failed: " + e, e);
        }
    }

    /** One multi(); on failure the KeeperException's failed op is found with {@link #failedOp}. */
    List<CuratorTransactionResult> multi(List<CuratorOp> ops) throws KeeperException, InterruptedException {
        List<CuratorTransactionResult> results = call(() -> client.transaction().forOperations(ops));
        for (CuratorTransactionResult r : results) {
            if (r.getError() != 0) {
                throw KeeperException.create(KeeperException.Code.get(r.getError()), r.getForPath());
            }
        }
        return results;
    }

    /** The index and code of the op that failed a multi(), or -1 if ZooKeeper did not say. */
    static int failedOp(KeeperException e) {
        List<OpResult> results = e.getResults();
        if (results != null) {
            for (int i = 0; i < results.size(); i++) {
                if (results.get(i) instanceof OpResult.ErrorResult err
                        && err.getErr() != KeeperException.Code.OK.intValue()
                        && err.getErr() != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                    return i;
                }
            }
        }
        return -1;
    }

    static KeeperException.Code failedCode(KeeperException e) {
        int i = failedOp(e);
        return i < 0 ? e.code() : KeeperException.Code.get(((OpResult.ErrorResult) e.getResults().get(i)).getErr());
    }

    static IllegalStateException unexpected(KeeperException e, String path) {
        return new IllegalStateException("ZooKeeper refused an operation on " + path + ": " + e.code(), e);
    }

    /**
     * Brings this client's server up to date with the leader, so that the reads that follow see
     * every update completed before this call (ZooKeeper's reads alone may lag other clients'
     * writes). One round trip, bounded by 30 s.
     */
    void sync(String path) throws InterruptedException {
        roundTrips.increment();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        try {
            client.sync().inBackground((c, event) -> done.countDown()).forPath(path);
        } catch (Exception e) {
            throw new IllegalStateException("ZooKeeper sync of " + path + " failed: " + e, e);
        }
        if (!done.await(CONNECT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            throw new IllegalStateException("ZooKeeper sync of " + path + " did not complete within "
                    + CONNECT_TIMEOUT.toSeconds() + " s");
        }
    }

    /** Creates a persistent node and its parents; an existing node is fine. */
    void ensurePath(String path) throws InterruptedException {
        try {
            call(() -> client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path, new byte[0]));
        } catch (KeeperException.NodeExistsException e) {
            // already there
        } catch (KeeperException e) {
            throw unexpected(e, path);
        }
    }

    String fencesPath() {
        return root + "/fences";
    }

    static String checkName(String kind, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(kind + " name '" + name
                    + "' must be 1 to 200 letters, digits, '.', '_' or '-' (it becomes a znode name)");
        }
        if (name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException(kind + " name '" + name + "' is not a valid znode name");
        }
        return name;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String utf8(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }
}
