package dev.bufsync.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwClass.Algorithm;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The ww lock-all protocol across sessions on a real three-server ensemble. */
class ZkTransactionTest {
    private static Ensemble ensemble;

    @BeforeAll
    static void start() throws Exception {
        ensemble = new Ensemble();
    }

    @AfterAll
    static void stop() throws Exception {
        ensemble.close();
    }

    private static ZkLockSpace space(ZkCluster cluster, Algorithm algorithm) {
        return cluster.lockSpace("buffers", algorithm).withWaitTimeout(Ensemble.WAIT);
    }

    /** Uncontended: lockAll of a set, a fenced write and close are one round trip each. */
    @Test
    void uncontendedTransactionIsOneRoundTripPerStep() throws Exception {
        ZkCluster cluster = ensemble.attach(Ensemble.root());
        ZkLockSpace space = space(cluster, Algorithm.WOUND_WAIT);
        try (ZkTransaction first = space.begin()) {
            first.lockAll(List.of("a", "b", "c"));        // creates the objects' nodes
        }
        try (ZkTransaction txn = space.begin()) {
            long before = cluster.roundTrips();
            txn.lockAll(List.of("a", "b", "c"));
            assertThat(cluster.roundTrips() - before).isEqualTo(1);
            txn.write("a", new byte[] {1});
            assertThat(cluster.roundTrips() - before).isEqualTo(2);
            txn.close();
            assertThat(cluster.roundTrips() - before).isEqualTo(3);
            assertThat(txn.stamp()).isZero();              // no conflict, no ticket
        }
        assertThat(space.lockedObjects()).isEmpty();
    }

