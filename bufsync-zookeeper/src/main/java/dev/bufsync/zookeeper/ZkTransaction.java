package dev.bufsync.zookeeper;

import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

/**
 * One transaction over objects of a {@link ZkLockSpace}, in any process: the cross-process
 * {@link dev.bufsync.ww.AcquireContext}. It guarantees that transactions locking objects in any
 * order neither deadlock nor starve: a conflict makes the younger one back off (wound-wait: when
 * it next waits or locks a contended object; wait-die: at once), and a transaction keeps its stamp
 * across back-offs, so it eventually becomes the oldest. Writes under a lock are fenced: ZooKeeper
 * applies them only while the lock is still this transaction's.
 *
 * <pre>{@code
 * try (ZkTransaction txn = space.begin()) {
 *     txn.lockAll(objects);                 // exec: lock-all with retries
 *     txn.write("a", bytes);
 * }
 *
 * // or the ww protocol by hand
 * try (ZkTransaction txn = space.begin()) {
 *     for (String o : objects) {
 *         try {
 *             txn.lock(o);
 *         } catch (ZkBackoffException e) {
 *             txn.unlockAll();
 *             txn.lockSlow(e.object());
 *             // ... then lock the rest again
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>A transaction is used by one thread at a time. Its locks are ephemeral: if its process dies
 * or its session expires, ZooKeeper frees them, and the transaction fails with
 * {@link ZkSessionLostException}. Every wait is bounded by the space's wait timeout and can be
 * interrupted.
 *
 * <p><b>Round trips.</b> Uncontended: {@code lockAll} of any set is one {@code multi()},
 * {@code lock} is one {@code multi()}, a fenced {@code write} is one {@code multi()}, {@code close}
 * is one {@code multi()}. Contended: a ticket (one create, once per transaction), a waiter node and
 * the waiters' marker, then two or three reads per wake-up.
 *
 * <p><b>Fairness.</b> A transaction that is not waiting does not take an object that has waiters:
 * it queues behind them, so the oldest waiter of an object is overtaken by nobody.
 */
public final class ZkTransaction implements AutoCloseable {
    /*
     * Overview.
     *
     * Nodes, under the space's path P:
     *   P/objects/<o>              persistent; its data is the object's value (write/read)
     *   P/objects/<o>/generation   persistent; its version is bumped by every acquisition
     *   P/objects/<o>/owner        ephemeral; exists iff <o> is locked; data = holder's id
     *   P/objects/<o>/w-<stamp>-<id> ephemeral; a waiter, ordered by its stamp
     *   P/objects/<o>/queued       ephemeral (of some waiter); exists while <o> has waiters
     *   P/tickets/<id>             ephemeral; its czxid is the transaction's stamp
     *   P/wounds/<id>              ephemeral (of the wounder); data = the wounder's stamp
     *
     * Acquisition: one multi() per batch of objects: create owner + setData(generation) for each,
     * plus create + delete of the "queued" marker, which succeeds iff no marker exists: a
     * transaction that is not waiting cannot take an object that has waiters.
     * The generation version returned is the lock's token. The ephemeral owner is the lock; the
     * token tells this acquisition from later ones (an owner node recreated by another
     * transaction has version 0 again, so the owner's own version cannot).
     *
     * Tickets are taken at the first conflict (an uncontended transaction never pays for one).
     * A ticket's czxid orders it against every other ticket. A holder without a ticket is younger
     * than any waiter with one: its ticket, when it takes one, is created later. The comparison
     * is exact despite ZooKeeper's possibly stale reads: a client's server has applied every
     * write up to the client's own last write, so a ticket older than the reader's own is always
     * visible to it.
     *
     * Waiting: the waiter node is created, then in a loop: drain the Wakeup, read the object's
     * children with a watch (owner presence + waiter order), read the owner's holder, decide,
     * park. A waiter creates the "queued" marker when it queues and whenever it finds it gone.
     * Only the oldest waiter creates the owner when it is free (in the same multi() that deletes
     * its waiter node, and the marker if it saw no other waiter). A newcomer that meets the marker
     * queues like any waiter (with a ticket younger than theirs). A waiter that leaves without
     * taking (timeout, back-off) may leave the marker behind: the next newcomer then queues, finds
     * itself the only waiter, takes the object and removes it.
     *
     * Wound-wait: an older waiter marks a younger holder by creating (or lowering) the holder's
     * wound node; a holder checks its wound node, with a watch, whenever it waits while holding
     * locks, and backs off if the wound is from an older stamp (a wound from a younger one is
     * deleted and ignored, and so is one whose wounder has finished). A waiter that finds an older
     * mark keeps it and watches it, and wounds again when it goes: its wounder may have finished.
     * Wait-die: a waiter that holds locks dies when the holder or a waiter
     * ahead of it is older.
     *
     * Invariants: (1) at most one owner node per object, so one holder; (2) a back-off only
     * happens with locks held and names a ticket older than the backing-off one that existed
     * when the conflict was read; (3) a transaction's stamp never changes once taken, so its age
     * rank only improves; (4) the token of a held object equals the generation's version until
     * another acquisition, so write and unlock never act on a lock taken by someone else.
     *
     * Fields are confined to the thread using the transaction.
     */

