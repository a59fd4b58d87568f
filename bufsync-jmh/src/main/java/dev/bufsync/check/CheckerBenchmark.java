package dev.bufsync.check;

import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
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
 * {@code checker}: the uncontended lock+unlock of {@code UncontendedBenchmark} with the dependency
 * checker off and on.
 *
 * <p>Hypothesis: with {@code check=off} the annotations in the lock path fold to nothing (the
 * switch is a constant the JIT inlines), so {@code woundWait} and {@code plainWwMutex} cost what
 * they cost before the checker existed, and a wrapped {@code ReentrantLock} costs what the bare
 * one does; with {@code check=warn} each lock pays a thread-local lookup and a push and pop of
 * the held record (no new edge: nothing else is held).
 *
 * <p>Run: {@code java -jar bufsync-jmh/target/benchmarks.jar CheckerBenchmark}. Each value of
 * {@code check} runs in its own fork, set before warm-up.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CheckerBenchmark {
    /** The checker's policy for the fork: off or warn. */
    @Param({"off", "warn"})
    public String check;

    private final WwClass wwClass = WwClass.builder("bench-check").injectBackoff(false).build();
    private final WwMutex mutex = new WwMutex(wwClass);
    private final ReentrantLock bare = new ReentrantLock();
    private final Lock wrapped = Checker.wrap(new ReentrantLock(), "bench-check-lock");
    private AcquireContext ctx;
    private int counter;

    /** Sets the policy before anything is compiled. */
    @Setup(Level.Trial)
    public void policy() {
        Checker.setPolicy(CheckPolicy.parse(check));
    }

    /** Begins the context on the benchmark thread. */
    @Setup(Level.Iteration)
    public void begin() {
        ctx = wwClass.begin();
    }

    /** Closes the context. */
    @TearDown(Level.Iteration)
    public void close() {
        ctx.close();
    }

    /** Baseline: a bare {@code ReentrantLock}. */
    @Benchmark
    public int reentrantLock() {
        bare.lock();
        try {
            return ++counter;
        } finally {
            bare.unlock();
        }
    }

    /** A {@code ReentrantLock} wrapped by {@link Checker#wrap}. */
    @Benchmark
    public int wrappedLock() {
        wrapped.lock();
        try {
            return ++counter;
        } finally {
            wrapped.unlock();
        }
    }

    /** A wound-wait {@code WwMutex} with a context. */
    @Benchmark
    public int woundWait() throws BackoffException {
        mutex.lock(ctx);
        try {
            return ++counter;
        } finally {
            mutex.unlock();
        }
    }

    /** A {@code WwMutex} without a context. */
    @Benchmark
    public int plainWwMutex() {
        mutex.lock();
        try {
            return ++counter;
        } finally {
            mutex.unlock();
        }
    }
}
