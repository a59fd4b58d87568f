package dev.bufsync.buffer;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.check.DependencyCycle;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceAbandonedException;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unit tests of {@link BufferSync}: the dmabuf-sync flow (init, get, lock, access, unlock, put,
 * fini), its ordering by fences (readers together, writers alone, devices included), many threads
 * in different orders with injected back-offs, and the misuse it refuses.
 */
class BufferSyncTest {
    private final Producer producer = new Producer("sync-test");

    @AfterEach
    void cleanUp() {
        producer.close();
    }

    // ---------------------------------------------------------------- the proposal's flow

    /**
     * init, get with access types, lock, work, unlock, put, fini: the section's fence is on each
     * buffer with the usage of its access, conflicting users wait for it, and unlock releases them.
     */
    @Test
    void proposalFlow() throws Exception {
        SharedBuffer src = producer.buffer("src");
        SharedBuffer dst = producer.buffer("dst");
        try (CpuAccess cpu = src.beginCpuAccess(Access.WRITE, Duration.ZERO)) {
            cpu.segment().set(JAVA_LONG, 16, 77L);
        }
        try (BufferSync sync = BufferSync.init("compose")) {
            assertThat(sync.name()).isEqualTo("compose");
            sync.get(src, Access.READ);
            sync.get(dst, Access.WRITE);
            assertThat(sync.buffers()).containsExactly(src, dst);
            sync.lock();
            assertThat(sync.isLocked()).isTrue();
            Fence section = sync.fence();
            assertThat(src.reservation().fences(Usage.READ)).containsExactly(section);
            assertThat(src.reservation().fences(Usage.WRITE)).isEmpty();
            assertThat(dst.reservation().fences(Usage.WRITE)).containsExactly(section);
            assertThat(src.reservation().isLocked()).as("locks held during the access").isFalse();
            MemorySegment in = sync.segment(src);
            MemorySegment out = sync.segment(dst);
            assertThat(in.isReadOnly()).isTrue();
            assertThatThrownBy(() -> in.set(JAVA_LONG, 0, 1L)).isInstanceOf(IllegalArgumentException.class);
            MemorySegment.copy(in, 0, out, 0, src.size());
            assertThatThrownBy(() -> dst.beginCpuAccess(Access.READ, Duration.ZERO))
                    .as("a reader of the written buffer waits").isInstanceOf(TimeoutException.class);
            assertThatThrownBy(() -> src.beginCpuAccess(Access.WRITE, Duration.ZERO))
                    .as("a writer of the read buffer waits").isInstanceOf(TimeoutException.class);
            src.beginCpuAccess(Access.READ, Duration.ZERO).close();
            assertThat(src.exportFence(Access.WRITE)).isSameAs(section);
            sync.unlock();
            assertThat(section.isSignaled()).isTrue();
            assertThat(sync.isLocked()).isFalse();
            try (CpuAccess cpu = dst.beginCpuAccess(Access.READ, Duration.ZERO)) {
                assertThat(cpu.segment().get(JAVA_LONG, 16)).isEqualTo(77L);
            }
            sync.put(src);
            assertThat(sync.buffers()).containsExactly(dst);
            sync.putAll();
            assertThat(sync.buffers()).isEmpty();
            assertThat(sync.toString()).contains("compose", "unlocked");
        }
    }

    /** A sync locks again after an unlock; each section's fence replaces the previous one on a buffer. */
    @Test
    void lockAgainAfterUnlock() throws Exception {
        SharedBuffer buf = producer.buffer("again");
        try (BufferSync sync = BufferSync.init("again")) {
            sync.get(buf, Access.WRITE);
            sync.lock();
            Fence first = sync.fence();
            sync.unlock();
            sync.lock(Duration.ZERO);
            Fence second = sync.fence();
            assertThat(second).isNotSameAs(first);
            assertThat(second.context()).isEqualTo(first.context());
            assertThat(buf.reservation().fences(Usage.BOOKKEEP)).containsExactly(second);
        }
        assertThat(buf.reservation().fences(Usage.BOOKKEEP)).as("fini unlocked").isEmpty();
    }

    // ---------------------------------------------------------------- ordering by fences