    private final ZkLockSpace space;
    private final ZkCluster cluster;
    private final String id;
    private final int epoch;
    private final Wakeup wakeup = new Wakeup();
    private final Map<String, Integer> held = new LinkedHashMap<>();   // object -> token
    private long stamp;              // ticket czxid, 0 until the first conflict
    private boolean woundSeen;       // a wound node for us may exist; delete it when unlocking
    private int backoffs;
    private boolean closed;

    ZkTransaction(ZkLockSpace space) {
        this.space = space;
        this.cluster = space.cluster;
        this.id = cluster.newTransactionId();
        this.epoch = cluster.epoch();
    }

    /* ---------------- API ---------------- */

    /**
     * Locks one object. Uncontended: one round trip.
     *
     * @param object the object's name, one path segment of letters, digits, {@code . _ -}; its
     *     nodes are created by the first lock of the name
     * @throws ZkBackoffException when an older transaction wins the conflict and this one holds
     *     other locks; nothing new is held
     * @throws TimeoutException if the space's wait timeout passed
     * @throws IllegalStateException if the object is already held by this transaction
     * @throws ZkSessionLostException if the session this transaction began under is gone
     * @throws IllegalArgumentException if {@code object} is not a valid name
     * @throws InterruptedException if interrupted while waiting or during a ZooKeeper call
     */
    public void lock(String object) throws ZkBackoffException, InterruptedException, TimeoutException {
        checkUsable("lock");
        checkNotHeld(ZkCluster.checkName("object", object));
        if (tryCreateOwners(List.of(object)) != null) {
            lockContended(object, !held.isEmpty(), deadline());
        }
    }

    /**
     * Waits for and locks the contended object after a back-off, with nothing held; it never
     * backs off.
     *
     * @param object the contended object, as {@link ZkBackoffException#object()} named it
     * @throws IllegalStateException if locks are held (call {@link #unlockAll()} first)
     * @throws TimeoutException if the space's wait timeout passed; nothing is held
     * @throws InterruptedException if interrupted while waiting or during a ZooKeeper call
     */
    public void lockSlow(String object) throws InterruptedException, TimeoutException {
        checkUsable("lockSlow");
        ZkCluster.checkName("object", object);
        if (!held.isEmpty()) {
            throw new IllegalStateException("lockSlow(\"" + object + "\") of transaction " + id
                    + " with " + held.keySet() + " held: call unlockAll() first");
        }
        if (tryCreateOwners(List.of(object)) != null) {
            try {
                lockContended(object, false, deadline());
            } catch (ZkBackoffException e) {
                throw new AssertionError("a transaction holding nothing backed off", e);
            }
        }
    }

    /**
     * Locks every object of the set (and keeps those already held), backing off and retrying by
     * itself: the {@link dev.bufsync.exec} contract. Uncontended: one {@code multi()}. Duplicates
     * are ignored. A retry may release and retake objects held before the call.
     *
     * @param objects the names of the objects to lock, in any order
     * @throws TimeoutException if one wait exceeded the space's wait timeout; some objects may be held
     * @throws InterruptedException if interrupted while waiting; some objects may be held
     */
    public void lockAll(Collection<String> objects) throws InterruptedException, TimeoutException {
        checkUsable("lockAll");
        Set<String> want = new LinkedHashSet<>(held.keySet());
        for (String o : objects) {
            want.add(ZkCluster.checkName("object", o));
        }
        long deadline = deadline();
        while (true) {
            List<String> missing = new ArrayList<>();
            for (String o : want) {
                if (!held.containsKey(o)) missing.add(o);
            }
            if (missing.isEmpty()) return;
            String contended = tryCreateOwners(missing);
            if (contended == null) return;
            try {
                lockContended(contended, !held.isEmpty(), deadline);
            } catch (ZkBackoffException e) {
                unlockAll();
                try {
                    lockContended(e.object(), false, deadline);
                } catch (ZkBackoffException impossible) {
                    throw new AssertionError("a transaction holding nothing backed off", impossible);
                }
            }
        }
    }

