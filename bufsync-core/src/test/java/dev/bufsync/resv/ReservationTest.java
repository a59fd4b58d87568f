package dev.bufsync.resv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceArray;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.LockResult;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMisuseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unit tests of {@link Reservation}: the kernel's st-dma-resv selftests for every usage, and the
 * rules the kernel enforces only in debug builds.
 */
class ReservationTest {
    private final FenceContext timeline = FenceContext.create("resv-test");
    private final List<Signaller> signallers = new ArrayList<>();

    private Signaller pending() {
        Signaller s = timeline.next();
        signallers.add(s);
        return s;
    }

    private Signaller pendingOn(FenceContext context) {
        Signaller s = context.next();
        signallers.add(s);
        return s;
    }

    @AfterEach
    void signalEverything() {
        signallers.forEach(Signaller::trySignal);
    }

    /** Adds {@code f} with {@code usage} under the lock, reserving one slot. */
    private static void add(Reservation resv, Fence f, Usage usage) {
        resv.lock();
        try {
            resv.reserveFences(1);
            resv.addFence(f, usage);
        } finally {
            resv.unlock();
        }
    }

    // ---------------------------------------------------------------- st-dma-resv

    /** sanitycheck: lock and unlock. */
    @Test
    void sanitycheck() {
        Reservation resv = new Reservation();
        resv.lock();
        assertThat(resv.isLocked()).isTrue();
        resv.unlock();
        assertThat(resv.isLocked()).isFalse();
    }

    /** test_signaling: not signalled before the fence signals, signalled after, for every usage. */
    @ParameterizedTest
    @EnumSource(Usage.class)
    void signaling(Usage usage) {
        Reservation resv = new Reservation();
        Signaller s = pending();
        add(resv, s.fence(), usage);
        assertThat(resv.isSignaled(usage)).as("pending fence reported signalled").isFalse();
        s.signal();
        assertThat(resv.isSignaled(usage)).as("signalled fence reported pending").isTrue();
    }

    /** test_for_each: under the lock the reservation yields exactly that fence with that usage. */
    @ParameterizedTest
    @EnumSource(Usage.class)
    void forEach(Usage usage) {
        Reservation resv = new Reservation();
        Signaller s = pending();
        add(resv, s.fence(), usage);
        resv.lock();
        try {
            FenceList list = resv.snapshot();
            assertThat(list.size()).isEqualTo(1);
            assertThat(list.fence(0)).isSameAs(s.fence());
            assertThat(list.usage(0)).isEqualTo(usage);
        } finally {
            resv.unlock();
        }
    }

    /**
     * test_for_each_unlocked: without the lock the reservation yields exactly that fence; where
     * the kernel's iterator restarts when the list changes, a snapshot never changes under the
     * reader.
     */
    @ParameterizedTest
    @EnumSource(Usage.class)
    void forEachUnlocked(Usage usage) {
        Reservation resv = new Reservation();
        Signaller s = pending();
        add(resv, s.fence(), usage);
        List<Fence> snapshot = resv.fences(Usage.BOOKKEEP);
        assertThat(snapshot).containsExactly(s.fence());
        add(resv, pendingOn(FenceContext.create("other")).fence(), usage);
        assertThat(snapshot).containsExactly(s.fence());
        assertThat(resv.fences(Usage.BOOKKEEP)).hasSize(2);
    }

    /** test_get_fences: the snapshot is exactly the one fence. */
    @ParameterizedTest
    @EnumSource(Usage.class)
    void getFences(Usage usage) {
        Reservation resv = new Reservation();
        Signaller s = pending();
        add(resv, s.fence(), usage);
        assertThat(resv.fences(usage)).containsExactly(s.fence());
        assertThat(resv.singleton(usage)).containsSame(s.fence());
    }

    // ---------------------------------------------------------------- usage and replacement