    /** lock waits for an earlier device writer (and a write lock for a device reader); a read lock not for readers. */
    @Test
    void lockWaitsForEarlierConflictingDeviceWork() throws Exception {
        SharedBuffer buf = producer.buffer("device");
        Signaller deviceRead = producer.attach(buf, Usage.READ);
        try (BufferSync reader = BufferSync.init("reader"); BufferSync writer = BufferSync.init("writer")) {
            reader.get(buf, Access.READ);
            writer.get(buf, Access.WRITE);
            reader.lock(Duration.ZERO);
            reader.unlock();
            assertThatThrownBy(() -> writer.lock(Duration.ZERO)).isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("writer").hasMessageContaining(deviceRead.fence().toString());
            assertThat(writer.isLocked()).isFalse();
            assertThat(buf.reservation().fences(Usage.BOOKKEEP)).as("the timed-out section left no fence pending")
                    .containsExactly(deviceRead.fence());
            deviceRead.signal();
            Signaller deviceWrite = producer.attach(buf, Usage.WRITE);
            assertThatThrownBy(() -> reader.lock(Duration.ZERO)).isInstanceOf(TimeoutException.class);
            deviceWrite.signal();
            reader.lock(Duration.ZERO);
            reader.unlock();
        }
    }

    /** Readers hold their sections together; a writer waits for all of them, and readers after it wait for it. */
    @Test
    void readersTogetherWriterAlone() throws Exception {
        SharedBuffer buf = producer.buffer("shared");
        try (BufferSync r1 = BufferSync.init("r1"); BufferSync r2 = BufferSync.init("r2");
                BufferSync w = BufferSync.init("w"); BufferSync r3 = BufferSync.init("r3")) {
            r1.get(buf, Access.READ);
            r2.get(buf, Access.READ);
            w.get(buf, Access.WRITE);
            r3.get(buf, Access.READ);
            r1.lock(Duration.ZERO);
            r2.lock(Duration.ZERO);                               // does not wait for r1
            assertThatThrownBy(() -> w.lock(Duration.ZERO)).isInstanceOf(TimeoutException.class);
            r1.unlock();
            assertThatThrownBy(() -> w.lock(Duration.ZERO)).isInstanceOf(TimeoutException.class);
            r2.unlock();
            w.lock(Duration.ZERO);
            assertThatThrownBy(() -> r3.lock(Duration.ZERO)).isInstanceOf(TimeoutException.class);
            w.unlock();
            r3.lock(Duration.ZERO);
            r3.unlock();
        }
    }