    /** Two "processes" take A and B, then each wants the other's: both finish, for both algorithms. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaResolves(Algorithm algorithm) throws Exception {
        String root = Ensemble.root();
        ZkLockSpace one = space(ensemble.attach(root), algorithm);
        ZkLockSpace two = space(ensemble.attach(root), algorithm);
        CyclicBarrier bothHoldFirst = new CyclicBarrier(2);
        Queue<ZkBackoffException> backoffs = new ConcurrentLinkedQueue<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> ab = pool.submit(() -> lockInOrder(one, List.of("A", "B"), bothHoldFirst, backoffs));
            Future<?> ba = pool.submit(() -> lockInOrder(two, List.of("B", "A"), bothHoldFirst, backoffs));
            ab.get(60, TimeUnit.SECONDS);
            ba.get(60, TimeUnit.SECONDS);
        }
        assertThat(backoffs).isNotEmpty();
        assertOlder(backoffs);
        assertThat(one.lockedObjects()).isEmpty();
        assertThat(ByteBuffer.wrap(readValue(one, "A")).getInt()).isEqualTo(2);
        assertThat(ByteBuffer.wrap(readValue(one, "B")).getInt()).isEqualTo(2);
    }

    /** Three "processes" in a cycle: each holds its object and wants the next one's. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void cycleResolves(Algorithm algorithm) throws Exception {
        String root = Ensemble.root();
        int n = 3;
        CyclicBarrier allHoldFirst = new CyclicBarrier(n);
        Queue<ZkBackoffException> backoffs = new ConcurrentLinkedQueue<>();
        List<ZkLockSpace> spaces = new ArrayList<>();
        for (int i = 0; i < n; i++) spaces.add(space(ensemble.attach(root), algorithm));
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                List<String> order = List.of("o" + i, "o" + ((i + 1) % n));
                ZkLockSpace s = spaces.get(i);
                all.add(pool.submit(() -> lockInOrder(s, order, allHoldFirst, backoffs)));
            }
            for (Future<?> f : all) f.get(60, TimeUnit.SECONDS);
        }
        assertThat(backoffs).isNotEmpty();
        assertOlder(backoffs);
        assertThat(spaces.get(0).lockedObjects()).isEmpty();
        for (int i = 0; i < n; i++) {
            assertThat(ByteBuffer.wrap(readValue(spaces.get(0), "o" + i)).getInt()).isEqualTo(2);
        }
    }

    /**
     * Several "processes", each running transactions over random sets in random order; every
     * object counts the transactions that incremented it under its lock, so a lost update (two
     * holders at once, or a write after losing the lock) shows as a wrong count.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void stressKeepsCountsAndBacksOffOnlyToOlder(Algorithm algorithm) throws Exception {
        String root = Ensemble.root();
        int clients = 4, transactions = 12, objects = 6, perTxn = 3;
        Queue<ZkBackoffException> backoffs = new ConcurrentLinkedQueue<>();
        int[] expected = new int[objects];
        List<List<List<String>>> plans = new ArrayList<>();
        Random random = new Random(13);
        for (int c = 0; c < clients; c++) {
            List<List<String>> plan = new ArrayList<>();
            for (int t = 0; t < transactions; t++) {
                List<String> set = new ArrayList<>();
                while (set.size() < perTxn) {
                    String o = "s" + random.nextInt(objects);
                    if (!set.contains(o)) set.add(o);
                }
                for (String o : set) expected[Integer.parseInt(o.substring(1))]++;
                plan.add(set);
            }
            plans.add(plan);
        }
        List<ZkLockSpace> spaces = new ArrayList<>();
        for (int c = 0; c < clients; c++) spaces.add(space(ensemble.attach(root), algorithm));
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                ZkLockSpace s = spaces.get(c);
                List<List<String>> plan = plans.get(c);
                all.add(pool.submit(() -> {
                    for (List<String> set : plan) lockInOrder(s, set, null, backoffs);
                    return null;
                }));
            }
            for (Future<?> f : all) f.get(80, TimeUnit.SECONDS);
        }
        assertOlder(backoffs);
        assertThat(spaces.get(0).lockedObjects()).isEmpty();
        for (int o = 0; o < objects; o++) {
            byte[] v = readValue(spaces.get(0), "s" + o);
            assertThat(v.length == 0 ? 0 : ByteBuffer.wrap(v).getInt()).as("count of s" + o).isEqualTo(expected[o]);
        }
    }

    /** A holder whose session expires loses its locks to a waiter, and fails with the distinct exception. */
    @Test
    void sessionExpiryFreesLocksAndFailsTheTransaction() throws Exception {
        String root = Ensemble.root();
        CuratorFramework holderClient = ensemble.client();
        ZkCluster holderCluster = ZkCluster.attach(holderClient, root);
        ZkLockSpace holderSpace = space(holderCluster, Algorithm.WOUND_WAIT);
        ZkLockSpace waiterSpace = space(ensemble.attach(root), Algorithm.WOUND_WAIT);
        ZkLockSpace thirdSpace = space(ensemble.attach(root), Algorithm.WOUND_WAIT);

        ZkTransaction holder = holderSpace.begin();
        holder.lockAll(List.of("x"));
        ZkTransaction third = thirdSpace.begin();
        third.lockAll(List.of("y"));
        CountDownLatch waiting = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            // a second transaction of the doomed client, blocked on y: it must be woken and fail
            Future<?> blocked = pool.submit(() -> {
                try (ZkTransaction t = holderSpace.begin()) {
                    waiting.countDown();
                    t.lockSlow("y");
                }
                return null;
            });
            Future<?> waiter = pool.submit(() -> {
                try (ZkTransaction t = waiterSpace.begin()) {
                    t.lockSlow("x");
                    t.write("x", new byte[] {7});
                }
                return null;
            });
            waiting.await();
            Ensemble.expireSession(holderClient, ensemble.servers.getConnectString());
            waiter.get(60, TimeUnit.SECONDS);
            assertThatThrownBy(() -> blocked.get(60, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(ZkSessionLostException.class);
        }
        assertThatThrownBy(() -> holder.write("x", new byte[] {1})).isInstanceOf(ZkSessionLostException.class);
        assertThatThrownBy(() -> holder.lockAll(List.of("z"))).isInstanceOf(ZkSessionLostException.class);
        holder.close();                                  // quiet: nothing left to release
        assertThat(holderCluster.sessionExpiries()).isEqualTo(1);
        assertThat(readValue(waiterSpace, "x")).containsExactly(7);
        third.close();
        assertThat(waiterSpace.lockedObjects()).isEmpty();
        // the client's new session serves new transactions
        try (ZkTransaction again = holderSpace.begin()) {
            again.lockAll(List.of("x", "y"));
        }
    }

    /**
     * A holder that lost its lock without noticing (its owner node is gone, as after an expiry it
     * slept through) cannot write once another took the lock, nor free the other's lock.
     */
    @Test
    void fencedWriteAfterLosingTheLockIsRefused() throws Exception {
        String root = Ensemble.root();
        ZkCluster a = ensemble.attach(root);
        ZkLockSpace spaceA = space(a, Algorithm.WAIT_DIE);
        ZkLockSpace spaceB = space(ensemble.attach(root), Algorithm.WAIT_DIE);
        ZkTransaction paused = spaceA.begin();
        paused.lockAll(List.of("x"));
        paused.write("x", new byte[] {1});
        ensemble.client().delete().forPath(spaceA.ownerPath("x"));   // what the expiry would do
        try (ZkTransaction other = spaceB.begin()) {
            other.lockAll(List.of("x"));
            other.write("x", new byte[] {2});
            assertThatThrownBy(() -> paused.write("x", new byte[] {3}))
                    .isInstanceOf(ZkLockLostException.class).hasMessageContaining("'x'");
            paused.close();                              // must not delete the other's owner node
            assertThat(spaceB.lockedObjects()).containsExactly("x");
        }
        assertThat(readValue(spaceB, "x")).containsExactly(2);
    }

    /**
     * A lock-all whose multi() Curator retried after its first attempt succeeded meets its own owner
     * node: it adopts it instead of waiting for itself (here the first attempt is made by hand).
     */
    @Test
    void retriedAcquisitionAdoptsItsOwnOwnerNode() throws Exception {
        String root = Ensemble.root();
        ZkCluster cluster = ensemble.attach(root);
        ZkLockSpace space = space(cluster, Algorithm.WOUND_WAIT).withWaitTimeout(Duration.ofSeconds(5));
        try (ZkTransaction warmUp = space.begin()) {
            warmUp.lockAll(List.of("x", "y"));
        }
        try (ZkTransaction txn = space.begin()) {
            cluster.client.create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL)
                    .forPath(space.ownerPath("x"), txn.id().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            txn.lockAll(List.of("x", "y"));
            assertThat(txn.holds("x")).isTrue();
            assertThat(txn.holds("y")).isTrue();
            txn.write("x", new byte[] {5});
        }
        assertThat(space.lockedObjects()).isEmpty();
    }

    /**
     * A waiting lock is interruptible and leaves no waiter node behind; closing the cluster wakes
     * another waiter with the session-lost exception; close is idempotent.
     */
    @Test
    void waitsEndOnInterruptAndOnDetach() throws Exception {
        String root = Ensemble.root();
        ZkLockSpace holderSpace = space(ensemble.attach(root), Algorithm.WAIT_DIE);
        ZkCluster waiters = ensemble.attach(root);
        ZkLockSpace waiterSpace = space(waiters, Algorithm.WAIT_DIE);
        try (ZkTransaction holder = holderSpace.begin()) {
            holder.lockAll(List.of("q"));
            Thread interrupted = Thread.ofVirtual().start(() -> {
                try (ZkTransaction t = waiterSpace.begin()) {
                    t.lockSlow("q");
                    throw new AssertionError("acquired a held lock");
                } catch (InterruptedException expected) {
                    // the wait ended
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new AssertionError("the wait timed out instead of ending on the interrupt", e);
                }
            });
            awaitWaiters(holderSpace, "q", 1);
            interrupted.interrupt();
            interrupted.join(Ensemble.WAIT);
            assertThat(interrupted.isAlive()).isFalse();
            awaitWaiters(holderSpace, "q", 0);

            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                Future<?> detached = pool.submit(() -> {
                    try (ZkTransaction t = waiterSpace.begin()) {
                        t.lockSlow("q");
                    }
                    return null;
                });
                awaitWaiters(holderSpace, "q", 1);
                waiters.close();
                waiters.close();
                assertThatThrownBy(() -> detached.get(60, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(ZkSessionLostException.class);
            }
        }
    }

    /**
     * A transaction that is not waiting does not take a free object ahead of a queued waiter: its
     * fast path fails on the waiters' marker and it queues behind (here the waiter is a process
     * slow to wake, its nodes made by hand); once the waiter is gone it takes the object as the
     * last waiter and removes the marker, so the next lock-all is one round trip again.
     */
    @Test
    void aNewcomerDoesNotOvertakeTheOldestWaiterOfAFreeObject() throws Exception {
        ZkCluster cluster = ensemble.attach(Ensemble.root());
        ZkLockSpace space = space(cluster, Algorithm.WOUND_WAIT).withWaitTimeout(Duration.ofSeconds(1));
        try (ZkTransaction warmUp = space.begin()) {
            warmUp.lockAll(List.of("p"));
        }
        String ghost = space.objectPath("p") + "/" + ZkLockSpace.waiterName(1, "ghost-1");
        ZkCluster other = ensemble.attach(space.cluster.root);
        other.client.create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL).forPath(ghost);
        other.client.create().withMode(org.apache.zookeeper.CreateMode.EPHEMERAL).forPath(space.queuedPath("p"));
        try (ZkTransaction newcomer = space.begin()) {
            assertThatThrownBy(() -> newcomer.lock("p")).isInstanceOf(java.util.concurrent.TimeoutException.class);
            assertThat(newcomer.holds("p")).isFalse();
            assertThat(space.lockedObjects()).isEmpty();
            other.client.delete().forPath(ghost);           // the waiter gives up
            newcomer.lock("p");
            assertThat(newcomer.holds("p")).isTrue();
        }
        try (ZkTransaction next = space.begin()) {
            long before = cluster.roundTrips();
            next.lockAll(List.of("p"));
            assertThat(cluster.roundTrips() - before).as("marker removed by the last waiter").isEqualTo(1);
        }
        other.close();
    }

    /**
     * Wound-wait: a wound is not lost to a stale mark. The holder H's wound node may still carry the
     * mark of an older wounder that has finished since (its wound landed after H's unlockAll had
     * deleted the node). An older waiter W then finds that older mark and must not take it for its
     * own: H, when it next waits, deletes the dead wounder's mark and would wait for W forever.
     * Here the stale mark is made by hand; W holds p and waits for o, H holds o and wants p.
     */
    @Test
    void aWoundIsNotLostToTheStaleMarkOfAFinishedWounder() throws Exception {
        String root = Ensemble.root();
        Duration timeout = Duration.ofSeconds(10);
        ZkLockSpace spaceW = space(ensemble.attach(root), Algorithm.WOUND_WAIT).withWaitTimeout(timeout);
        ZkLockSpace spaceH = space(ensemble.attach(root), Algorithm.WOUND_WAIT).withWaitTimeout(timeout);
        try (ZkTransaction warmUp = spaceH.begin()) {
            warmUp.lockAll(List.of("o", "p"));
        }
        try (ZkTransaction h = spaceH.begin()) {
            h.lock("o");
            spaceH.cluster.client.create().withMode(CreateMode.EPHEMERAL)
                    .forPath(spaceH.woundPath(h.id()), "1 finished-1".getBytes(StandardCharsets.UTF_8));
            CountDownLatch holdsP = new CountDownLatch(1);
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Thread w = Thread.ofVirtual().start(() -> {
                try (ZkTransaction t = spaceW.begin()) {
                    t.lock("p");
                    holdsP.countDown();
                    t.lock("o");                                 // older than H: wounds it
                    t.write("o", new byte[] {1});
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            assertThat(holdsP.await(timeout.toSeconds(), TimeUnit.SECONDS)).isTrue();
            awaitParked(w);                                      // W has wounded H (or found the mark)
            assertThatThrownBy(() -> h.lock("p"))
                    .as("H, waiting for the older W, must see W's wound")
                    .isInstanceOf(ZkBackoffException.class);
            h.unlockAll();
            w.join(timeout);
            assertThat(w.isAlive()).isFalse();
            assertThat(failures).isEmpty();
        }
        assertThat(readValue(spaceW, "o")).containsExactly(1);
        assertThat(spaceW.lockedObjects()).isEmpty();
    }

    /**
     * Waits until the thread is parked on its transaction's Wakeup (it has read and decided). No
     * ZooKeeper event marks that decision (finding an older wound mark writes nothing), so this
     * polls the thread's stack, yielding between looks, with the ensemble's patience as the limit.
     */
    private static void awaitParked(Thread t) {
        long end = System.nanoTime() + Ensemble.WAIT.toNanos();
        while (Arrays.stream(t.getStackTrace()).noneMatch(
                f -> f.getClassName().equals(Wakeup.class.getName()) && f.getMethodName().equals("park"))) {
            assertThat(System.nanoTime() - end).as("parked in Wakeup.park").isNegative();
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Waits (watching the object's children) until it has {@code n} waiter nodes. */
    private static void awaitWaiters(ZkLockSpace space, String object, int n) throws Exception {
        long end = System.nanoTime() + Ensemble.WAIT.toNanos();
        while (true) {
            CountDownLatch changed = new CountDownLatch(1);
            long waiting = space.cluster.client.getChildren().usingWatcher(
                    (org.apache.zookeeper.Watcher) e -> changed.countDown()).forPath(space.objectPath(object))
                    .stream().filter(ZkLockSpace::isWaiter).count();
            if (waiting == n) return;
            assertThat(changed.await(end - System.nanoTime(), TimeUnit.NANOSECONDS)).as("waiters of " + object).isTrue();
        }
    }

    @Test
    void misuseIsReportedByName() throws Exception {
        ZkLockSpace space = space(ensemble.attach(Ensemble.root()), Algorithm.WOUND_WAIT);
        try (ZkTransaction txn = space.begin()) {
            assertThatThrownBy(() -> txn.lock("no/slash")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("no/slash");
            txn.lock("k");
            assertThatThrownBy(() -> txn.lock("k")).hasMessageContaining("'k' is already locked");
            assertThatThrownBy(() -> txn.lockSlow("m")).hasMessageContaining("unlockAll() first");
            assertThatThrownBy(() -> txn.write("m", new byte[0])).hasMessageContaining("does not hold it");
        }
    }

    /* ---------------- Helpers ---------------- */

    /**
     * One transaction by the ww protocol by hand: lock in the given order (after the barrier, if
     * any, once the first is held), back off and lockSlow on conflict, then increment each object.
     */
    private static Void lockInOrder(ZkLockSpace space, List<String> order, CyclicBarrier afterFirst,
                                    Queue<ZkBackoffException> backoffs) throws Exception {
        try (ZkTransaction txn = space.begin()) {
            txn.lock(order.get(0));
            if (afterFirst != null) afterFirst.await(60, TimeUnit.SECONDS);
            int next = 1;
            while (next < order.size()) {
                try {
                    if (!txn.holds(order.get(next))) txn.lock(order.get(next));
                    next++;
                } catch (ZkBackoffException e) {
                    backoffs.add(e);
                    txn.unlockAll();
                    txn.lockSlow(e.object());
                    next = 0;
                }
            }
            for (String o : order) {
                byte[] v = txn.read(o);
                int count = v.length == 0 ? 0 : ByteBuffer.wrap(v).getInt();
                txn.write(o, ByteBuffer.allocate(4).putInt(count + 1).array());
            }
        }
        return null;
    }

    private static void assertOlder(Queue<ZkBackoffException> backoffs) {
        for (ZkBackoffException e : backoffs) {
            assertThat(e.olderStamp()).as(e.getMessage()).isPositive().isLessThan(e.stamp());
        }
    }

    /** Reads under the object's lock: a plain read may lag other clients' writes, a read after acquiring may not. */
    private static byte[] readValue(ZkLockSpace space, String object) throws Exception {
        try (ZkTransaction t = space.begin()) {
            t.lockAll(List.of(object));
            return t.read(object);
        }
    }
}
