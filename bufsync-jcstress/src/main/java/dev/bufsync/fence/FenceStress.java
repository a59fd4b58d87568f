package dev.bufsync.fence;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.ZII_Result;
import org.openjdk.jcstress.infra.results.ZI_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/**
 * jcstress tests of the fence's one-shot guarantees, on real threads and the real memory model.
 *
 * <p>Run them with:
 *
 * <pre>{@code
 * ./mvnw -q -pl bufsync-core,bufsync-jcstress install -DskipTests -Djcstress.skip
 * java -jar bufsync-jcstress/target/jcstress.jar -t dev.bufsync.fence -m quick
 * }</pre>
 */
public final class FenceStress {
    private FenceStress() {
    }

    /** {@link Signaller#trySignal()} racing itself: exactly one of two signallers wins. */
    @JCStressTest
    @Outcome(id = "true, false", expect = ACCEPTABLE, desc = "The first actor signalled; the second saw a signalled fence.")
    @Outcome(id = "false, true", expect = ACCEPTABLE, desc = "The second actor signalled; the first saw a signalled fence.")
    @Outcome(expect = FORBIDDEN, desc = "Both or neither signalled: the fence is not one-shot.")
    @State
    public static class SignalOnce {
        private final Signaller signaller = FenceContext.create("stress").next();

        /** Producer thread one. */
        @Actor
        public void first(ZZ_Result r) {
            r.r1 = signaller.trySignal();
        }

        /** Producer thread two. */
        @Actor
        public void second(ZZ_Result r) {
            r.r2 = signaller.trySignal();
        }
    }

    /**
     * {@link Fence#addCallback(FenceCallback)} racing {@link Signaller#signal()}: the callback runs
     * exactly once if the add returned {@code true}, never if it returned {@code false}.
     */
    @JCStressTest
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "Added before the signal: the callback ran once.")
    @Outcome(id = "false, 0", expect = ACCEPTABLE, desc = "Added after the signal: refused, and it never ran.")
    @Outcome(expect = FORBIDDEN, desc = "A callback was lost, ran twice, or ran although refused.")
    @State
    public static class CallbackExactlyOnce {
        private final Signaller signaller = FenceContext.create("stress").next();
        private int runs;   // written by the callback on the signalling thread; read by the arbiter

        /** Consumer thread. */
        @Actor
        public void consumer(ZI_Result r) {
            r.r1 = signaller.fence().addCallback(f -> runs++);
        }

        /** Producer thread. */
        @Actor
        public void producer() {
            signaller.signal();
        }

        /** After both: how often the callback ran. */
        @Arbiter
        public void arbiter(ZI_Result r) {
            r.r2 = runs;
        }
    }

    /**
     * {@link Fence#whenSignaled(FenceCallback)} racing {@link Signaller#signal()}: the callback runs
     * exactly once whichever wins (on the signalling thread or at once on the caller's), and sees
     * what the producer wrote before signalling.
     */
    @JCStressTest
    @Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "Ran once and saw the producer's write.")
    @Outcome(expect = FORBIDDEN, desc = "Lost, ran twice, or ran without seeing the producer's write.")
    @State
    public static class WhenSignaledExactlyOnce {
        private final Signaller signaller = FenceContext.create("stress").next();
        private int payload;            // plain: written by the producer before it signals
        private int runs;               // written by the callback, read by the arbiter
        private int seen;               // likewise

        /** Consumer thread. */
        @Actor
        public void consumer() {
            signaller.fence().whenSignaled(f -> {
                runs++;
                seen = payload;
            });
        }

        /** Producer thread. */
        @Actor
        public void producer() {
            payload = 42;
            signaller.signal();
        }

        /** After both: how often the callback ran and what it saw. */
        @Arbiter
        public void arbiter(II_Result r) {
            r.r1 = runs;
            r.r2 = seen;
        }
    }

    /**
     * {@link Fence#removeCallback} of the lone callback, which the fence holds inline (no node),
     * racing {@link Signaller#signal()}: it is removed and never runs, or runs once and the removal
     * fails.
     */
    @JCStressTest
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "Removed before the signal: it never ran.")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "The signal won: it ran once, the removal failed.")
    @Outcome(expect = FORBIDDEN, desc = "Both removed and run, neither, or run twice.")
    @State
    public static class InlineCallbackRemovedOrRun {
        private final Signaller signaller = FenceContext.create("stress").next();
        private int runs;   // written by the callback on the signalling thread; read by the arbiter
        private final FenceCallback callback = f -> runs++;

        /** Registers the callback, the fence's first registration. */
        public InlineCallbackRemovedOrRun() {
            signaller.fence().addCallback(callback);
        }

        /** Consumer thread, withdrawing. */
        @Actor
        public void consumer(ZI_Result r) {
            r.r1 = signaller.fence().removeCallback(callback);
        }

        /** Producer thread. */
        @Actor
        public void producer() {
            signaller.signal();
        }

        /** After both: how often the callback ran. */
        @Arbiter
        public void arbiter(ZI_Result r) {
            r.r2 = runs;
        }
    }

    /**
     * A second {@link Fence#addCallback(FenceCallback)}, which moves the inline first callback into
     * a node, racing {@link Fence#removeCallback} of that first callback: the removal always
     * succeeds and the first never runs; the second always runs once when the fence signals.
     */
    @JCStressTest
    @Outcome(id = "true, 0, 1", expect = ACCEPTABLE, desc = "First removed, second kept, whichever went first.")
    @Outcome(expect = FORBIDDEN, desc = "The move lost a registration or revived a removed one.")
    @State
    public static class InlineCallbackMovedWhileRemoved {
        private final Signaller signaller = FenceContext.create("stress").next();
        private int firstRuns;      // written by the callbacks on the arbiter's thread
        private int secondRuns;
        private final FenceCallback first = f -> firstRuns++;

        /** Registers the first callback, held inline. */
        public InlineCallbackMovedWhileRemoved() {
            signaller.fence().addCallback(first);
        }

        /** Consumer thread one: a second registration. */
        @Actor
        public void adder() {
            signaller.fence().addCallback(f -> secondRuns++);
        }

        /** Consumer thread two: withdraws the first. */
        @Actor
        public void remover(ZII_Result r) {
            r.r1 = signaller.fence().removeCallback(first);
        }

        /** After both: signal, then count the runs. */
        @Arbiter
        public void arbiter(ZII_Result r) {
            signaller.signal();
            r.r2 = firstRuns;
            r.r3 = secondRuns;
        }
    }

    /** {@link Fence#await()} blocked on a pending fence is released by {@link Signaller#signal()}. */
    @JCStressTest(Mode.Termination)
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "The waiter returned after the signal.")
    @Outcome(expect = FORBIDDEN, desc = "The waiter stayed blocked after the signal: a lost wake-up.")
    @State
    public static class WaitTerminates {
        private final Signaller signaller = FenceContext.create("stress").next();

        /** Consumer thread, waiting. */
        @Actor
        public void waiter() throws InterruptedException {
            signaller.fence().await();
        }

        /** Producer, signalling. */
        @Signal
        public void signal() {
            signaller.signal();
        }
    }
}
