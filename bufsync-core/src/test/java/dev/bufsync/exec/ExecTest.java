package dev.bufsync.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMisuseException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Unit tests of {@link Exec}: the kernel's drm_exec KUnit suite and the retry loop. */
class ExecTest {
    private final WwClass cls = WwClass.builder("exec-test").algorithm(WwClass.Algorithm.WAIT_DIE)
            .injectBackoff(false).build();

    private Reservation resv(String name) {
        return new Reservation(cls, name);
    }

    /** A GEM-object-like test object that has a reservation. */
    private record Obj(Reservation reservation) implements HasReservation {
    }

    /**
     * Another transaction, begun before the test's own (so the older under wait-die), on a platform
     * thread named {@code older}: it locks one object in an {@link Exec} and holds it until
     * {@link #release()}.
     */
    private static final class OlderHolder {
        private final CountDownLatch release = new CountDownLatch(1);
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private Thread thread;

        private OlderHolder() {
        }

        /**
         * Starts the older transaction on {@code o}.
         *
         * @return once {@code o} is held by the older transaction, so that a later transaction
         *         meets the contention
         */
        static OlderHolder holding(Obj o) throws InterruptedException {
            OlderHolder h = new OlderHolder();
            CountDownLatch holds = new CountDownLatch(1);
            h.thread = Thread.ofPlatform().name("older").start(() -> {
                try (Exec exec = Exec.begin()) {
                    exec.untilAllLocked(e -> e.lock(o));
                    holds.countDown();
                    h.release.await();
                } catch (Throwable t) {
                    h.failure.set(t);
                }
            });
            holds.await();
            return h;
        }

        /** Lets the older transaction finish, which unlocks its object; idempotent. */
        void release() {
            release.countDown();
        }

        /** Whether {@link #release()} has been called. */
        boolean released() {
            return release.getCount() == 0;
        }

        /** Waits up to {@code millis} for the older transaction's thread to end. */
        void join(long millis) throws InterruptedException {
            thread.join(millis);
        }

        /** What the older transaction threw, or {@code null} if nothing. */
        Throwable failure() {
            return failure.get();
        }
    }

    // ---------------------------------------------------------------- drm_exec KUnit

