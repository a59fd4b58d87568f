package dev.bufsync.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.check.DependencyCycle.Kind;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import dev.bufsync.ww.WwSharedMutex;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The checker's edges, cycles, stacks and policies. */
class CheckerTest {
    private final WwClass buffers = WwClass.woundWait("buffers");
    private final WwMutex buffer = new WwMutex(buffers);
    private final FenceContext gpu = FenceContext.create("gpu");
    @RegisterExtension
    final CheckerInThrowMode checker = new CheckerInThrowMode();
    private final List<DependencyCycle> reported = checker.reported();

    @AfterEach
    void clearScopedPolicies() {
        Checker.setPolicy(buffers, null);
        Checker.setPolicy(gpu, null);
        Checker.setPolicy("cache", null);
    }

    // ------------------------------------------------------------ helpers

    /** Holds {@code m} with a context while waiting (a poll of 1 ns) for {@code f}: m's class → f's context. */
    private static void waitHolding(WwMutex m, Fence f) throws Exception {
        try (AcquireContext ctx = m.wwClass().begin()) {
            m.lock(ctx);
            try {
                f.await(Duration.ofNanos(1));
            } finally {
                m.unlock();
            }
        }
    }

    /** Locks and unlocks {@code m} with a context inside a signalling section of {@code c}: c → m's class. */
    private static void lockInSection(FenceContext c, WwMutex m) throws Exception {
        try (SignallingSection s = SignallingSection.begin(c); AcquireContext ctx = m.wwClass().begin()) {
            m.lock(ctx);
            m.unlock();
        }
    }

    private static void waitInSection(FenceContext c, Fence f) throws Exception {
        try (SignallingSection s = SignallingSection.begin(c)) {
            f.await(Duration.ofNanos(1));
        }
    }

    private Fence pending(FenceContext c) {
        return c.next().fence();
    }

    // ------------------------------------------------------------ one test per edge kind

    /** L → F (wait holding L), then F → L (L taken in F's section) closes the cycle at the lock. */
    @Test
    void lockInSectionAfterWaitHoldingLock_PotentialDeadlockException() throws Exception {
        waitHolding(buffer, pending(gpu));
        assertThat(reported).isEmpty();
        assertThatThrownBy(() -> lockInSection(gpu, buffer))
                .isInstanceOfSatisfying(PotentialDeadlockException.class, e -> {
                    DependencyCycle c = e.cycle();
                    assertThat(c.edges()).hasSize(2);
                    assertThat(c.contexts()).containsExactly("gpu#" + gpu.id());
                    assertThat(c.locks()).containsExactly("buffers");
                    DependencyCycle.Edge closing = c.edges().get(0);
                    assertThat(closing.from().kind()).isEqualTo(Kind.FENCE_CONTEXT);
                    assertThat(closing.to()).isEqualTo(new DependencyCycle.Vertex(Kind.LOCK_CLASS, "buffers"));
                    assertThat(closing.topFrame().getMethodName()).isEqualTo("lockInSection");
                    assertThat(c.edges().get(1).topFrame().getMethodName()).isEqualTo("waitHolding");
                    assertThat(e.getMessage()).contains("fence context gpu#" + gpu.id(), "lock buffers",
                            "lockInSection", "waitHolding");
                });
        assertThat(reported).hasSize(1);
        assertThat(buffer.isLocked()).as("the throwing lock acquired nothing").isFalse();
    }

    /** F → L first, then L → F: the wait holding L throws, before it waits. */
    @Test
    void waitHoldingLockAfterLockInSection_PotentialDeadlockException() throws Exception {
        lockInSection(gpu, buffer);
        Fence f = pending(gpu);
        assertThatThrownBy(() -> waitHolding(buffer, f)).isInstanceOfSatisfying(PotentialDeadlockException.class,
                e -> {
                    assertThat(e.cycle().edges().get(0).from().kind()).isEqualTo(Kind.LOCK_CLASS);
                    assertThat(e.cycle().edges().get(0).topFrame().getMethodName()).isEqualTo("waitHolding");
                    assertThat(e.cycle().edges().get(1).topFrame().getMethodName()).isEqualTo("lockInSection");
                });
    }

