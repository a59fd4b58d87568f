package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.ww.WwClass.Algorithm;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Lincheck model checking: transactions written with the back-off loop never hang, whatever the
 * interleaving, for ABBA and for a three-mutex cycle, under both algorithms. A positive control
 * shows that the checker does find the hang of plain locks taken in opposite orders.
 */
class WwMutexLincheckTest {
    private static final int INVOCATIONS = 1500;
    private static CheckPolicy runPolicy;

    /** Lincheck snapshots and restores every static it reaches, the dependency checker's graph too: off here. */
    @BeforeAll
    static void checkerOff() {
        runPolicy = Checker.policy();
        Checker.setPolicy(CheckPolicy.OFF);
    }

    @AfterAll
    static void restoreChecker() {
        Checker.setPolicy(runPolicy);
    }

    /** Locks every mutex of {@code order} with one context and the back-off loop, then unlocks. */
    private static void transaction(WwClass cls, List<WwMutex> order, AtomicInteger done) {
        try (AcquireContext ctx = cls.begin()) {
            BackoffLoop.lockAll(ctx, order, () -> { });
            done.incrementAndGet();
            ctx.unlockAll();
        }
    }

    /** Plain checks: the model checker cannot run AssertJ's fluent objects. */
    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("expected: " + what);
        }
    }

    private static void runThreads(Runnable... bodies) {
        Thread[] threads = new Thread[bodies.length];
        for (int i = 0; i < bodies.length; i++) {
            threads[i] = new Thread(bodies[i]);
            threads[i].start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** ABBA with the back-off loop terminates in every interleaving Lincheck explores. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaNeverHangs(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WwClass cls = WwClass.builder("lincheck").algorithm(algorithm).injectBackoff(false).build();
            WwMutex a = new WwMutex(cls);
            WwMutex b = new WwMutex(cls);
            AtomicInteger done = new AtomicInteger();
            runThreads(() -> transaction(cls, List.of(a, b), done),
                    () -> transaction(cls, List.of(b, a), done));
            check(done.get() == 2 && !a.isLocked() && !b.isLocked(), "both transactions completed and released");
        });
    }

    /** A three-mutex cycle (A→B, B→C, C→A) with the back-off loop terminates. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void threeCycleNeverHangs(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS,
                () -> threeCycle(WwClass.builder("lincheck").algorithm(algorithm).injectBackoff(false).build()));
    }

    /**
     * The three-mutex cycle with polite waiting (one polite back-off per transaction) terminates:
     * a polite back-off removes a wait-while-holding edge and the bound then hands the conflict
     * back to the algorithm, in every interleaving Lincheck explores.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void politeThreeCycleNeverHangs(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> threeCycle(WwClass.builder("lincheck-polite")
                .algorithm(algorithm).injectBackoff(false).politeBackoffs(1).build()));
    }

    /** Three threads lock A→B, B→C and C→A with the back-off loop; all finish and release. */
    private static void threeCycle(WwClass cls) {
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex c = new WwMutex(cls);
        AtomicInteger done = new AtomicInteger();
        runThreads(() -> transaction(cls, List.of(a, b), done),
                () -> transaction(cls, List.of(b, c), done),
                () -> transaction(cls, List.of(c, a), done));
        check(done.get() == 3 && !a.isLocked() && !b.isLocked() && !c.isLocked(),
                "all three transactions completed and released");
    }

    /**
     * Asynchronous ABBA with a direct executor: each thread starts a chain of futures and the
     * chains continue in whichever thread wakes them. When both threads are done both chains
     * have completed and released: no wake-up of an asynchronous waiter is lost in any
     * interleaving explored.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void asyncAbbaNeverHangs(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WwClass cls = WwClass.builder("lincheck-async").algorithm(algorithm).injectBackoff(false).build();
            WwMutex a = new WwMutex(cls);
            WwMutex b = new WwMutex(cls);
            java.util.concurrent.Executor direct = Runnable::run;
            AtomicInteger done = new AtomicInteger();
            runThreads(() -> asyncTransaction(cls, List.of(a, b), direct, done),
                    () -> asyncTransaction(cls, List.of(b, a), direct, done));
            check(done.get() == 2 && !a.isLocked() && !b.isLocked(), "both chains completed and released");
        });
    }

    private static void asyncTransaction(WwClass cls, List<WwMutex> order, java.util.concurrent.Executor executor,
            AtomicInteger done) {
        AcquireContext ctx = cls.beginTransferable();
        ctx.detach();
        AsyncLoop.lockAll(ctx, order, executor, () -> { }).thenRun(() -> {
            done.incrementAndGet();
            ctx.unlockAll();
            ctx.close();
        });
    }

    /**
     * A cancel races the release that would hand the mutex to the cancelled request: whichever
     * wins, afterwards the mutex is free and the request holds nothing, or the future completed
     * with the lock held and cancel said so.
     */
    @Test
    void cancelRacingReleaseLeavesNothingLocked() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WwClass cls = WwClass.builder("lincheck-cancel").injectBackoff(false).build();
            WwMutex m = new WwMutex(cls);
            java.util.concurrent.Executor direct = Runnable::run;
            AcquireContext holder = cls.beginTransferable();
            holder.detach();
            AcquireContext waiter = cls.beginTransferable();
            waiter.detach();
            m.lockAsync(holder, direct);
            java.util.concurrent.CompletableFuture<LockResult> f = m.lockAsync(waiter, direct);
            boolean[] cancelled = new boolean[1];
            runThreads(() -> cancelled[0] = f.cancel(false), holder::unlockAll);
            if (cancelled[0]) {
                check(f.isCancelled() && waiter.heldCount() == 0 && !m.isLocked() && m.waiterCount() == 0,
                        "cancelled: nothing locked, nobody queued");
            } else {
                check(f.join() == LockResult.ACQUIRED && m.holderContext() == waiter,
                        "not cancelled: the request holds the mutex");
            }
        });
    }

    /** Positive control: plain locks taken in opposite orders do hang, and Lincheck says so. */
    @Test
    void plainAbbaHangsUnderTheChecker() {
        assertThatThrownBy(() -> Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            ReentrantLock a = new ReentrantLock();
            ReentrantLock b = new ReentrantLock();
            runThreads(() -> both(a, b), () -> both(b, a));
        })).isInstanceOf(AssertionError.class).hasMessageContaining("hung");
    }

    private static void both(ReentrantLock first, ReentrantLock second) {
        first.lock();
        try {
            second.lock();
            second.unlock();
        } finally {
            first.unlock();
        }
    }
}
