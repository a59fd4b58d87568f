package dev.bufsync.fence;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code fence-wake}: signal → woken waiters. {@code waiters} platform threads wait for the
 * current round's completion; one operation signals it and waits until every waiter has woken and
 * acknowledged (the last one completes the round's acknowledgement). The next round's completion
 * is published before the current one is signalled, so waiters never miss one.
 *
 * <p>Hypothesis: waking a thread parked in {@link Fence#await()} costs no more than waking one
 * parked in {@code CompletableFuture.join()} (the target in docs/bench.md); both park with
 * {@code LockSupport}, and the unpark dominates. The same structure serves both strategies, so
 * the acknowledgement overhead cancels out in the ratio.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FenceWakeBenchmark {

    /** One round: the completion the waiters wait for, and the acknowledgement the signaller waits for. */
    abstract static class Round {
        volatile Round next;    // written by the signaller before it completes this round

        abstract void awaitCompletion() throws InterruptedException;

        abstract void complete();

        abstract void awaitAcknowledgement() throws InterruptedException;

        abstract void acknowledge();
    }

    /** Rounds and waiter threads for one strategy. */
    @State(Scope.Benchmark)
    public abstract static class Waiters {
        @Param({"1", "64"})
        public int waiters;

        volatile Round current;
        final AtomicInteger acks = new AtomicInteger();
        final List<Thread> threads = new ArrayList<>();
        volatile boolean stop;

        abstract Round newRound();

        @Setup(Level.Trial)
        public void start() {
            Round first = newRound();
            current = first;
            // Each waiter starts from the first round, not from whatever `current` is when it first
            // runs: the signaller may already have moved on, and a waiter that skipped a round
            // would leave that round's acknowledgement short forever.
            for (int i = 0; i < waiters; i++) {
                threads.add(Thread.ofPlatform().daemon().name("waiter-" + i)
                        .start(() -> waitLoop(first)));
            }
        }

        private void waitLoop(Round first) {
            try {
                Round round = first;
                while (!stop) {
                    round.awaitCompletion();
                    Round next = round.next;
                    if (acks.incrementAndGet() == waiters) {
                        round.acknowledge();
                    }
                    round = next;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** One round: publish the next one, complete this one, wait until every waiter woke. */
        int signalAndAwaitWaiters() throws InterruptedException {
            Round round = current;
            Round next = newRound();
            round.next = next;
            current = next;
            acks.set(0);
            round.complete();
            round.awaitAcknowledgement();
            return waiters;
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            stop = true;
            Round round = current;
            Round last = newRound();
            round.next = last;
            round.complete();
            for (Thread t : threads) {
                t.interrupt();
                t.join();
            }
            round.acknowledge();
            last.complete();
            last.acknowledge();
        }
    }

    /** Fences. */
    @State(Scope.Benchmark)
    public static class FenceWaiters extends Waiters {
        private final FenceContext context = FenceContext.create("wake");

        @Override
        Round newRound() {
            Signaller completion = context.next();
            Signaller ack = context.next();
            return new Round() {
                @Override
                void awaitCompletion() throws InterruptedException {
                    completion.fence().await();
                }

                @Override
                void complete() {
                    completion.trySignal();
                }

                @Override
                void awaitAcknowledgement() throws InterruptedException {
                    ack.fence().await();
                }

                @Override
                void acknowledge() {
                    ack.trySignal();
                }
            };
        }
    }

    /** CompletableFutures. */
    @State(Scope.Benchmark)
    public static class FutureWaiters extends Waiters {
        @Override
        Round newRound() {
            CompletableFuture<Void> completion = new CompletableFuture<>();
            CompletableFuture<Void> ack = new CompletableFuture<>();
            return new Round() {
                @Override
                void awaitCompletion() {
                    completion.join();
                }

                @Override
                void complete() {
                    completion.complete(null);
                }

                @Override
                void awaitAcknowledgement() {
                    ack.join();
                }

                @Override
                void acknowledge() {
                    ack.complete(null);
                }
            };
        }
    }

    /** Ours: signal a fence, wait until every waiter woke. */
    @Benchmark
    public int fence(FenceWaiters state) throws InterruptedException {
        return state.signalAndAwaitWaiters();
    }

    /** Baseline: complete a CompletableFuture, wait until every waiter woke. */
    @Benchmark
    public int completableFuture(FutureWaiters state) throws InterruptedException {
        return state.signalAndAwaitWaiters();
    }
}
