package dev.bufsync.fence;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code fence-callback}: the life of a one-shot completion with callbacks: create it, register
 * {@code waiters} callbacks, signal it, which runs them on the signalling thread.
 *
 * <p>Hypothesis: a {@link Fence} is no slower than a {@code CompletableFuture} (the target in
 * docs/bench.md): registering is one allocation and one CAS in both; signalling is one CAS plus a walk of the
 * registrations. The fence also takes a {@code System.nanoTime()} timestamp when it signals (the
 * kernel's {@code dma_fence} timestamp), which {@code CompletableFuture} does not have; on virtual
 * machines whose clock source is slow that is the difference.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class FenceCallbackBenchmark {
    @Param({"1", "64"})
    public int waiters;

    private final FenceContext context = FenceContext.create("bench");
    private int counter;
    private final FenceCallback fenceCallback = f -> counter++;
    private final Runnable futureCallback = () -> counter++;

    /** Ours: create a fence, add the callbacks, signal. */
    @Benchmark
    public int fence() {
        Signaller s = context.next();
        Fence f = s.fence();
        for (int i = 0; i < waiters; i++) {
            f.addCallback(fenceCallback);
        }
        s.signal();
        return counter;
    }

    /** Baseline: create a CompletableFuture, add the callbacks with thenRun, complete. */
    @Benchmark
    public int completableFuture() {
        CompletableFuture<Void> cf = new CompletableFuture<>();
        for (int i = 0; i < waiters; i++) {
            cf.thenRun(futureCallback);
        }
        cf.complete(null);
        return counter;
    }
}