    /**
     * Shared locks are annotated too: a reader waiting for a fence of F while holding a
     * {@link WwSharedMutex} shared, then a reader in F's signalling section (a writer queued
     * between them would deadlock both), closes the cycle at the lock's class.
     */
    @Test
    void sharedLockInSectionAfterWaitHoldingItShared_PotentialDeadlockException() throws Exception {
        WwSharedMutex table = new WwSharedMutex(buffers);
        try (AcquireContext ctx = buffers.begin()) {
            table.lockShared(ctx);
            try {
                pending(gpu).await(Duration.ofNanos(1));
            } finally {
                table.unlock(ctx);
            }
        }
        assertThat(reported).isEmpty();
        assertThatThrownBy(() -> {
            try (SignallingSection s = SignallingSection.begin(gpu); AcquireContext ctx = buffers.begin()) {
                table.lockShared(ctx);
            }
        }).isInstanceOfSatisfying(PotentialDeadlockException.class, e -> {
            assertThat(e.cycle().contexts()).containsExactly("gpu#" + gpu.id());
            assertThat(e.cycle().locks()).containsExactly("buffers");
        });
        assertThat(table.readerCount()).as("the throwing lock acquired nothing").isZero();
    }

    /** A shared lock released (by unlock or unlockAll) is no longer held: waiting afterwards adds no edge. */
    @Test
    void releasedSharedLockAddsNoEdge() throws Exception {
        WwSharedMutex table = new WwSharedMutex(buffers);
        lockInSection(gpu, buffer);                                   // gpu → buffers
        try (AcquireContext ctx = buffers.begin()) {
            table.lockShared(ctx);
            ctx.unlockAll();
            pending(gpu).await(Duration.ofNanos(1));                  // holds nothing: no buffers → gpu
        }
        assertThat(reported).isEmpty();
        try (AcquireContext ctx = buffers.begin()) {
            table.lock(ctx);
            assertThatThrownBy(() -> pending(gpu).await(Duration.ofNanos(1)))   // buffers → gpu closes it
                    .isInstanceOf(PotentialDeadlockException.class);
            table.unlock(ctx);
        }
    }

    /** F → F' (F's section waits for F') and F' → F close a cycle of two contexts. */
    @Test
    void sectionsWaitingForEachOther_PotentialDeadlockException() throws Exception {
        FenceContext display = FenceContext.create("display");
        waitInSection(gpu, pending(display));
        assertThatThrownBy(() -> waitInSection(display, pending(gpu)))
                .isInstanceOfSatisfying(PotentialDeadlockException.class, e -> assertThat(e.cycle().contexts())
                        .containsExactly("display#" + display.id(), "gpu#" + gpu.id()));
    }

    /** L → L' of two classes joins a longer cycle: F → L1, L1 → L2, L2 → F. */
    @Test
    void lockOrderJoinsCycle_PotentialDeadlockException() throws Exception {
        WwClass cacheClass = WwClass.woundWait("caches");
        WwMutex cache = new WwMutex(cacheClass);
        lockInSection(gpu, buffer);                                   // gpu → buffers
        try (AcquireContext a = buffers.begin(); AcquireContext b = cacheClass.begin()) {
            buffer.lock(a);
            cache.lock(b);                                            // buffers → caches
            cache.unlock();
            buffer.unlock();
        }
        assertThatThrownBy(() -> waitHolding(cache, pending(gpu)))    // caches → gpu
                .isInstanceOfSatisfying(PotentialDeadlockException.class,
                        e -> assertThat(e.cycle().edges()).hasSize(3));
    }