    /** A query for usage U returns the fences of usage U or stronger, and no others. */
    @Test
    void queryReturnsUsageOrStronger() {
        Reservation resv = new Reservation();
        List<Fence> byUsage = new ArrayList<>();
        for (Usage u : Usage.values()) {
            Fence f = pendingOn(FenceContext.create("ctx-" + u)).fence();
            byUsage.add(f);
            add(resv, f, u);
        }
        for (Usage query : Usage.values()) {
            assertThat(resv.fences(query)).as("query %s", query)
                    .containsExactlyElementsOf(byUsage.subList(0, query.ordinal() + 1));
        }
        assertThat(Usage.beforeWrite()).isEqualTo(Usage.READ);
        assertThat(Usage.beforeRead()).isEqualTo(Usage.WRITE);
    }

    /** The deprecated rw(boolean) still answers as the named factories do. */
    @Test
    @SuppressWarnings("deprecation")
    void rwMatchesTheNamedFactories() {
        assertThat(Usage.rw(true)).isSameAs(Usage.beforeWrite());
        assertThat(Usage.rw(false)).isSameAs(Usage.beforeRead());
    }

    /**
     * A query includes only its usage and stronger ones: a WRITE query (a reader's) does not wait
     * for a pending READ fence, and includedIn says so.
     */
    @Test
    void weakerUsagesAreNotIncluded() throws InterruptedException {
        assertThat(Usage.READ.includedIn(Usage.WRITE)).isFalse();
        assertThat(Usage.BOOKKEEP.includedIn(Usage.KERNEL)).isFalse();
        assertThat(Usage.WRITE.includedIn(Usage.READ)).isTrue();
        assertThat(Usage.WRITE.includedIn(Usage.WRITE)).isTrue();
        Reservation resv = new Reservation();
        add(resv, pending().fence(), Usage.READ);
        assertThat(resv.isSignaled(Usage.beforeRead())).isTrue();
        assertThat(resv.await(Usage.beforeRead(), Duration.ZERO)).isTrue();
        assertThat(resv.fences(Usage.beforeRead())).isEmpty();
        assertThat(resv.isSignaled(Usage.beforeWrite())).isFalse();
    }

    /** A later fence of the same context replaces an entry of equal or weaker usage. */
    @Test
    void laterFenceOfSameContextReplaces() {
        Reservation resv = new Reservation();
        Fence first = pending().fence();
        Fence second = pending().fence();
        add(resv, first, Usage.READ);
        add(resv, second, Usage.READ);
        assertThat(resv.fences(Usage.BOOKKEEP)).containsExactly(second);
        Fence third = pending().fence();
        add(resv, third, Usage.WRITE);           // stronger: promotion
        assertThat(resv.fences(Usage.BOOKKEEP)).containsExactly(third);
        assertThat(resv.fences(Usage.WRITE)).containsExactly(third);
    }

    /** Adding the same fence again with a stronger usage promotes it; never demotes it. */
    @Test
    void promotionButNeverDemotion() {
        Reservation resv = new Reservation();
        Fence f = pending().fence();
        add(resv, f, Usage.BOOKKEEP);
        assertThat(resv.fences(Usage.READ)).isEmpty();
        add(resv, f, Usage.WRITE);
        assertThat(resv.fences(Usage.WRITE)).containsExactly(f);
        assertThat(resv.fences(Usage.BOOKKEEP)).containsExactly(f);
        Fence later = pending().fence();
        add(resv, later, Usage.READ);            // weaker than WRITE: kept beside, not replacing
        assertThat(resv.fences(Usage.WRITE)).containsExactly(f);
        assertThat(resv.fences(Usage.READ)).containsExactly(f, later);
    }

    /** An earlier fence of the same context does not replace a later one. */
    @Test
    void earlierFenceDoesNotReplaceLater() {
        Reservation resv = new Reservation();
        Fence earlier = pending().fence();
        Fence later = pending().fence();
        add(resv, later, Usage.WRITE);
        add(resv, earlier, Usage.WRITE);
        assertThat(resv.fences(Usage.WRITE)).containsExactly(later, earlier);
    }

