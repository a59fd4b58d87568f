package dev.bufsync.zookeeper;

import dev.bufsync.ww.WwClass;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.zookeeper.KeeperException;

/**
 * A family of objects that transactions in any number of processes lock in any order without
 * deadlock: the cross-process form of a {@link WwClass}. Conflicts are settled in favour of the
 * older transaction with the space's {@link WwClass.Algorithm}; every process must use the same
 * algorithm for a space.
 *
 * <pre>{@code
 * ZkLockSpace buffers = cluster.lockSpace("buffers", WwClass.Algorithm.WOUND_WAIT);
 * try (ZkTransaction txn = buffers.begin()) {
 *     txn.lockAll(List.of("a", "b"));   // one multi() when uncontended; retries by itself
 *     txn.write("a", bytes);            // refused if the lock was lost meanwhile
 * }                                     // releases everything
 * }</pre>
 *
 * <p>Objects need no declaration: the first lock of a name creates its nodes, which stay.
 * Every wait is bounded by {@link #waitTimeout()} (60 s unless changed) and is interruptible.
 */
public final class ZkLockSpace {
    final ZkCluster cluster;
    final String name;
    final WwClass.Algorithm algorithm;
    final String path;
    private volatile Duration waitTimeout = Duration.ofSeconds(60);   // written by withWaitTimeout

    ZkLockSpace(ZkCluster cluster, String name, WwClass.Algorithm algorithm) {
        this.cluster = cluster;
        this.name = name;
        this.algorithm = algorithm;
        this.path = cluster.root + "/ww/" + name;
    }

    /**
     * Begins a transaction; it takes no ticket until its first conflict.
     *
     * @return a new transaction over this space's objects; close it to release its locks
     */
    public ZkTransaction begin() {
        return new ZkTransaction(this);
    }

    /**
     * The algorithm this space settles conflicts with.
     *
     * @return the algorithm given to {@link ZkCluster#lockSpace}
     */
    public WwClass.Algorithm algorithm() {
        return algorithm;
    }

    /**
     * How long one lock, lockSlow or lockAll waits before a TimeoutException.
     *
     * @return the current wait timeout: 60 s, or the last value given to {@link #withWaitTimeout}
     */
    public Duration waitTimeout() {
        return waitTimeout;
    }

    /**
     * Sets how long a lock may wait before a TimeoutException; returns this space.
     *
     * @param timeout the longest one lock, lockSlow or lockAll call of this space's transactions
     *     waits, counted from the call; it applies to calls made after this one
     * @return this space, for chaining
     * @throws IllegalArgumentException if {@code timeout} is zero or negative
     */
    public ZkLockSpace withWaitTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("wait timeout of lock space '" + name + "' must be positive: " + timeout);
        }
        this.waitTimeout = timeout;
        return this;
    }

    /**
     * The objects of this space locked right now, by any process: it syncs first, so every unlock
     * completed before the call is seen, then reads once per object. An empty list after every
     * transaction finished is the "nothing stayed locked" check.
     *
     * @return the names of the objects whose lock is held, in no particular order; empty if none
     *     is, or if the space was never used
     * @throws InterruptedException if interrupted during the sync or a read
     */
    public List<String> lockedObjects() throws InterruptedException {
        List<String> locked = new ArrayList<>();
        List<String> objects;
        cluster.sync(path);
        try {
            objects = cluster.call(() -> cluster.client.getChildren().forPath(objectsPath()));
        } catch (KeeperException.NoNodeException e) {
            return locked;
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, objectsPath());
        }
        for (String object : objects) {
            try {
                if (cluster.call(() -> cluster.client.checkExists().forPath(ownerPath(object))) != null) {
                    locked.add(object);
                }
            } catch (KeeperException e) {
                throw ZkCluster.unexpected(e, ownerPath(object));
            }
        }
        return locked;
    }

    @Override
    public String toString() {
        return "ZkLockSpace[" + name + ", " + algorithm + "]";
    }

    /* ---------------- Layout ---------------- */

    String objectsPath() {
        return path + "/objects";
    }

    String objectPath(String object) {
        return objectsPath() + "/" + object;
    }

    String ownerPath(String object) {
        return objectPath(object) + "/owner";
    }

    String generationPath(String object) {
        return objectPath(object) + "/generation";
    }

    /** The marker waiters put on an object: while it exists, only a waiter may take the object. */
    static final String QUEUED = "queued";

    String queuedPath(String object) {
        return objectPath(object) + "/" + QUEUED;
    }

    String ticketPath(String txnId) {
        return path + "/tickets/" + txnId;
    }

    String woundPath(String txnId) {
        return path + "/wounds/" + txnId;
    }

    static String waiterName(long stamp, String txnId) {
        return String.format("w-%016x-%s", stamp, txnId);
    }

    static long waiterStamp(String waiterName) {
        return Long.parseUnsignedLong(waiterName.substring(2, 18), 16);
    }

    static boolean isWaiter(String child) {
        return child.startsWith("w-");
    }

    void ensureLayout() throws InterruptedException {
        cluster.ensurePath(path + "/tickets");
        cluster.ensurePath(path + "/wounds");
        cluster.ensurePath(objectsPath());
    }

    /** Creates an object's node and generation counter; existing ones are fine. */
    void ensureObject(String object) throws InterruptedException {
        ensureLayout();
        cluster.ensurePath(objectPath(object));
        cluster.ensurePath(generationPath(object));
    }
}