    /** A blocked lock returns once the earlier conflicting section is unlocked, and sees what it wrote. */
    @Test
    void blockedLockProceedsAfterUnlock() throws Exception {
        SharedBuffer buf = producer.buffer("handoff");
        BufferSync first = BufferSync.init("first");
        first.get(buf, Access.WRITE);
        first.lock();
        Fence firstSection = first.fence();
        AtomicBoolean unlockedWhenLocked = new AtomicBoolean();
        AtomicLong seen = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread second = Thread.ofPlatform().name("second").start(() -> {
            try (BufferSync sync = BufferSync.init("second")) {
                sync.get(buf, Access.READ);
                sync.lock();
                unlockedWhenLocked.set(firstSection.isSignaled());
                seen.set(sync.segment(buf).get(JAVA_LONG, 0));
                sync.unlock();
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Producer.awaitParked(second);
        first.segment(buf).set(JAVA_LONG, 0, 99L);
        first.unlock();
        first.close();
        second.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failure.get()).isNull();
        assertThat(unlockedWhenLocked.get()).as("locked before the earlier writer unlocked").isTrue();
        assertThat(seen.get()).isEqualTo(99L);
    }

    /** An interrupt while waiting for earlier users ends lock with nothing locked and no fence left pending. */
    @Test
    void lockIsInterruptible() throws Exception {
        SharedBuffer buf = producer.buffer("interrupt");
        Signaller device = producer.attach(buf, Usage.WRITE);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean lockedAfter = new AtomicBoolean(true);
        Thread waiter = Thread.ofPlatform().name("waiter").start(() -> {
            try (BufferSync sync = BufferSync.init("interrupted")) {
                sync.get(buf, Access.READ);
                try {
                    sync.lock();
                } catch (InterruptedException e) {
                    thrown.set(e);
                }
                lockedAfter.set(sync.isLocked());
            }
        });
        Producer.awaitParked(waiter);
        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(lockedAfter.get()).isFalse();
        assertThat(buf.reservation().fences(Usage.BOOKKEEP)).containsExactly(device.fence());
    }

    /**
     * A locked sync that becomes unreachable cannot be unlocked by anyone: the fence reaper fails
     * its section's fence, so later users are not stuck (where the 2013 proposal force-unlocked
     * live sections on a timer).
     */
    @Test
    void forgottenLockedSyncReleasesItsBuffers() throws Exception {
        SharedBuffer buf = producer.buffer("forgotten");
        Set<Fence> reported = ConcurrentHashMap.newKeySet();
        Fences.setAbandonedHandler(reported::add);
        try {
            Fence section = lockAndForget(buf);
            for (int i = 0; i < 50 && !reported.contains(section); i++) {
                System.gc();
                section.await(Duration.ofMillis(20));
            }
            assertThat(reported).contains(section);
            assertThat(section.error()).isInstanceOf(FenceAbandonedException.class);
            try (BufferSync next = BufferSync.init("next")) {
                next.get(buf, Access.WRITE);
                next.lock(Duration.ZERO);
            }
        } finally {
            Fences.setAbandonedHandler(null);
        }
    }

    private static Fence lockAndForget(SharedBuffer buf) throws InterruptedException {
        BufferSync sync = BufferSync.init("forgotten");
        sync.get(buf, Access.WRITE);
        sync.lock();
        return sync.fence();
    }

    // ---------------------------------------------------------------- many threads

    /**
     * The proposal's flow from several threads on several buffers, got in random orders with
     * random access types, with back-off injection on the buffers' class so that every lock takes
     * the retry path: no deadlock, writers exclude everyone (a read-modify-write counter per buffer
     * loses no increment, a reader never sees it change), and back-offs did happen.
     */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    @Tag("stress")              // left out of mutation runs: 4,000 rounds under PIT's coverage on a loaded machine outlast the join
    void manyThreadsInDifferentOrdersWithInjectedBackoffs(WwClass.Algorithm algorithm) throws Exception {
        WwClass cls = WwClass.builder("sync-" + algorithm).algorithm(algorithm).injectBackoff(true).build();
        int nBuffers = 6;
        int threads = 4;
        int rounds = 1000;
        List<SharedBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < nBuffers; i++) {
            buffers.add(producer.track(SharedBuffer.allocate("b" + i, 64, cls)));
        }
        AtomicIntegerArray writes = new AtomicIntegerArray(nBuffers);
        AtomicLong retries = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long seed = 42L * (t + 1);
            workers.add(Thread.ofPlatform().name("sync-worker-" + t).start(() -> {
                SplittableRandom rnd = new SplittableRandom(seed);
                try {
                    start.await();
                    for (int r = 0; r < rounds && failure.get() == null; r++) {
                        List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5));
                        Collections.shuffle(order, new java.util.Random(rnd.nextLong()));
                        List<Integer> chosen = order.subList(0, 1 + rnd.nextInt(4));
                        try (BufferSync sync = BufferSync.init("w" + seed + "-" + r)) {
                            List<Access> accesses = new ArrayList<>();
                            for (int b : chosen) {
                                Access a = rnd.nextBoolean() ? Access.WRITE : Access.READ;
                                accesses.add(a);
                                sync.get(buffers.get(b), a);
                            }
                            sync.lock(Duration.ofSeconds(30));
                            for (int i = 0; i < chosen.size(); i++) {
                                int b = chosen.get(i);
                                MemorySegment seg = sync.segment(buffers.get(b));
                                long before = seg.get(JAVA_LONG, 0);
                                Thread.yield();                  // let a broken exclusion show
                                if (accesses.get(i) == Access.WRITE) {
                                    seg.set(JAVA_LONG, 0, before + 1);
                                    writes.incrementAndGet(b);
                                } else if (seg.get(JAVA_LONG, 0) != before) {
                                    throw new AssertionError("a writer ran during a read section of b" + b);
                                }
                            }
                            sync.unlock();
                            retries.addAndGet(sync.retries());
                            for (int b : chosen) {
                                sync.put(buffers.get(b));
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) {
            w.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(w.isAlive()).as("%s deadlocked or starved", w.getName()).isFalse();
        }
        assertThat(failure.get()).isNull();
        for (int b = 0; b < nBuffers; b++) {
            try (CpuAccess cpu = buffers.get(b).beginCpuAccess(Access.READ, Duration.ZERO)) {
                assertThat(cpu.segment().get(JAVA_LONG, 0)).as("increments of b%d", b).isEqualTo(writes.get(b));
            }
        }
        assertThat(cls.stats().injected()).as("injected back-offs").isPositive();
        assertThat(retries.get()).as("syncs that retried").isPositive();
    }

    // ---------------------------------------------------------------- misuse

    /** Locking twice, adding or putting after lock, and unlocking without a lock are refused. */
    @Test
    void misuseOfTheLockIsRefused() throws Exception {
        SharedBuffer a = producer.buffer("a");
        SharedBuffer b = producer.buffer("b");
        try (BufferSync sync = BufferSync.init("misuse")) {
            assertThatThrownBy(sync::unlock).isInstanceOf(IllegalStateException.class)
                    .hasMessage("unlock on BufferSync 'misuse': not locked");
            assertThatThrownBy(() -> sync.lock(Duration.ofNanos(-1))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("lock on BufferSync 'misuse': negative timeout PT-0.000000001S");
            assertThatThrownBy(() -> sync.segment(a)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("not locked");
            assertThatThrownBy(sync::fence).isInstanceOf(IllegalStateException.class);
            sync.get(a, Access.WRITE);
            sync.lock();
            assertThatThrownBy(sync::lock).isInstanceOf(IllegalStateException.class).hasMessageContaining("already locked");
            assertThatThrownBy(() -> sync.lock(Duration.ZERO)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already locked");
            assertThatThrownBy(() -> sync.get(b, Access.READ)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("get(b)").hasMessageContaining("locked; unlock first");
            assertThatThrownBy(() -> sync.put(a)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("locked; unlock first");
            assertThatThrownBy(sync::putAll).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> sync.segment(b)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not got");
            assertThat(sync.isLocked()).as("misuse changed nothing").isTrue();
            sync.unlock();
            assertThatThrownBy(sync::unlock).isInstanceOf(IllegalStateException.class).hasMessageContaining("not locked");
        }
    }

    /** A buffer got twice, of another lock class, not got, or beyond an attachment's rights is refused. */
    @Test
    void misuseOfBuffersIsRefused() {
        SharedBuffer a = producer.buffer("a");
        SharedBuffer other = producer.track(SharedBuffer.allocate("other", 64, WwClass.woundWait("elsewhere")));
        Attachment display = a.attach("display", Access.READ);
        try (BufferSync sync = BufferSync.init("buffers")) {
            sync.get(a, Access.READ);
            assertThatThrownBy(() -> sync.get(a, Access.WRITE)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("already got");
            assertThatThrownBy(() -> sync.get(other, Access.READ)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("elsewhere").hasMessageContaining("share a class");
            assertThatThrownBy(() -> sync.put(other)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not got");
            sync.put(a);
            assertThatThrownBy(() -> sync.get(display, Access.WRITE)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("rights are READ");
            sync.get(display, Access.READ);
            assertThat(sync.buffers()).containsExactly(a);
            display.detach();
            sync.putAll();
            assertThatThrownBy(() -> sync.get(display, Access.READ)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("detached");
        }
    }

    /** Everything after close is refused, a second close included; close while locked unlocks (fini). */
    @Test
    void useAfterCloseIsRefused() throws Exception {
        SharedBuffer a = producer.buffer("a");
        BufferSync sync = BufferSync.init("finished");
        sync.get(a, Access.WRITE);
        sync.lock();
        Fence section = sync.fence();
        sync.close();
        assertThat(section.isSignaled()).as("fini unlocks").isTrue();
        assertThat(sync.buffers()).as("fini puts").isEmpty();
        List<ThrowingCallable> operations = List.of(
                () -> sync.get(a, Access.READ),
                () -> sync.put(a),
                sync::putAll,
                sync::lock,
                () -> sync.lock(Duration.ZERO),
                sync::unlock,
                () -> sync.segment(a),
                sync::fence);
        for (ThrowingCallable op : operations) {
            assertThatThrownBy(op).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("on BufferSync 'finished': ").hasMessageEndingWith(": closed");
        }
        sync.close();                                        // idempotent
        assertThat(sync.toString()).contains("closed");
    }

    /**
     * A close that begins while lock waits for a buffer's reservation is seen under the lock:
     * lock fails with BufferClosedException and publishes nothing, and the close then frees.
     */
    @Test
    void lockSeesCloseUnderTheLock() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("closing-under-lock", 64);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread locker;
        try (ReservationHolder holder = ReservationHolder.of(buf)) {
            locker = Thread.ofPlatform().name("locker").start(() -> {
                try (BufferSync sync = BufferSync.init("late")) {
                    sync.get(buf, Access.WRITE);
                    sync.lock();
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            holder.awaitWaiters(1);
            assertThat(buf.close(Duration.ZERO)).as("the reservation is held").isFalse();
        }
        locker.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(thrown.get()).isInstanceOf(BufferClosedException.class).hasMessageContaining("closing");
        assertThat(buf.reservation().fences(Usage.BOOKKEEP)).isEmpty();
        assertThat(buf.close(Duration.ZERO)).isTrue();
    }

    /**
     * lock refuses a closing buffer before it takes any lock: with the buffer's reservation held
     * elsewhere and an interrupt pending, it reports the closing buffer, not the interrupt that
     * waiting for the lock would have reported, and leaves the interrupt set.
     */
    @Test
    void lockOfAClosingBufferIsRefusedBeforeLocking() throws Exception {
        SharedBuffer buf = producer.buffer("closing-early");
        try (BufferSync sync = BufferSync.init("early"); ReservationHolder holder = ReservationHolder.of(buf)) {
            sync.get(buf, Access.WRITE);
            assertThat(buf.close(Duration.ZERO)).as("the reservation is held").isFalse();
            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(sync::lock).isInstanceOf(BufferClosedException.class)
                        .hasMessageContaining("closing-early");
            } finally {
                assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
            }
        }
    }

    /**
     * retries() adds up the back-offs of every lock of the sync: with back-off injection on the
     * buffers' class, a sync of many buffers backs off at least once in one lock and again in the
     * next, and still locks them all.
     */
    @Test
    void retriesCountEveryBackoff() throws Exception {
        WwClass cls = WwClass.builder("sync-retries").injectBackoff(true).build();
        try (BufferSync sync = BufferSync.init("retrying")) {
            for (int i = 0; i < 20; i++) {                    // injection begins within 16 locks
                sync.get(producer.track(SharedBuffer.allocate("r" + i, 64, cls)), Access.WRITE);
            }
            assertThat(sync.retries()).isZero();
            sync.lock();
            int first = sync.retries();
            assertThat(first).as("retries of the first lock").isPositive();
            assertThat(cls.stats().injected()).isGreaterThanOrEqualTo(first);
            sync.unlock();
            sync.lock();
            assertThat(sync.retries()).as("retries of both locks").isGreaterThan(first);
            for (SharedBuffer b : sync.buffers()) {
                assertThat(b.reservation().fences(Usage.WRITE)).containsExactly(sync.fence());
            }
        }
    }

    /**
     * The checker's signalling section of a locked section lasts from the publication of its
     * fence to the unlock, or to the timeout of a lock that gave up: afterwards the thread may
     * take a reservation lock that someone holds while waiting for the sync's fences.
     */
    @Test
    void signallingSectionEndsWithUnlockAndWithATimedOutLock() throws Exception {
        SharedBuffer buf = producer.buffer("annotated");
        Reservation other = new Reservation();
        List<DependencyCycle> reported = new CopyOnWriteArrayList<>();
        Consumer<DependencyCycle> listener = reported::add;
        CheckPolicy runPolicy = Checker.policy();
        Checker.setPolicy(CheckPolicy.THROW);
        Checker.reset();
        Checker.addCycleListener(listener);
        try (BufferSync sync = BufferSync.init("annotated")) {
            sync.get(buf, Access.WRITE);
            sync.lock();
            Fence section = sync.fence();
            sync.unlock();
            other.lock();
            try {
                section.await(Duration.ofMillis(1));        // `other` held, then the sync's context
            } finally {
                other.unlock();
            }
            other.lock();                                   // after unlock: outside the section
            other.unlock();
            Signaller earlier = producer.attach(buf, Usage.WRITE);
            assertThatThrownBy(() -> sync.lock(Duration.ZERO)).isInstanceOf(TimeoutException.class);
            other.lock();                                   // after the timeout: outside the section
            other.unlock();
            earlier.signal();
        } finally {
            Checker.removeCycleListener(listener);
            Checker.reset();
            Checker.setPolicy(runPolicy);
        }
        assertThat(reported).isEmpty();
    }

    /** A closed buffer cannot be got, and a buffer closed after get makes lock fail with nothing locked. */
    @Test
    void closedBuffersAreRefused() throws Exception {
        SharedBuffer open = producer.buffer("open");
        SharedBuffer gone = SharedBuffer.allocate("gone", 64);
        Attachment revoked = gone.attach("display", Access.READ);      // detached by the buffer's close
        try (BufferSync sync = BufferSync.init("closed-buffers")) {
            sync.get(open, Access.WRITE);
            sync.get(gone, Access.WRITE);
            assertThat(gone.close(Duration.ZERO)).isTrue();
            assertThatThrownBy(sync::lock).isInstanceOf(BufferClosedException.class).hasMessageContaining("gone");
            assertThat(sync.isLocked()).isFalse();
            assertThat(open.reservation().isLocked()).isFalse();
            assertThat(open.reservation().fences(Usage.BOOKKEEP)).isEmpty();
            sync.put(gone);
            assertThatThrownBy(() -> sync.get(gone, Access.READ)).isInstanceOf(BufferClosedException.class);
            assertThatThrownBy(() -> sync.get(revoked, Access.READ)).isInstanceOf(BufferClosedException.class)
                    .hasMessageContaining("gone");
            sync.lock();
        }
    }
}