    /** Signalled fences are pruned when the list changes, and never returned by queries. */
    @Test
    void signalledFencesArePruned() {
        Reservation resv = new Reservation();
        Signaller a = pendingOn(FenceContext.create("a"));
        Signaller b = pendingOn(FenceContext.create("b"));
        add(resv, a.fence(), Usage.WRITE);
        add(resv, b.fence(), Usage.WRITE);
        a.signal();
        assertThat(resv.fences(Usage.BOOKKEEP)).containsExactly(b.fence());
        add(resv, pendingOn(FenceContext.create("c")).fence(), Usage.READ);
        assertThat(resv.snapshot().size()).isEqualTo(2);
        add(resv, dev.bufsync.fence.Fences.stub(), Usage.KERNEL);
        assertThat(resv.snapshot().size()).isEqualTo(2);
    }

    /** An any-of array is added whole, taking one slot: the object is idle once one member signals. */
    @Test
    void anyOfIsAddedWhole() {
        Reservation resv = new Reservation();
        Signaller x = pendingOn(FenceContext.create("x"));
        Signaller y = pendingOn(FenceContext.create("y"));
        FenceArray any = FenceArray.anyOf(x.fence(), y.fence());
        add(resv, any, Usage.WRITE);
        assertThat(resv.fences(Usage.WRITE)).containsExactly(any);
        x.signal();
        assertThat(resv.isSignaled(Usage.BOOKKEEP)).isTrue();
    }

    /** Adding prunes the entries that signalled since the list was built, without a reserve in between. */
    @Test
    void addingPrunesSignalledEntries() {
        Reservation resv = new Reservation();
        Signaller a = pendingOn(FenceContext.create("a"));
        Fence b = pendingOn(FenceContext.create("b")).fence();
        resv.lock();
        try {
            resv.reserveFences(2);
            resv.addFence(a.fence(), Usage.WRITE);
            a.signal();
            resv.addFence(b, Usage.WRITE);
            assertThat(resv.snapshot().size()).isEqualTo(1);
            assertThat(resv.snapshot().fence(0)).isSameAs(b);
        } finally {
            resv.unlock();
        }
    }

    /** A container is added as its members, each taking a slot. */
    @Test
    void containersAreAddedAsMembers() {
        Reservation resv = new Reservation();
        Fence a = pendingOn(FenceContext.create("a")).fence();
        Fence b = pendingOn(FenceContext.create("b")).fence();
        FenceArray array = FenceArray.allOf(a, b);
        resv.lock();
        try {
            resv.reserveFences(1);
            assertThatThrownBy(() -> resv.addFence(array, Usage.WRITE))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("needs 2 reserved slot(s)");
            assertThat(resv.snapshot().size()).isZero();
            resv.reserveFences(1);
            resv.addFence(array, Usage.WRITE);
        } finally {
            resv.unlock();
        }
        assertThat(resv.fences(Usage.WRITE)).containsExactly(a, b);
    }

    /** replaceFences swaps every fence of a context for the replacement at the given usage. */
    @Test
    void replaceFencesOfAContext() {
        Reservation resv = new Reservation();
        FenceContext preempt = FenceContext.create("preempt");
        Fence p = pendingOn(preempt).fence();
        Fence other = pendingOn(FenceContext.create("other")).fence();
        add(resv, p, Usage.BOOKKEEP);
        add(resv, other, Usage.WRITE);
        Fence update = pendingOn(FenceContext.create("update")).fence();
        resv.lock();
        try {
            resv.replaceFences(preempt.id(), update, Usage.KERNEL);
            assertThatThrownBy(() -> resv.replaceFences(preempt.id(), FenceArray.allOf(update, other), Usage.KERNEL))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("container");
        } finally {
            resv.unlock();
        }
        assertThat(resv.fences(Usage.KERNEL)).containsExactly(update);
        assertThat(resv.fences(Usage.BOOKKEEP)).containsExactlyInAnyOrder(update, other);
    }

