package dev.bufsync.ww;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.ww.WwClass.Algorithm;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Lincheck model checking of {@link WwSharedMutex}: transactions that hold locks shared and ask
 * for others exclusively (ABBA through readers), readers that all upgrade one lock, and a
 * three-lock cycle with modes mixed never hang, whatever the interleaving, under both algorithms.
 */
class WwSharedMutexLincheckTest {
    private static final int INVOCATIONS = 300;
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

    /**
     * One transaction with the back-off loop: takes {@code first} in mode {@code firstShared},
     * then {@code second} in mode {@code secondShared}; after a back-off, unlocks all and
     * slow-locks the contended lock in the mode that backed off.
     */
    static void transaction(WwClass cls, WwSharedMutex first, boolean firstShared,
                                    WwSharedMutex second, boolean secondShared, AtomicInteger done) {
        try (AcquireContext ctx = cls.begin()) {
            BackoffException contended = null;
            for (;;) {
                try {
                    if (contended != null && contended.shared()) {
                        contended.sharedMutex().lockSharedSlow(ctx);
                    } else if (contended != null) {
                        contended.sharedMutex().lockSlow(ctx);
                    }
                    take(ctx, first, firstShared);
                    take(ctx, second, secondShared);
                    break;
                } catch (BackoffException e) {
                    ctx.unlockAll();
                    contended = e;
                }
            }
            done.incrementAndGet();
            ctx.unlockAll();
        }
    }

    private static void take(AcquireContext ctx, WwSharedMutex m, boolean shared) throws BackoffException {
        if (shared) {
            m.lockShared(ctx);
        } else {
            m.lock(ctx);
        }
    }

    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError("expected: " + what);
        }
    }

    private static boolean free(WwSharedMutex... locks) {
        for (WwSharedMutex m : locks) {
            if (m.isWriteLocked() || m.readerCount() != 0 || m.waiterCount() != 0) {
                return false;
            }
        }
        return true;
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

    private static WwClass newClass(Algorithm algorithm) {
        return WwClass.builder("lincheck-shared").algorithm(algorithm).injectBackoff(false).build();
    }

    /** ABBA through readers: each reads its own lock and then writes the other's. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaThroughReadersNeverHangs(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WwClass cls = newClass(algorithm);
            WwSharedMutex a = new WwSharedMutex(cls);
            WwSharedMutex b = new WwSharedMutex(cls);
            AtomicInteger done = new AtomicInteger();
            runThreads(() -> transaction(cls, a, true, b, false, done),
                    () -> transaction(cls, b, true, a, false, done));
            check(done.get() == 2 && free(a, b), "both transactions completed and released");
        });
    }

    /** Two readers of one lock both upgrade it. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void competingUpgradesNeverHang(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WwClass cls = newClass(algorithm);
            WwSharedMutex a = new WwSharedMutex(cls);
            AtomicInteger done = new AtomicInteger();
            runThreads(() -> transaction(cls, a, true, a, false, done),
                    () -> transaction(cls, a, true, a, false, done));
            check(done.get() == 2 && free(a), "both upgrades completed and released");
        });
    }

    /**
     * A three-lock cycle with readers in it: read A then write B; write B then read C; write C then
     * write A. Every edge is a conflict: B and C are written, A is read.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void mixedCycleNeverHangs(Algorithm algorithm) {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            WwClass cls = newClass(algorithm);
            WwSharedMutex a = new WwSharedMutex(cls);
            WwSharedMutex b = new WwSharedMutex(cls);
            WwSharedMutex c = new WwSharedMutex(cls);
            AtomicInteger done = new AtomicInteger();
            runThreads(() -> transaction(cls, a, true, b, false, done),
                    () -> transaction(cls, b, false, c, true, done),
                    () -> transaction(cls, c, false, a, false, done));
            check(done.get() == 3 && free(a, b, c), "all three transactions completed and released");
        });
    }
}
