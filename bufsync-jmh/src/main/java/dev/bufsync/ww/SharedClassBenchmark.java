package dev.bufsync.ww;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code shared-class}: every thread runs uncontended transactions over its own d mutexes, all of
 * one class, so transactions never conflict but share their class.
 *
 * <p>Hypothesis: what threads of one class pay for its one shared word, the ticket counter every
 * transaction writes when it begins (a cache line all threads write), beyond {@link
 * LockAllBenchmark}'s single-thread cost. The ordered baseline is each thread's own d
 * {@code ReentrantLock}s. Taking tickets at the first conflict instead (Bamboo) would remove that
 * write; docs/bench.md ("Tickets at the first conflict") has the measurement. Run it with as many
 * threads as cores (the default here) on an otherwise idle machine, else the threads seldom run at
 * once.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(Threads.MAX)
@State(Scope.Benchmark)
public class SharedClassBenchmark {
    private final WwClass woundWaitClass = WwClass.builder("shared-ww").injectBackoff(false).build();
    private final WwClass waitDieClass = WwClass.builder("shared-wd")
            .algorithm(WwClass.Algorithm.WAIT_DIE).injectBackoff(false).build();

    /** One thread's own mutexes: d of each kind. */
    @State(Scope.Thread)
    public static class Own {
        @Param({"1", "4"})
        public int d;

        ReentrantLock[] ordered;
        WwMutex[] woundWait;
        WwMutex[] waitDie;

        /** Creates this thread's mutexes in the shared classes. */
        @Setup
        public void setUp(SharedClassBenchmark shared) {
            ordered = new ReentrantLock[d];
            woundWait = new WwMutex[d];
            waitDie = new WwMutex[d];
            for (int i = 0; i < d; i++) {
                ordered[i] = new ReentrantLock();
                woundWait[i] = new WwMutex(shared.woundWaitClass);
                waitDie[i] = new WwMutex(shared.waitDieClass);
            }
        }
    }

    /** Baseline: the thread's d {@code ReentrantLock}s in their fixed order, released in reverse. */
    @Benchmark
    public int ordered(Own own) {
        ReentrantLock[] locks = own.ordered;
        for (ReentrantLock l : locks) {
            l.lock();
        }
        for (int i = locks.length - 1; i >= 0; i--) {
            locks[i].unlock();
        }
        return locks.length;
    }

    /** Ours: a wound-wait transaction over the thread's d mutexes of the shared class. */
    @Benchmark
    public int woundWait(Own own) throws BackoffException {
        return transaction(woundWaitClass, own.woundWait);
    }

    /** Ours: a wait-die transaction over the thread's d mutexes of the shared class. */
    @Benchmark
    public int waitDie(Own own) throws BackoffException {
        return transaction(waitDieClass, own.waitDie);
    }

    private static int transaction(WwClass cls, WwMutex[] mutexes) throws BackoffException {
        try (AcquireContext ctx = cls.begin()) {
            for (WwMutex m : mutexes) {
                m.lock(ctx);
            }
            int n = ctx.heldCount();
            ctx.unlockAll();
            return n;
        }
    }
}