    // ---------------------------------------------------------------- slots and the lock

    /** Unlock voids the slots not used: adding after relocking without reserving is refused. */
    @Test
    void unlockVoidsReservations() {
        Reservation resv = new Reservation(WwClass.waitDie("slots"), "buf-7");
        resv.lock();
        resv.reserveFences(3);
        assertThat(resv.reservedSlots()).isEqualTo(3);
        resv.addFence(pending().fence(), Usage.WRITE);
        assertThat(resv.reservedSlots()).isEqualTo(2);
        resv.unlock();
        resv.lock();
        try {
            assertThat(resv.reservedSlots()).isZero();
            assertThatThrownBy(() -> resv.addFence(pending().fence(), Usage.WRITE))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("buf-7").hasMessageContaining("reserveFences")
                    .hasMessageContaining("0 are reserved");
        } finally {
            resv.unlock();
        }
    }

    /** The ways a holder lets go of a reservation locked with a context. */
    enum Release {
        RESERVATION_UNLOCK { void release(Reservation r, AcquireContext ctx) { r.unlock(); } },
        MUTEX_UNLOCK { void release(Reservation r, AcquireContext ctx) { r.mutex().unlock(); } },
        CONTEXT_UNLOCK_ALL { void release(Reservation r, AcquireContext ctx) { ctx.unlockAll(); } },
        CONTEXT_CLOSE {                                 // unlocks, then reports the misuse
            void release(Reservation r, AcquireContext ctx) {
                assertThatThrownBy(ctx::close).isInstanceOf(WwMisuseException.class)
                        .hasMessageContaining("CLOSE_WITH_LOCKS_HELD");
            }
        };

        abstract void release(Reservation r, AcquireContext ctx);
    }

    /**
     * Every unlock path voids the slots reserved and not used: the next holder sees none and
     * cannot add a fence without reserving (the ww back-off loop unlocks through the context).
     */
    @ParameterizedTest
    @EnumSource(Release.class)
    void everyReleaseVoidsReservations(Release path) throws Exception {
        WwClass cls = WwClass.waitDie("slots-" + path);
        Reservation resv = new Reservation(cls, "buf-" + path);
        AcquireContext ctx = cls.begin();
        try {
            resv.lock(ctx);
            resv.reserveFences(3);
            path.release(resv, ctx);
        } finally {
            if (!ctx.isClosed()) {
                ctx.close();
            }
        }
        resv.lock();
        try {
            assertThat(resv.reservedSlots()).isZero();
            assertThatThrownBy(() -> resv.addFence(pending().fence(), Usage.WRITE))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("0 are reserved");
        } finally {
            resv.unlock();
        }
    }