    /**
     * Replaces the object's value, only if this transaction still holds its lock: the check and the
     * write are one {@code multi()}.
     *
     * @param object the name of an object this transaction holds
     * @param value the new value; it is copied, so the caller may reuse the array
     * @throws ZkLockLostException if the lock was lost (the value is unchanged)
     * @throws IllegalStateException if the object is not locked by this transaction
     * @throws InterruptedException if interrupted during the write; the value may or may not have
     *     been replaced
     */
    public void write(String object, byte[] value) throws InterruptedException {
        checkUsable("write");
        Integer token = held.get(object);
        if (token == null) {
            throw new IllegalStateException("write to '" + object + "' by transaction " + id
                    + " which does not hold it (held: " + held.keySet() + ")");
        }
        try {
            cluster.multi(List.of(
                    ZkCluster.op(() -> op().check().withVersion(token).forPath(space.generationPath(object))),
                    ZkCluster.op(() -> op().setData().forPath(space.objectPath(object), value.clone()))));
        } catch (KeeperException e) {
            throw new ZkLockLostException("write to '" + object + "' by transaction " + id
                    + " refused: its lock was lost (session expired and the object was locked since)");
        }
    }

    /**
     * The object's value (empty before the first write). Under the object's lock it is the value
     * the last holder wrote (acquiring is an update ordered after that write, and a client's
     * server has applied everything up to the client's own last update); without the lock it may
     * lag other clients' writes.
     *
     * @param object the object's name; it need not be locked
     * @return the value last written, as a new array; empty if the object was never written
     * @throws IllegalArgumentException if {@code object} is not a valid name
     * @throws InterruptedException if interrupted during the read
     */
    public byte[] read(String object) throws InterruptedException {
        checkUsable("read");
        try {
            return cluster.call(() -> cluster.client.getData().forPath(space.objectPath(ZkCluster.checkName("object", object))));
        } catch (KeeperException.NoNodeException e) {
            return new byte[0];
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, space.objectPath(object));
        }
    }

    /**
     * Whether this transaction holds the object's lock (by its own bookkeeping).
     *
     * @param object the object's name
     * @return {@code true} if this transaction locked the object and has not released it since;
     *     ZooKeeper is not asked, so a lock lost with the session still counts
     */
    public boolean holds(String object) {
        return held.containsKey(object);
    }

    /**
     * Releases every lock held, in one {@code multi()}; a lock already lost is skipped.
     *
     * @throws ZkSessionLostException if the session is gone (ZooKeeper released the locks)
     * @throws InterruptedException if interrupted while releasing; the transaction then holds
     *     nothing by its bookkeeping, and a lock not yet deleted stays until the session ends
     */
    public void unlockAll() throws InterruptedException {
        checkUsable("unlockAll");
        release(false);
    }

    /**
     * This transaction's stamp (its ticket's czxid), or 0 if it never met a conflict.
     *
     * @return the stamp, lower for older transactions; 0 before the first conflict
     */
    public long stamp() {
        return stamp;
    }

    /**
     * How many times this transaction backed off.
     *
     * @return the number of back-offs, those {@link #lockAll} handled by itself included
     */
    public int backoffs() {
        return backoffs;
    }

    /**
     * Releases every lock and the ticket. Idempotent; quiet after session loss (ZooKeeper released
     * everything already).
     *
     * @throws InterruptedException if interrupted while releasing; the transaction is closed all
     *     the same, and a lock not yet deleted stays until the session ends
     */
    @Override
    public void close() throws InterruptedException {
        if (closed) return;
        closed = true;
        if (cluster.epoch() != epoch) {
            held.clear();
            return;
        }
        try {
            release(true);
        } catch (ZkSessionLostException e) {
            held.clear();
        }
    }

    @Override
    public String toString() {
        return "ZkTransaction[" + id + ", stamp " + stamp + ", held " + held.keySet() + "]";
    }

    /* ---------------- Acquisition ---------------- */

    /**
     * After a NodeExists on an owner: if the owner is this transaction's (Curator retried a
     * multi() whose first attempt had succeeded, after a connection loss), takes the lock as held,
     * with the generation's current version as token (nobody else can acquire while our owner
     * exists). Two reads.
     */
    private boolean adoptIfOurs(String object) throws InterruptedException {
        if (!id.equals(holderId(object))) return false;
        Stat generation = exists(space.generationPath(object), false);
        if (generation == null) return false;
        held.put(object, generation.getVersion());
        return true;
    }

    /** One multi() creating the owners; returns null if all were taken, else the contended object. */
    private String tryCreateOwners(List<String> objects) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            cluster.checkEpoch(epoch, "transaction " + id);
            List<CuratorOp> ops = new ArrayList<>(OPS_PER_OBJECT * objects.size());
            for (String o : objects) {
                ops.add(createOwnerOp(o));
                ops.add(ZkCluster.op(() -> op().setData().forPath(space.generationPath(o), new byte[0])));
                // create + delete succeeds iff there is no "queued" marker: waiters keep their claim
                ops.add(ZkCluster.op(() -> op().create().withMode(CreateMode.EPHEMERAL).forPath(space.queuedPath(o), new byte[0])));
                ops.add(ZkCluster.op(() -> op().delete().forPath(space.queuedPath(o))));
            }
            try {
                acquired(objects, cluster.multi(ops));
                return null;
            } catch (KeeperException e) {
                int failed = ZkCluster.failedOp(e);
                KeeperException.Code code = ZkCluster.failedCode(e);
                if (code == KeeperException.Code.NODEEXISTS && failed >= 0) {
                    String contended = objects.get(failed / OPS_PER_OBJECT);
                    if (!adoptIfOurs(contended)) return contended;
                    objects = objects.stream().filter(o -> !held.containsKey(o)).toList();
                    if (objects.isEmpty()) return null;
                    attempt = -1;
                    continue;
                }
                if (code == KeeperException.Code.NONODE && attempt == 0) {
                    for (String o : objects) space.ensureObject(o);
                    continue;
                }
                throw ZkCluster.unexpected(e, space.objectsPath());
            }
        }
    }

    private CuratorOp createOwnerOp(String object) {
        return ZkCluster.op(() -> op().create().withMode(CreateMode.EPHEMERAL).forPath(space.ownerPath(object), ZkCluster.utf8(id)));
    }

    /** Ops per object in the fast path's multi(): create owner, bump generation, create and delete the marker. */
    private static final int OPS_PER_OBJECT = 4;

    private void acquired(List<String> objects, List<CuratorTransactionResult> results) {
        for (int k = 0; k < objects.size(); k++) {
            held.put(objects.get(k), results.get(k * OPS_PER_OBJECT + 1).getResultStat().getVersion());
        }
    }

    /**
     * The contended path: take a ticket, queue a waiter node, and wait until this transaction is
     * the oldest waiter of a free object, backing off as the algorithm says when {@code holding}.
     */
    private void lockContended(String object, boolean holding, long deadline)
            throws ZkBackoffException, InterruptedException, TimeoutException {
        ensureTicket();
        String me = ZkLockSpace.waiterName(stamp, id);
        String waiterPath = space.objectPath(object) + "/" + me;
        try {
            create(waiterPath, CreateMode.EPHEMERAL, new byte[0]);
        } catch (KeeperException.NodeExistsException retried) {
            // the name is unique to this transaction: a create retried after a connection loss
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, waiterPath);
        }
        boolean queued = true;
        String knownHolder = null;
        long knownHolderStamp = 0;
        long woundedOwner = 0;
        cluster.register(wakeup);
        try {
            markQueued(object);                     // inside the try: an interrupt here still removes the waiter node
            while (true) {
                cluster.checkEpoch(epoch, "transaction " + id);
                wakeup.drain();
                if (holding && space.algorithm == WwClass.Algorithm.WOUND_WAIT) {
                    checkWounded(object);
                }
                List<String> children = children(space.objectPath(object));
                if (!children.contains(ZkLockSpace.QUEUED)) markQueued(object);    // its creator took or died
                long olderAhead = olderWaiterAhead(children, me);
                if (!children.contains("owner")) {
                    if (olderAhead == Long.MAX_VALUE && tryTakeAsWaiter(object, waiterPath, children, me)) {
                        queued = false;
                        return;
                    }
                    if (holding && space.algorithm == WwClass.Algorithm.WAIT_DIE && olderAhead != Long.MAX_VALUE) {
                        throw backoff(object, BackoffException.Reason.DIED, olderAhead);
                    }
                } else {
                    Stat owner = new Stat();
                    String holderId = holderId(object, owner);
                    if (id.equals(holderId)) {
                        adoptIfOurs(object);        // our take was retried after it succeeded
                        queued = false;
                        return;
                    }
                    if (holderId != null) {
                        long holder = holderId.equals(knownHolder) ? knownHolderStamp : stampOf(holderId);
                        if (holder != Long.MAX_VALUE) {
                            knownHolder = holderId;          // a ticket's stamp never changes
                            knownHolderStamp = holder;
                        }
                        if (space.algorithm == WwClass.Algorithm.WOUND_WAIT) {
                            if (stamp < holder && owner.getCzxid() != woundedOwner
                                    && wound(holderId)) {    // else an older mark is there, watched: retried when it goes
                                woundedOwner = owner.getCzxid();   // once per acquisition (owner node) of the holder
                            }
                        } else if (holding && Math.min(olderAhead, holder) < stamp) {
                            throw backoff(object, BackoffException.Reason.DIED, Math.min(olderAhead, holder));
                        }
                    }
                }
                if (!wakeup.park(deadline)) {
                    cluster.checkEpoch(epoch, "transaction " + id);
                    throw new TimeoutException("transaction " + id + " (stamp " + stamp + ") waited "
                            + space.waitTimeout().toMillis() + " ms for object '" + object
                            + "' of lock space '" + space.name + "' and gave up");
                }
            }
        } finally {
            cluster.unregister(wakeup);
            if (queued) deleteQuietly(waiterPath);
        }
    }

    /** The oldest stamp among the waiters queued ahead of {@code me}, or Long.MAX_VALUE. */
    private static long olderWaiterAhead(List<String> children, String me) {
        long oldest = Long.MAX_VALUE;
        for (String c : children) {
            if (ZkLockSpace.isWaiter(c) && c.compareTo(me) < 0) {
                oldest = Math.min(oldest, ZkLockSpace.waiterStamp(c));
            }
        }
        return oldest;
    }

    /**
     * The oldest waiter takes the free object, removing its waiter node in the same multi(), and
     * the "queued" marker too when it was the last waiter it saw (a waiter that queued since
     * recreates the marker when it wakes on the owner's creation).
     */
    private boolean tryTakeAsWaiter(String object, String waiterPath, List<String> children, String me)
            throws InterruptedException {
        List<CuratorOp> ops = new ArrayList<>(List.of(
                createOwnerOp(object),
                ZkCluster.op(() -> op().setData().forPath(space.generationPath(object), new byte[0])),
                ZkCluster.op(() -> op().delete().forPath(waiterPath))));
        boolean last = children.stream().noneMatch(c -> ZkLockSpace.isWaiter(c) && !c.equals(me));
        if (last && children.contains(ZkLockSpace.QUEUED)) {
            ops.add(ZkCluster.op(() -> op().delete().forPath(space.queuedPath(object))));
        }
        try {
            List<CuratorTransactionResult> r = cluster.multi(ops);
            held.put(object, r.get(1).getResultStat().getVersion());
            return true;
        } catch (KeeperException e) {
            KeeperException.Code code = ZkCluster.failedCode(e);
            if (code == KeeperException.Code.NODEEXISTS) return false;
            if (code == KeeperException.Code.NONODE) {
                wakeup.wake();                     // the marker went meanwhile: read again at once
                return false;
            }
            throw ZkCluster.unexpected(e, space.ownerPath(object));
        }
    }

    /**
     * Creates the object's "queued" marker, so that transactions not waiting cannot take it ahead
     * of its waiters (their fast path fails on the marker and they queue). Ephemeral: a waiter
     * that dies takes its marker along, and the others recreate it when they wake.
     */
    private void markQueued(String object) throws InterruptedException {
        try {
            create(space.queuedPath(object), CreateMode.EPHEMERAL, new byte[0]);
        } catch (KeeperException.NodeExistsException already) {
            // another waiter's marker serves as well
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, space.queuedPath(object));
        }
    }

    /** A transaction's stamp: its ticket's czxid, or Long.MAX_VALUE (youngest) if it has none. */
    private long stampOf(String txnId) throws InterruptedException {
        Stat ticket = exists(space.ticketPath(txnId), false);
        return ticket == null ? Long.MAX_VALUE : ticket.getCzxid();
    }

    private String holderId(String object) throws InterruptedException {
        return holderId(object, new Stat());
    }

    /** The holder's transaction id (null if the object is free), and the owner node's stat. */
    private String holderId(String object, Stat owner) throws InterruptedException {
        try {
            return ZkCluster.utf8(cluster.call(() -> cluster.client.getData().storingStatIn(owner).forPath(space.ownerPath(object))));
        } catch (KeeperException.NoNodeException e) {
            return null;
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, space.ownerPath(object));
        }
    }

    /**
     * Wound-wait: marks the younger holder's wound node with this (older) stamp. Returns whether
     * the node carries this transaction's mark. When it carries an older one, it is left as it is
     * and watched, and false is returned: that mark's wounder may have finished, and then the
     * holder deletes the mark without backing off, so the caller wounds again when it wakes.
     */
    private boolean wound(String holder) throws InterruptedException {
        if (holder == null || holder.equals(id)) return true;
        String path = space.woundPath(holder);
        byte[] mark = ZkCluster.utf8(stamp + " " + id);
        for (int attempt = 0; attempt < 8; attempt++) {
            try {
                create(path, CreateMode.EPHEMERAL, mark);
                cluster.wounds.increment();
                return true;
            } catch (KeeperException.NoNodeException noLayout) {
                space.ensureLayout();
            } catch (KeeperException.NodeExistsException exists) {
                Stat stat = new Stat();
                try {
                    byte[] current = cluster.call(() -> cluster.client.getData().storingStatIn(stat)
                            .usingWatcher(wakeup).forPath(path));
                    long by = woundStamp(current);
                    if (by == stamp) return true;           // ours (a stamp is one transaction's)
                    if (by < stamp) return false;           // older: watched, see above
                    cluster.call(() -> cluster.client.setData().withVersion(stat.getVersion()).forPath(path, mark));
                    cluster.wounds.increment();
                    return true;
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException raced) {
                    // changed under us; try again
                } catch (KeeperException e) {
                    throw ZkCluster.unexpected(e, path);
                }
            } catch (KeeperException e) {
                throw ZkCluster.unexpected(e, path);
            }
        }
        wakeup.wake();                                      // kept changing: read again at once
        return false;
    }

    /** Wound-wait: backs off if an older transaction wounded this one; watches the wound node. */
    private void checkWounded(String object) throws ZkBackoffException, InterruptedException {
        String path = space.woundPath(id);
        Stat stat = exists(path, true);
        if (stat == null) return;
        woundSeen = true;
        try {
            String mark = ZkCluster.utf8(cluster.call(() -> cluster.client.getData().forPath(path)));
            long by = woundStamp(mark);
            if (by < stamp && exists(space.ticketPath(mark.substring(mark.indexOf(' ') + 1)), false) != null) {
                throw backoff(object, BackoffException.Reason.WOUNDED, by);
            }
            cluster.call(() -> cluster.client.delete().withVersion(stat.getVersion()).forPath(path));
        } catch (KeeperException.NoNodeException | KeeperException.BadVersionException gone) {
            // withdrawn or re-marked: the next loop reads it again
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path);
        }
    }

    /** The wounder's stamp in a wound mark "stamp id". */
    private static long woundStamp(byte[] mark) {
        return woundStamp(ZkCluster.utf8(mark));
    }

    private static long woundStamp(String mark) {
        return Long.parseLong(mark.substring(0, mark.indexOf(' ')));
    }

    /** The transaction's id (its ticket's and waiter nodes' name), for tests. */
    String id() {
        return id;
    }

    private ZkBackoffException backoff(String object, BackoffException.Reason reason, long older) {
        backoffs++;
        cluster.backoffs.increment();
        return new ZkBackoffException(object, reason, stamp, older);
    }

    private void ensureTicket() throws InterruptedException {
        if (stamp != 0) return;
        Stat stat = new Stat();
        for (int attempt = 0; ; attempt++) {
            try {
                cluster.call(() -> cluster.client.create().storingStatIn(stat).withMode(CreateMode.EPHEMERAL)
                        .forPath(space.ticketPath(id)));
                stamp = stat.getCzxid();
                return;
            } catch (KeeperException.NoNodeException e) {
                if (attempt > 0) throw ZkCluster.unexpected(e, space.ticketPath(id));
                space.ensureLayout();
            } catch (KeeperException.NodeExistsException retried) {
                Stat ours = exists(space.ticketPath(id), false);   // the id is unique: a retried create
                if (ours != null) {
                    stamp = ours.getCzxid();
                    return;
                }
            } catch (KeeperException e) {
                throw ZkCluster.unexpected(e, space.ticketPath(id));
            }
        }
    }

    /* ---------------- Release ---------------- */

    /** Deletes the owners (each checked against its token) and, on close, the ticket. */
    private void release(boolean closing) throws InterruptedException {
        List<CuratorOp> ops = new ArrayList<>();
        for (Map.Entry<String, Integer> h : held.entrySet()) {
            ops.addAll(releaseOps(h.getKey(), h.getValue()));
        }
        boolean ticket = closing && stamp != 0;
        try {
            if (ticket) ops.add(ZkCluster.op(() -> op().delete().forPath(space.ticketPath(id))));
            if (!ops.isEmpty()) cluster.multi(ops);
        } catch (KeeperException e) {
            releaseOneByOne(ticket);         // some lock was lost; free what is still ours
        } finally {
            held.clear();
        }
        if (woundSeen || (closing && stamp != 0)) {
            woundSeen = false;
            deleteQuietly(space.woundPath(id));
        }
    }

    private void releaseOneByOne(boolean ticket) throws InterruptedException {
        for (Map.Entry<String, Integer> h : held.entrySet()) {
            try {
                cluster.multi(releaseOps(h.getKey(), h.getValue()));
            } catch (KeeperException lost) {
                // taken by another since: not ours to delete
            }
        }
        if (ticket) deleteQuietly(space.ticketPath(id));
    }

    private List<CuratorOp> releaseOps(String object, int token) {
        return List.of(ZkCluster.op(() -> op().check().withVersion(token).forPath(space.generationPath(object))),
                ZkCluster.op(() -> op().delete().forPath(space.ownerPath(object))));
    }

    /* ---------------- Helpers ---------------- */

    private org.apache.curator.framework.api.transaction.TransactionOp op() {
        return cluster.client.transactionOp();
    }

    private void create(String path, CreateMode mode, byte[] data) throws KeeperException, InterruptedException {
        cluster.call(() -> cluster.client.create().withMode(mode).forPath(path, data));
    }

    private List<String> children(String path) throws InterruptedException {
        try {
            return cluster.call(() -> cluster.client.getChildren().usingWatcher(wakeup).forPath(path));
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path);
        }
    }

    private Stat exists(String path, boolean watch) throws InterruptedException {
        try {
            return cluster.call(() -> watch
                    ? cluster.client.checkExists().usingWatcher(wakeup).forPath(path)
                    : cluster.client.checkExists().forPath(path));
        } catch (KeeperException e) {
            throw ZkCluster.unexpected(e, path);
        }
    }

    private void deleteQuietly(String path) throws InterruptedException {
        try {
            cluster.call(() -> cluster.client.delete().forPath(path));
        } catch (KeeperException | ZkSessionLostException e) {
            // gone already, or the session's end removes it
        }
    }

    private long deadline() {
        return System.nanoTime() + space.waitTimeout().toNanos();
    }

    private void checkUsable(String what) {
        if (closed) {
            throw new IllegalStateException(what + " on closed transaction " + id);
        }
        cluster.checkEpoch(epoch, "transaction " + id);
    }

    private void checkNotHeld(String object) {
        if (held.containsKey(object)) {
            throw new IllegalStateException("object '" + object + "' is already locked by transaction " + id);
        }
    }
}
