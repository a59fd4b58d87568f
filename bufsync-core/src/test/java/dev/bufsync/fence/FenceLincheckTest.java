package dev.bufsync.fence;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Model-checking tests (Lincheck explores thread interleavings of the fence's shared-memory
 * accesses): a callback racing {@code signal()} runs exactly once or is refused, a removal racing
 * {@code signal()} either wins or the callback runs, racing signals have one winner, and a waiter
 * racing {@code signal()} always returns having seen it.
 *
 * <p>Lincheck 3.7 lets a parked thread wake spuriously, so it cannot catch a lost wake-up in a
 * park loop that re-checks its condition; the jcstress test {@code FenceStress.WaitTerminates}
 * (termination mode, real threads) covers that.
 */
class FenceLincheckTest {
    private static final int INVOCATIONS = 200;

    /** Loads the fence classes (and starts the reaper) outside the model-checked runs. */
    @BeforeAll
    static void warmUp() {
        FenceContext.create("warm-up").next().signal();
    }

    /** A callback added concurrently with signal() runs exactly once, or add returns false and it never runs. */
    @Test
    void callbackRacingSignalRunsOnceOrIsRefused() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Signaller s = FenceContext.create("lincheck").next();
            AtomicInteger runs = new AtomicInteger();
            boolean[] added = new boolean[1];
            Thread adder = new Thread(() -> added[0] = s.fence().addCallback(f -> runs.incrementAndGet()));
            Thread signaller = new Thread(s::signal);
            adder.start();
            signaller.start();
            join(adder, signaller);
            check(runs.get() == (added[0] ? 1 : 0), "added=" + added[0] + " but ran " + runs.get() + " times");
        });
    }

    /** A removal racing signal() either removes the callback (it never runs) or fails (it ran once). */
    @Test
    void removalRacingSignalIsExclusive() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Signaller s = FenceContext.create("lincheck").next();
            AtomicInteger runs = new AtomicInteger();
            FenceCallback cb = f -> runs.incrementAndGet();
            s.fence().addCallback(cb);
            boolean[] removed = new boolean[1];
            Thread remover = new Thread(() -> removed[0] = s.fence().removeCallback(cb));
            Thread signaller = new Thread(s::signal);
            remover.start();
            signaller.start();
            join(remover, signaller);
            check(runs.get() == (removed[0] ? 0 : 1), "removed=" + removed[0] + " but ran " + runs.get() + " times");
        });
    }

    /** A waiter racing signal() always returns, and a timed waiter racing a removal-inducing timeout too. */
    @Test
    void waiterRacingSignalReturns() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Signaller s = FenceContext.create("lincheck").next();
            boolean[] woke = new boolean[2];
            Thread waiter = new Thread(() -> {
                try {
                    s.fence().await();
                    woke[0] = true;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread anyWaiter = new Thread(() -> {
                try {
                    woke[1] = Fences.awaitAny(java.util.List.of(s.fence())) == 0;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread signaller = new Thread(s::signal);
            waiter.start();
            anyWaiter.start();
            signaller.start();
            join(waiter, anyWaiter, signaller);
            check(woke[0] && woke[1], "a waiter returned without seeing the signal");
        });
    }

    /** Two racing signals: exactly one wins, and a zero-timeout poll never blocks. */
    @Test
    void racingSignalsHaveOneWinner() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            Signaller s = FenceContext.create("lincheck").next();
            boolean[] won = new boolean[2];
            Thread a = new Thread(() -> won[0] = s.trySignal());
            Thread b = new Thread(() -> won[1] = s.trySignal());
            a.start();
            b.start();
            join(a, b);
            check(won[0] ^ won[1], "winners: " + won[0] + ", " + won[1]);
            try {
                check(s.fence().await(Duration.ZERO), "signalled fence polled as pending");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A plain check: AssertJ's assertion objects do not survive Lincheck's instrumentation. */
    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    private static void join(Thread... threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