    /** Edges that form no cycle are never reported, whatever their number. */
    @Test
    void noCycleNoReport() throws Exception {
        WwMutex other = new WwMutex(WwClass.woundWait("others"));
        FenceContext display = FenceContext.create("display");
        for (int i = 0; i < 3; i++) {
            waitHolding(buffer, pending(gpu));                        // buffers → gpu
            lockInSection(gpu, other);                                // gpu → others
            waitInSection(display, pending(gpu));                     // display → gpu
            lockInSection(display, buffer);                           // display → buffers
        }
        assertThat(reported).isEmpty();
    }

    /** A context waiting for its own fences and a class taken in order are not self-cycles. */
    @Test
    void selfEdgesIgnored() throws Exception {
        waitInSection(gpu, pending(gpu));
        WwMutex second = new WwMutex(buffers);
        try (AcquireContext ctx = buffers.begin()) {
            buffer.lock(ctx);
            second.lock(ctx);
            ctx.unlockAll();
        }
        assertThat(reported).isEmpty();
    }

    /** The two halves from two threads: the second thread's lock throws instead of blocking on the holder. */
    @Test
    void reportedBeforeAnyThreadIsStuck() throws Exception {
        Signaller s = gpu.next();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        CompletableFuture<Void> driver = CompletableFuture.runAsync(() -> {
            try (AcquireContext ctx = buffers.begin()) {
                buffer.lock(ctx);
                s.fence().await(Duration.ofNanos(1));                 // buffers → gpu, and keep holding
                holding.countDown();
                done.await();
                buffer.unlock();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();
        try {
            assertThatThrownBy(() -> lockInSection(gpu, buffer)).isInstanceOf(PotentialDeadlockException.class);
        } finally {
            done.countDown();
            s.signal();
        }
        driver.get(30, TimeUnit.SECONDS);
    }

    // ------------------------------------------------------------ sections

    /** Nested sections both count; after the inner one closes, the outer one still does. */
    @Test
    void nestedSections() throws Exception {
        FenceContext outer = FenceContext.create("outer");
        WwMutex a = new WwMutex(WwClass.woundWait("a"));
        WwMutex b = new WwMutex(WwClass.woundWait("b"));
        try (SignallingSection o = SignallingSection.begin(outer)) {
            try (SignallingSection i = SignallingSection.begin(gpu)) {
                lockAndUnlock(a);                                     // outer → a, gpu → a
            }
            lockAndUnlock(b);                                         // outer → b only
        }
        waitHolding(b, pending(gpu));                                 // b → gpu: no cycle
        assertThat(reported).isEmpty();
        assertThatThrownBy(() -> waitHolding(a, pending(gpu))).isInstanceOf(PotentialDeadlockException.class);
        assertThatThrownBy(() -> waitHolding(b, pending(outer))).isInstanceOf(PotentialDeadlockException.class);
    }

    /** A closed section records nothing, and closing twice is harmless. */
    @Test
    void closedSectionRecordsNothing() throws Exception {
        SignallingSection s = SignallingSection.begin(gpu);
        s.close();
        s.close();
        lockAndUnlock(buffer);
        waitHolding(buffer, pending(gpu));
        assertThat(reported).isEmpty();
    }

    /** A section closed by another thread stops counting for its owner. */
    @Test
    void sectionClosedByAnotherThread() throws Exception {
        SignallingSection s = SignallingSection.begin(gpu);
        CompletableFuture.runAsync(s::close).get(30, TimeUnit.SECONDS);
        lockAndUnlock(buffer);
        waitHolding(buffer, pending(gpu));
        assertThat(reported).isEmpty();
    }

    private static void lockAndUnlock(WwMutex m) throws Exception {
        try (AcquireContext ctx = m.wwClass().begin()) {
            m.lock(ctx);
            m.unlock();
        }
    }

    // ------------------------------------------------------------ wrapped locks

    /** A wrapped Lock is a class of its own name: held while waiting, taken in a section. */
    @Test
    void wrappedLock_PotentialDeadlockException() throws Exception {
        Lock cache = Checker.wrap(new ReentrantLock(), "cache");
        cache.lock();
        try {
            pending(gpu).await(Duration.ofNanos(1));                  // cache → gpu
        } finally {
            cache.unlock();
        }
        try (SignallingSection s = SignallingSection.begin(gpu)) {
            assertThat(cache.tryLock()).as("a tryLock adds no edge").isTrue();
            cache.unlock();
            assertThatThrownBy(cache::lock).isInstanceOfSatisfying(PotentialDeadlockException.class,
                    e -> assertThat(e.cycle().locks()).containsExactly("cache"));
        }
        assertThat(((ReentrantLock) unwrap(cache)).isLocked()).isFalse();
    }

    private static Lock unwrap(Lock l) throws Exception {
        var f = CheckedLock.class.getDeclaredField("delegate");
        f.setAccessible(true);
        return (Lock) f.get(l);
    }

    // ------------------------------------------------------------ policies

    /** Off: nothing is recorded, so turning the checker on later sees only the later half. */
    @Test
    void offRecordsNothing() throws Exception {
        Checker.setPolicy(CheckPolicy.OFF);
        assertThat(Checker.isEnabled()).isFalse();
        assertThat(SignallingSection.begin(gpu).toString()).contains("checker off");
        waitHolding(buffer, pending(gpu));
        lockInSection(gpu, buffer);
        Checker.setPolicy(CheckPolicy.THROW);
        assertThatCode(() -> lockInSection(gpu, buffer)).doesNotThrowAnyException();
        assertThat(reported).isEmpty();
    }

    /** Warn: the call goes on, the listener hears of the cycle once, the next sighting is quiet. */
    @Test
    void warnReportsOnce() throws Exception {
        Checker.setPolicy(CheckPolicy.WARN);
        waitHolding(buffer, pending(gpu));
        lockInSection(gpu, buffer);
        lockInSection(gpu, buffer);
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0).describe()).contains("closing edge", "first seen");
    }

    /** Throw: every attempt throws, since the closing edge is never kept. */
    @Test
    void throwThrowsEachTime() throws Exception {
        waitHolding(buffer, pending(gpu));
        assertThatThrownBy(() -> lockInSection(gpu, buffer)).isInstanceOf(PotentialDeadlockException.class);
        assertThatThrownBy(() -> lockInSection(gpu, buffer)).isInstanceOf(PotentialDeadlockException.class);
        assertThat(reported).hasSize(2);
    }

    /** An override per class turns the checker on for that class in a run that is off. */
    @Test
    void perClassOverrideOnInRunOff() throws Exception {
        Checker.setPolicy(CheckPolicy.OFF);
        Checker.setPolicy(buffers, CheckPolicy.THROW);
        assertThat(Checker.isEnabled()).isTrue();
        waitHolding(buffer, pending(gpu));
        assertThatThrownBy(() -> lockInSection(gpu, buffer)).isInstanceOf(PotentialDeadlockException.class);
        WwMutex other = new WwMutex(WwClass.woundWait("others"));
        waitHolding(other, pending(gpu));
        assertThatCode(() -> lockInSection(gpu, other)).as("run policy off for other classes")
                .doesNotThrowAnyException();
        Checker.setPolicy(buffers, null);
        assertThat(Checker.isEnabled()).isFalse();
    }

    /** An override may also soften: a class set to warn in a throwing run. */
    @Test
    void perClassOverrideWarnInRunThrow() throws Exception {
        Checker.setPolicy(buffers, CheckPolicy.WARN);
        waitHolding(buffer, pending(gpu));
        assertThatCode(() -> lockInSection(gpu, buffer)).doesNotThrowAnyException();
        assertThat(reported).hasSize(1);
    }

    /** Overrides per fence context and per wrapped-lock name work like the per-class one. */
    @Test
    void contextAndLockNameOverrides() throws Exception {
        Checker.setPolicy(gpu, CheckPolicy.WARN);
        waitHolding(buffer, pending(gpu));
        assertThatCode(() -> lockInSection(gpu, buffer)).doesNotThrowAnyException();
        assertThat(reported).hasSize(1);
        Checker.setPolicy(CheckPolicy.OFF);
        Checker.setPolicy(gpu, null);
        Checker.setPolicy("cache", CheckPolicy.THROW);
        Lock cache = Checker.wrap(new ReentrantLock(), "cache");
        cache.lock();
        try {
            pending(gpu).await(Duration.ofNanos(1));
        } finally {
            cache.unlock();
        }
        try (SignallingSection s = SignallingSection.begin(gpu)) {
            assertThatThrownBy(cache::lock).isInstanceOf(PotentialDeadlockException.class);
        }
    }

    /** A listener that throws is contained; the policy still throws its exception. */
    @Test
    void throwingListenerContained() throws Exception {
        Consumer<DependencyCycle> bad = c -> {
            throw new IllegalStateException("listener");
        };
        Checker.addCycleListener(bad);
        try {
            waitHolding(buffer, pending(gpu));
            assertThatThrownBy(() -> lockInSection(gpu, buffer)).isInstanceOf(PotentialDeadlockException.class);
            assertThat(reported).hasSize(1);
        } finally {
            Checker.removeCycleListener(bad);
        }
    }

    /** A log handler that throws neither escapes into the lock nor stops the listeners. */
    @Test
    void throwingLogHandlerContained() throws Exception {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger("dev.bufsync.check");
        java.util.logging.Handler bad = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                throw new IllegalStateException("handler");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(bad);
        try {
            Checker.setPolicy(CheckPolicy.WARN);
            waitHolding(buffer, pending(gpu));
            assertThatCode(() -> lockInSection(gpu, buffer)).doesNotThrowAnyException();
            assertThat(reported).hasSize(1);
        } finally {
            log.removeHandler(bad);
        }
    }

    /** The property's values; anything else is refused naming the property. */
    @Test
    void parse_IAE() {
        assertThat(CheckPolicy.parse(null)).isEqualTo(CheckPolicy.OFF);
        assertThat(CheckPolicy.parse(" Warn ")).isEqualTo(CheckPolicy.WARN);
        assertThat(CheckPolicy.parse("throw")).isEqualTo(CheckPolicy.THROW);
        assertThatThrownBy(() -> CheckPolicy.parse("loud")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bufsync.check").hasMessageContaining("loud");
    }

    /** Cycles through the scheduler are caught too: a job's work runs in its fence's section. */
    @Test
    void fenceOfWaitedContainerUnwrapped() throws Exception {
        FenceContext display = FenceContext.create("display");
        Fence merged = dev.bufsync.fence.Fences.merge(pending(gpu), pending(display));
        waitHolding(buffer, merged);                                  // buffers → gpu, buffers → display
        assertThatThrownBy(() -> lockInSection(display, buffer)).isInstanceOf(PotentialDeadlockException.class);
    }

    static void rethrow(ExecutionException e) throws Exception {
        throw (Exception) e.getCause();
    }

    // ---------------------------------------------------------------- found by mutation testing

    /**
     * A wrapped lock is the lock it wraps: every way of acquiring it acquires the delegate, tryLock
     * reports the delegate's answer, and a condition is the delegate's.
     */
    @Test
    void wrappedLockDelegatesEveryAcquisition() throws Exception {
        ReentrantLock inner = new ReentrantLock();
        Lock cache = Checker.wrap(inner, "wrapped-cache");
        assertThat(cache.toString()).contains("wrapped-cache");
        cache.lockInterruptibly();
        assertThat(inner.isHeldByCurrentThread()).isTrue();
        assertThat(cache.newCondition().awaitNanos(1)).isNotPositive();
        cache.unlock();
        assertThat(cache.tryLock(1, TimeUnit.SECONDS)).isTrue();
        assertThat(inner.isHeldByCurrentThread()).isTrue();
        CompletableFuture<Boolean> untimed = CompletableFuture.supplyAsync(cache::tryLock);
        assertThat(untimed.get(30, TimeUnit.SECONDS)).isFalse();
        cache.unlock();
        assertThat(inner.isLocked()).isFalse();
    }
}