    /** sanitycheck: begin and close. */
    @Test
    void sanitycheck() {
        Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE);
        exec.close();
        assertThat(exec.locked()).isEmpty();
    }

    /** test_lock: one object locks. */
    @Test
    void lock() throws Exception {
        Obj obj = new Obj(resv("obj"));
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            exec.untilAllLocked(e -> assertThat(e.lock(obj)).isTrue());
            assertThat(exec.locked()).containsExactly(obj);
            assertThat(obj.reservation().mutex().isHeldByCurrentThread()).isTrue();
        }
        assertThat(obj.reservation().isLocked()).isFalse();
    }

    /** test_lock_unlock: lock, unlock early, lock again in a new exec. */
    @Test
    void lockUnlock() throws Exception {
        Obj obj = new Obj(resv("obj"));
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            exec.untilAllLocked(e -> e.lock(obj));
            exec.unlock(obj);
            assertThat(obj.reservation().isLocked()).isFalse();
            assertThat(exec.locked()).isEmpty();
            assertThatThrownBy(() -> exec.unlock(obj)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("does not hold");
        }
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            exec.untilAllLocked(e -> e.lock(obj));
            assertThat(exec.locked()).containsExactly(obj);
        }
    }

    /** test_duplicates: with IGNORE_DUPLICATES a second lock of an object is a no-op. */
    @Test
    void duplicates() throws Exception {
        Obj obj = new Obj(resv("obj"));
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE, Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                assertThat(e.lock(obj)).isTrue();
                assertThat(e.lock(obj)).isFalse();
            });
            assertThat(exec.locked()).containsExactly(obj);
        }
        assertThat(obj.reservation().isLocked()).isFalse();
    }

    /** Without IGNORE_DUPLICATES a second lock is reported, naming the object, and changes nothing. */
    @Test
    void duplicatesAreReported() throws Exception {
        Obj obj = new Obj(resv("buffer-9"));
        try (Exec exec = Exec.begin()) {
            AtomicReference<ExecDuplicateException> thrown = new AtomicReference<>();
            exec.untilAllLocked(e -> {
                e.lock(obj);
                try {
                    e.lock(obj);
                } catch (ExecDuplicateException x) {
                    thrown.set(x);
                }
            });
            assertThat(thrown.get()).isNotNull().hasMessageContaining("buffer-9");
            assertThat(thrown.get().object()).isSameAs(obj);
            assertThat(exec.locked()).containsExactly(obj);
        }
        assertThat(obj.reservation().isLocked()).isFalse();
    }

    /** test_prepare: lock and reserve one fence slot. */
    @Test
    void prepare() throws Exception {
        Obj obj = new Obj(resv("obj"));
        Signaller s = FenceContext.create("prepare").next();
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            exec.untilAllLocked(e -> e.prepare(obj, 1));
            assertThat(obj.reservation().reservedSlots()).isEqualTo(1);
            obj.reservation().addFence(s.fence(), Usage.WRITE);
        }
        assertThat(obj.reservation().fences(Usage.WRITE)).containsExactly(s.fence());
        s.signal();
    }

    /** test_prepare_array: prepare two objects at once. */
    @Test
    void prepareArray() throws Exception {
        Obj a = new Obj(resv("a"));
        Obj b = new Obj(resv("b"));
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            exec.untilAllLocked(e -> e.prepare(List.of(a, b), 1));
            assertThat(exec.locked()).containsExactly(a, b);
            assertThat(a.reservation().reservedSlots()).isEqualTo(1);
            assertThat(b.reservation().reservedSlots()).isEqualTo(1);
        }
    }

    /** test_multiple_loops: two execs, each leaving its loop at once, close cleanly. */
    @Test
    void multipleLoops() throws Exception {
        for (int i = 0; i < 2; i++) {
            try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
                exec.untilAllLocked(e -> { });
                assertThat(exec.context()).isNull();
                assertThat(exec.retries()).isZero();
            }
        }
    }

    // ---------------------------------------------------------------- the retry loop

    /**
     * With back-off injection every retry path runs: the body is run again, the contended object
     * is locked first and counts as newly locked, duplicates are still handled, and in the end all
     * objects are held exactly once.
     */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void retriesAfterInjectedBackoffs(WwClass.Algorithm algorithm) throws Exception {
        WwClass injecting = WwClass.builder("exec-inject").algorithm(algorithm).injectBackoff(true).build();
        List<Obj> objs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            objs.add(new Obj(new Reservation(injecting, "o" + i)));
        }
        AtomicInteger runs = new AtomicInteger();
        try (Exec exec = Exec.begin(Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                runs.incrementAndGet();
                for (Obj o : objs) {
                    e.prepare(o, 1);
                    e.lock(objs.get(0));                    // a duplicate on every step
                }
            });
            assertThat(exec.retries()).isPositive().isEqualTo(runs.get() - 1);
            assertThat(exec.locked()).containsExactlyInAnyOrderElementsOf(objs);
            assertThat(objs).allMatch(o -> o.reservation().mutex().isHeldByCurrentThread());
            assertThat(exec.context().backoffs()).isEqualTo(exec.retries());
        }
        assertThat(objs).noneMatch(o -> o.reservation().isLocked());
        assertThat(injecting.stats().injected()).isPositive();
    }

    /**
     * Real contention: another transaction holds an object; ours backs off (wait-die, it is
     * younger and holds a lock), waits on the slow path, and completes once the other finishes.
     */
    @Test
    void contentionIsResolvedByRetrying() throws Exception {
        Obj a = new Obj(resv("a"));
        Obj b = new Obj(resv("b"));
        OlderHolder other = OlderHolder.holding(b);
        AtomicInteger runs = new AtomicInteger();
        Thread releaser = Thread.ofPlatform().start(() -> {
            // Release the older transaction once ours has queued on b's slow path.
            while (b.reservation().mutex().waiterCount() == 0) {
                Thread.onSpinWait();
            }
            other.release();
        });
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                runs.incrementAndGet();
                e.lock(a);
                e.lock(b);
            });
            assertThat(exec.locked()).containsExactlyInAnyOrder(a, b);
            assertThat(exec.retries()).isEqualTo(1);
            assertThat(runs.get()).isEqualTo(2);
        }
        other.join(TimeUnit.SECONDS.toMillis(20));
        releaser.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(other.failure()).isNull();
    }

    /** With INTERRUPTIBLE an interrupt ends the loop; close still unlocks everything. */
    @Test
    void interruptibleWaitsEndTheLoop() throws Exception {
        Obj a = new Obj(resv("a"));
        Obj b = new Obj(resv("b"));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            b.reservation().lock();                                 // held without a context elsewhere
            held.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            b.reservation().unlock();
        });
        held.await();
        Thread me = Thread.currentThread();
        Thread interrupter = Thread.ofPlatform().start(() -> {
            while (b.reservation().mutex().waiterCount() == 0) {
                Thread.onSpinWait();
            }
            me.interrupt();
        });
        Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE);
        assertThatThrownBy(() -> exec.untilAllLocked(e -> {
            e.lock(a);
            e.lock(b);
        })).isInstanceOf(InterruptedException.class);
        assertThat(a.reservation().isLocked()).isTrue();
        exec.close();
        assertThat(a.reservation().isLocked()).isFalse();
        interrupter.join();
        done.countDown();
        holder.join();
        assertThat(b.reservation().isLocked()).isFalse();
    }

    /** Misuse: locking outside the loop, running the loop twice, using a closed or foreign exec. */
    @Test
    void misuseIsRefused() throws Exception {
        Obj a = new Obj(resv("a"));
        Exec exec = Exec.begin();
        assertThatThrownBy(() -> exec.lock(a)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("outside untilAllLocked");
        exec.untilAllLocked(e -> e.lock(a));
        assertThatThrownBy(() -> exec.untilAllLocked(e -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("runs once");
        assertThatThrownBy(() -> exec.lock(a)).isInstanceOf(IllegalStateException.class);
        AtomicReference<Throwable> foreign = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                exec.close();
            } catch (Throwable x) {
                foreign.set(x);
            }
        });
        t.join();
        assertThat(foreign.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("belongs to");
        exec.close();
        exec.close();                                               // idempotent
        assertThatThrownBy(() -> exec.untilAllLocked(e -> { })).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThat(a.reservation().isLocked()).isFalse();
        Obj foreignClass = new Obj(new Reservation(WwClass.woundWait("other"), "x"));
        try (Exec mixed = Exec.begin()) {
            assertThatThrownBy(() -> mixed.untilAllLocked(e -> {
                e.lock(a);
                e.lock(foreignClass);
            })).isInstanceOf(WwMisuseException.class).hasMessageContaining("WRONG_CLASS");
        }
        assertThat(a.reservation().isLocked()).isFalse();
    }

    // ---------------------------------------------------------------- exception safety

    /**
     * A body that catches RuntimeException swallows the contention signal: the exec notices when
     * the body returns, throws IllegalStateException naming the rule, and holds nothing.
     */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void swallowedContentionIsDetected(WwClass.Algorithm algorithm) {
        WwClass injecting = WwClass.builder("exec-swallow").algorithm(algorithm).injectBackoff(true).build();
        List<Obj> objs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            objs.add(new Obj(new Reservation(injecting, "s" + i)));
        }
        try (Exec exec = Exec.begin()) {
            assertThatThrownBy(() -> exec.untilAllLocked(e -> {
                try {
                    for (Obj o : objs) {
                        e.lock(o);
                    }
                } catch (RuntimeException swallowed) {
                    // the mistake under test
                }
            })).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("signalled a back-off")
                    .hasMessageContaining("must let RuntimeExceptions it does not own pass");
            assertThat(exec.locked()).isEmpty();
            assertThat(objs).noneMatch(o -> o.reservation().isLocked());
            assertThatThrownBy(() -> exec.lock(objs.get(0))).isInstanceOf(IllegalStateException.class);
        }
    }

    /**
     * A body that swallows the signal once and locks again gets the signal again: the back-off
     * stands until the exec has handled it, so the retry still happens and ends with every object
     * held.
     */
    @Test
    void contentionSignalIsSticky() throws Exception {
        WwClass injecting = WwClass.builder("exec-sticky").algorithm(WwClass.Algorithm.WAIT_DIE)
                .injectBackoff(true).build();
        List<Obj> objs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            objs.add(new Obj(new Reservation(injecting, "k" + i)));
        }
        AtomicInteger swallowed = new AtomicInteger();
        try (Exec exec = Exec.begin(Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                for (Obj o : objs) {
                    try {
                        e.lock(o);
                    } catch (RuntimeException signal) {
                        if (swallowed.getAndIncrement() > 0) {
                            throw signal;                   // swallowed once only
                        }
                    }
                }
            });
            assertThat(swallowed).hasValueGreaterThan(1);
            assertThat(exec.retries()).isPositive();
            assertThat(objs).allMatch(o -> o.reservation().mutex().isHeldByCurrentThread());
        }
    }

    /**
     * close attempts every unlock and always closes the context, then rethrows the first failure
     * with the rest suppressed; the thread can begin a new transaction afterwards.
     */
    @Test
    void closeReleasesEverythingThenRethrows() throws Exception {
        Obj a = new Obj(resv("a"));
        Obj b = new Obj(resv("b"));
        Obj c = new Obj(resv("c"));
        Obj d = new Obj(resv("d"));
        Exec exec = Exec.begin();
        exec.untilAllLocked(e -> {
            e.lock(a);
            e.lock(b);
            e.lock(c);
            e.lock(d);
        });
        b.reservation().unlock();                                   // behind the exec's back
        c.reservation().unlock();
        assertThatThrownBy(exec::close).isInstanceOf(WwMisuseException.class)
                .satisfies(t -> assertThat(t.getSuppressed()).singleElement().isInstanceOf(WwMisuseException.class));
        assertThat(List.of(a, b, c, d)).noneMatch(o -> o.reservation().isLocked());
        assertThat(exec.context().isClosed()).isTrue();
        exec.close();                                               // a second close does nothing
        try (Exec next = Exec.begin()) {
            next.untilAllLocked(e -> e.lock(a));
            assertThat(a.reservation().mutex().isHeldByCurrentThread()).isTrue();
        }
    }

    /**
     * unlock of the object the last back-off prelocked forgets the mark: locking it again in the
     * body really locks it.
     */
    @Test
    void unlockOfThePrelockedObjectForgetsIt() throws Exception {
        WwClass injecting = WwClass.builder("exec-prelocked").algorithm(WwClass.Algorithm.WOUND_WAIT)
                .injectBackoff(true).build();
        List<Obj> objs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            objs.add(new Obj(new Reservation(injecting, "p" + i)));
        }
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                if (!e.locked().isEmpty()) {
                    e.unlock(e.locked().get(0));                    // the prelocked object
                }
                for (Obj o : objs) {
                    e.lock(o);
                }
            });
            assertThat(exec.retries()).isPositive();
            assertThat(objs).allMatch(o -> o.reservation().mutex().isHeldByCurrentThread());
        }
    }

    /** Every operation but the queries belongs to the thread that began the exec. */
    @Test
    void execIsConfinedToItsThread() throws Exception {
        Obj a = new Obj(resv("a"));
        Exec exec = Exec.begin();
        List<Throwable> foreign = new ArrayList<>();
        Thread t = Thread.ofPlatform().start(() -> {
            foreign.add(catching(() -> exec.lock(a)));
            foreign.add(catching(() -> exec.untilAllLocked(e -> e.lock(a))));
        });
        t.join();
        exec.untilAllLocked(e -> e.lock(a));
        Thread u = Thread.ofPlatform().start(() -> {
            foreign.add(catching(() -> exec.unlock(a)));
            foreign.add(catching(exec::close));
        });
        u.join();
        assertThat(foreign).hasSize(4).allSatisfy(x -> assertThat(x).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("belongs to the thread that began it"));
        assertThat(a.reservation().mutex().isHeldByCurrentThread()).isTrue();
        exec.close();
        assertThat(a.reservation().isLocked()).isFalse();
    }

    /** The acquire phase ends when untilAllLocked returns: the context is done. */
    @Test
    void untilAllLockedEndsTheAcquirePhase() throws Exception {
        Obj a = new Obj(resv("a"));
        Obj b = new Obj(resv("b"));
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> e.lock(a));
            assertThat(exec.context().isDone()).isTrue();
            assertThatThrownBy(() -> b.reservation().lock(exec.context())).isInstanceOf(WwMisuseException.class);
        }
    }

    private static Throwable catching(ThrowingAction action) {
        try {
            action.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    @FunctionalInterface
    private interface ThrowingAction {
        void run() throws Exception;
    }

    // ---------------------------------------------------------------- found by mutation testing

    /** prepare returns what lock returns: true when it locked, false for an ignored duplicate. */
    @Test
    void prepareReportsWhetherItLocked() throws Exception {
        Obj a = new Obj(resv("a"));
        List<Boolean> results = new ArrayList<>();
        try (Exec exec = Exec.begin(Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                results.add(e.prepare(a, 1));
                results.add(e.prepare(a, 1));
            });
        }
        assertThat(results).containsExactly(true, false);
    }

    /**
     * After a back-off the exec locks the contended object on the slow path; the next run's lock of
     * it reports it as locked by this call.
     */
    @Test
    void lockReportsThePrelockedObjectAsLocked() throws Exception {
        List<Obj> objs = injectingObjects("prelocked");
        List<Boolean> lastRun = new ArrayList<>();
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                lastRun.clear();
                for (Obj o : objs) {
                    lastRun.add(e.lock(o));
                }
            });
            assertThat(exec.retries()).isPositive();
        }
        assertThat(lastRun).hasSize(objs.size()).containsOnly(true);
    }

    /**
     * With INTERRUPTIBLE the slow path after a back-off is interruptible too: an interrupt pending
     * when the exec waits for the contended object ends the loop.
     */
    @Test
    void interruptibleSlowPathEndsTheLoop() throws Exception {
        Obj a = new Obj(resv("a"));
        Obj b = new Obj(resv("b"));
        OlderHolder other = OlderHolder.holding(b);
        // Releases the older transaction if ours waits on b's slow path (an uninterruptible wait).
        Thread releaser = Thread.ofPlatform().start(() -> {
            while (b.reservation().mutex().waiterCount() == 0 && !other.released()) {
                Thread.onSpinWait();
            }
            other.release();
        });
        AtomicInteger runs = new AtomicInteger();
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            assertThatThrownBy(() -> exec.untilAllLocked(e -> {
                if (runs.incrementAndGet() > 1) {
                    Thread.interrupted();   // reached only if the slow path ignored the interrupt
                }
                e.lock(a);
                try {
                    e.lock(b);
                } catch (RuntimeException backoff) {
                    Thread.currentThread().interrupt();
                    throw backoff;
                }
            })).isInstanceOf(InterruptedException.class);
            assertThat(runs.get()).isEqualTo(1);
            assertThat(b.reservation().mutex().isHeldByCurrentThread()).isFalse();
        } finally {
            Thread.interrupted();
            other.release();
        }
        other.join(TimeUnit.SECONDS.toMillis(20));
        releaser.join(TimeUnit.SECONDS.toMillis(20));
        assertThat(other.failure()).isNull();
        assertThat(b.reservation().isLocked()).isFalse();
    }

    /** toString shows the phase, objects locked, retries and the context once there is one. */
    @Test
    void toStringDescribesTheExec() throws Exception {
        Obj a = new Obj(resv("a"));
        try (Exec exec = Exec.begin()) {
            assertThat(exec.toString()).isEqualTo("Exec[NEW, locked=0, retries=0]");
            exec.untilAllLocked(e -> e.lock(a));
            assertThat(exec.toString())
                    .isEqualTo("Exec[LOCKED, locked=1, retries=0, " + exec.context() + "]");
        }
    }

    /** An unlock failure while the exec backs off ends the loop with that failure. */
    @Test
    void unlockFailureOnBackoffIsRethrown() throws Exception {
        List<Obj> objs = injectingObjects("unlock-on-backoff");
        AtomicInteger runs = new AtomicInteger();
        try (Exec exec = Exec.begin()) {
            assertThatThrownBy(() -> exec.untilAllLocked(e -> {
                boolean first = runs.incrementAndGet() == 1;
                for (Obj o : objs) {
                    e.lock(o);
                    if (first && o == objs.get(0)) {
                        o.reservation().unlock();               // behind the exec's back
                    }
                }
            })).isInstanceOf(WwMisuseException.class);
            assertThat(runs.get()).isEqualTo(1);
        }
        assertThat(objs).noneMatch(o -> o.reservation().isLocked());
    }

    /** A swallowed back-off reports the unlock failures of the release as suppressed exceptions. */
    @Test
    void swallowedContentionKeepsTheUnlockFailure() throws Exception {
        List<Obj> objs = injectingObjects("swallowed-unlock");
        try (Exec exec = Exec.begin()) {
            assertThatThrownBy(() -> exec.untilAllLocked(e -> {
                e.lock(objs.get(0));
                objs.get(0).reservation().unlock();             // behind the exec's back
                try {
                    for (Obj o : objs.subList(1, objs.size())) {
                        e.lock(o);
                    }
                } catch (RuntimeException swallowed) {
                    // the misuse under test
                }
            })).isInstanceOf(IllegalStateException.class)
                    .satisfies(t -> assertThat(t.getSuppressed()).singleElement()
                            .isInstanceOf(WwMisuseException.class));
        }
        assertThat(objs).noneMatch(o -> o.reservation().isLocked());
    }

    /** Forty objects of a wait-die class with back-off injection: locking them all backs off. */
    private static List<Obj> injectingObjects(String name) {
        WwClass injecting = WwClass.builder("exec-" + name).algorithm(WwClass.Algorithm.WAIT_DIE)
                .injectBackoff(true).build();
        List<Obj> objs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            objs.add(new Obj(new Reservation(injecting, name + "-" + i)));
        }
        return objs;
    }
}
