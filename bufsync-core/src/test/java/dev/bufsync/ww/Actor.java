package dev.bufsync.ww;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A named thread that runs submitted steps one after another, so that a test can keep an
 * {@link AcquireContext} (confined to its thread) alive across steps and interleave several
 * threads deterministically. Waits are bounded: a step or condition that takes longer than
 * {@link #PATIENCE} fails the test instead of hanging it.
 */
final class Actor implements AutoCloseable {
    static final Duration PATIENCE = Duration.ofSeconds(20);

    private final ExecutorService executor;
    final Thread thread;

    Actor(String name) {
        this(r -> Thread.ofPlatform().name(name).daemon().unstarted(r));
    }

    /** An actor whose thread {@code factory} makes (a daemon thread, or a subclass for a test). */
    Actor(ThreadFactory factory) {
        Thread[] t = new Thread[1];
        executor = Executors.newSingleThreadExecutor(r -> t[0] = factory.newThread(r));
        try {
            executor.submit(() -> { }).get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        thread = t[0];
    }

    /** Runs a step on this actor and waits for its result. */
    <T> T call(Callable<T> step) throws Exception {
        try {
            return start(step).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception x) {
                throw x;
            }
            throw e;
        }
    }

    /** Runs a step on this actor and waits for it to finish. */
    void run(ThrowingRunnable step) throws Exception {
        call(() -> {
            step.run();
            return null;
        });
    }

    /** Starts a step (which may block) without waiting for it. */
    <T> Future<T> start(Callable<T> step) {
        return executor.submit(step);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** Waits until {@code condition} holds, failing the test after {@link #PATIENCE}. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Waits until {@code m} has {@code n} queued waiters. */
    static void awaitWaiters(WwMutex m, int n) {
        await(m + " has " + n + " waiter(s)", () -> m.waiterCount() == n);
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}