    /** Writing without the lock is refused, naming the reservation and the holder. */
    @Test
    void writingNeedsTheLock() throws Exception {
        Reservation resv = new Reservation(WwClass.waitDie("lockless"), "buf-3");
        Fence f = pending().fence();
        assertThatThrownBy(() -> resv.reserveFences(1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("reserveFences on buf-3 needs its lock");
        assertThatThrownBy(() -> resv.addFence(f, Usage.READ)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("addFence on buf-3 needs its lock");
        assertThatThrownBy(() -> resv.replaceFences(1, f, Usage.READ)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> resv.copyFrom(new Reservation())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> resv.reserveFences(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative");
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread other = Thread.ofPlatform().name("holder").start(() -> {
            resv.lock();
            held.countDown();
            awaitQuietly(done);
            resv.unlock();
        });
        held.await();
        assertThatThrownBy(() -> resv.reserveFences(1)).hasMessageContaining("held by holder");
        assertThatThrownBy(resv::unlock).isInstanceOf(WwMisuseException.class);
        done.countDown();
        other.join();
    }

    /** tryLock fails, without waiting, while another thread holds the reservation. */
    @Test
    void tryLockFailsWhileAnotherHolds() throws Exception {
        WwClass cls = WwClass.waitDie("try");
        Reservation resv = new Reservation(cls, "busy");
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread other = Thread.ofPlatform().name("holder").start(() -> {
            resv.lock();
            held.countDown();
            awaitQuietly(done);
            resv.unlock();
        });
        held.await();
        try {
            assertThat(resv.tryLock()).isFalse();
            try (AcquireContext ctx = cls.begin()) {
                assertThat(resv.tryLock(ctx)).isEqualTo(LockResult.BUSY);
            }
            assertThat(resv.mutex().isHeldByCurrentThread()).isFalse();
        } finally {
            done.countDown();
            other.join();
        }
    }

    /**
     * The misuse check races with the holder's unlock: whatever the interleaving, a thread that
     * does not hold the lock gets the IllegalStateException, never a NullPointerException from
     * reading the holder after it left.
     */
    @Test
    void checkHeldRacingUnlockGivesTheMisuseException() throws Exception {
        Reservation resv = new Reservation(WwClass.waitDie("race"), "raced");
        AtomicBoolean stop = new AtomicBoolean();
        CyclicBarrier start = new CyclicBarrier(2);
        Thread cycler = Thread.ofPlatform().name("cycler").start(() -> {
            try {
                start.await();
                while (!stop.get()) {
                    resv.lock();
                    resv.unlock();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<Throwable> wrong = new ArrayList<>();
        try {
            start.await();
            for (int i = 0; i < 100_000 && wrong.isEmpty(); i++) {
                try {
                    resv.reserveFences(1);
                    wrong.add(new AssertionError("reserveFences succeeded without the lock"));
                } catch (IllegalStateException expected) {
                    // the misuse exception, with or without a holder named
                } catch (Throwable t) {
                    wrong.add(t);
                }
            }
        } finally {
            stop.set(true);
            cycler.join();
        }
        assertThat(wrong).isEmpty();
    }

    /** Bad input is refused the same way whatever the state: a null usage with and without fences. */
    @Test
    void nullUsageIsRefusedInEveryState() {
        Reservation empty = new Reservation();
        Reservation busy = new Reservation();
        add(busy, pending().fence(), Usage.WRITE);
        for (Reservation resv : List.of(empty, busy)) {
            assertThatThrownBy(() -> resv.fences(null)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("usage");
            assertThatThrownBy(() -> resv.isSignaled(null)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("usage");
            assertThatThrownBy(() -> resv.singleton(null)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("usage");
            assertThatThrownBy(() -> resv.await(null, Duration.ZERO)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("usage");
            assertThatThrownBy(() -> resv.await(null)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("usage");
            assertThatThrownBy(() -> resv.setDeadline(null, 0L)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("usage");
            assertThatThrownBy(() -> resv.await(Usage.READ, null)).isExactlyInstanceOf(NullPointerException.class)
                    .hasMessageContaining("timeout");
        }
    }

    /** Lock operations delegate to the wound/wait mutex, with and without a context. */
    @Test
    void lockingDelegatesToWw() throws Exception {
        WwClass cls = WwClass.woundWait("delegate");
        Reservation resv = new Reservation(cls);
        assertThat(resv.reservation()).isSameAs(resv);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(resv.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(resv.lock(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(resv.tryLock(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(resv.mutex().isHeldBy(ctx)).isTrue();
            resv.unlock();
            assertThat(resv.tryLock(ctx)).isEqualTo(LockResult.ACQUIRED);
            resv.unlock();
            assertThat(resv.lockInterruptibly(ctx)).isEqualTo(LockResult.ACQUIRED);
            resv.unlock();
        }
        assertThat(resv.tryLock()).isTrue();
        resv.unlock();
        assertThat(Reservation.DEFAULT_CLASS.algorithm()).isEqualTo(WwClass.Algorithm.WAIT_DIE);
    }

    // ---------------------------------------------------------------- reading

    /** singleton: none, the one fence, or an array of the pending ones. */
    @Test
    void singletonCases() {
        Reservation resv = new Reservation();
        assertThat(resv.singleton(Usage.BOOKKEEP)).isEmpty();
        Fence a = pendingOn(FenceContext.create("a")).fence();
        add(resv, a, Usage.WRITE);
        assertThat(resv.singleton(Usage.READ)).containsSame(a);
        Signaller b = pendingOn(FenceContext.create("b"));
        add(resv, b.fence(), Usage.READ);
        Optional<Fence> both = resv.singleton(Usage.READ);
        assertThat(both).get().isInstanceOf(FenceArray.class);
        assertThat(((FenceArray) both.get()).fences()).containsExactly(a, b.fence());
        assertThat(resv.singleton(Usage.WRITE)).containsSame(a);
    }

    /** await waits for the usage asked, times out distinctly, and a zero timeout polls. */
    @Test
    void awaitByUsage() throws Exception {
        Reservation resv = new Reservation();
        Signaller writer = pendingOn(FenceContext.create("w"));
        Signaller reader = pendingOn(FenceContext.create("r"));
        add(resv, writer.fence(), Usage.WRITE);
        add(resv, reader.fence(), Usage.READ);
        assertThat(resv.await(Usage.WRITE, Duration.ZERO)).isFalse();
        assertThat(resv.await(Usage.WRITE, Duration.ofMillis(20))).isFalse();
        writer.signal();
        assertThat(resv.await(Usage.WRITE, Duration.ZERO)).isTrue();    // a reader waits for writers only
        assertThat(resv.await(Usage.READ, Duration.ZERO)).isFalse();    // a writer waits for readers too
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                resv.await(Usage.READ);
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        reader.signal();
        waiter.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(waiter.isAlive()).isFalse();
        assertThat(failure.get()).isNull();
        assertThatThrownBy(() -> resv.await(Usage.READ, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** setDeadline passes the hint to the fences of the usage asked, and not to others. */
    @Test
    void setDeadlineReachesTheFencesOfTheUsage() {
        Reservation resv = new Reservation();
        Signaller writer = pendingOn(FenceContext.create("w"));
        Signaller keeper = pendingOn(FenceContext.create("k"));
        add(resv, writer.fence(), Usage.WRITE);
        add(resv, keeper.fence(), Usage.BOOKKEEP);
        long deadline = System.nanoTime() + 1_000_000;
        resv.setDeadline(Usage.READ, deadline);
        assertThat(writer.deadline()).hasValue(deadline);
        assertThat(keeper.deadline()).isEmpty();
    }

    /** copyFrom replaces the fences with the other reservation's, all usages. */
    @Test
    void copyFromTakesAllFences() {
        Reservation src = new Reservation();
        Reservation dst = new Reservation();
        Fence a = pendingOn(FenceContext.create("a")).fence();
        Fence b = pendingOn(FenceContext.create("b")).fence();
        Fence old = pendingOn(FenceContext.create("old")).fence();
        add(src, a, Usage.KERNEL);
        add(src, b, Usage.BOOKKEEP);
        add(dst, old, Usage.WRITE);
        dst.lock();
        dst.copyFrom(src);
        dst.unlock();
        assertThat(dst.fences(Usage.BOOKKEEP)).containsExactly(a, b);
        assertThat(dst.fences(Usage.KERNEL)).containsExactly(a);
    }

    /** toString names the reservation, its lock state and each fence with its usage. */
    @Test
    void toStringDescribesFences() {
        Reservation resv = new Reservation(Reservation.DEFAULT_CLASS, "camera-0");
        assertThat(resv.toString()).isEqualTo("camera-0[unlocked]");
        Fence f = pending().fence();
        add(resv, f, Usage.WRITE);
        assertThat(resv.toString()).startsWith("camera-0[unlocked, fences=[write ").contains("resv-test");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
