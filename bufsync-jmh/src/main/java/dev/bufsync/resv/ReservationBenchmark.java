package dev.bufsync.resv;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * {@code reservation}: the writer and reader paths of a {@link Reservation} holding {@code fences}
 * fences of distinct contexts.
 *
 * <p>Hypothesis: publishing a fence (lock, reserve, add, unlock) costs the lock plus one copy of
 * the short list, and a lock-free snapshot read costs one acquire load plus a filter of the list:
 * tens of nanoseconds for the handful of fences a buffer carries (same-context replacement keeps
 * the list as long as the number of producers).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ReservationBenchmark {
    @Param({"1", "4", "16"})
    public int fences;

    private final Reservation resv = new Reservation();
    private final FenceContext producer = FenceContext.create("bench-producer");
    private final List<Signaller> others = new ArrayList<>();
    private Signaller last;

    /** Attaches {@code fences - 1} pending fences of other contexts and one of the producer's. */
    @Setup(Level.Trial)
    public void attach() {
        resv.lock();
        resv.reserveFences(fences);
        for (int i = 1; i < fences; i++) {
            Signaller s = FenceContext.create("other-" + i).next();
            others.add(s);
            resv.addFence(s.fence(), i % 2 == 0 ? Usage.WRITE : Usage.READ);
        }
        last = producer.next();
        resv.addFence(last.fence(), Usage.WRITE);
        resv.unlock();
    }

    /** Signals what is still pending, so that no fence is reported as forgotten. */
    @TearDown(Level.Trial)
    public void signalAll() {
        others.forEach(Signaller::trySignal);
        last.trySignal();
    }

    /** Writer: publish the producer's next fence, replacing its previous one. */
    @Benchmark
    public Reservation addFence() {
        Signaller next = producer.next();
        resv.lock();
        resv.reserveFences(1);
        resv.addFence(next.fence(), Usage.WRITE);
        resv.unlock();
        last.signal();
        last = next;
        return resv;
    }

    /** Reader: the snapshot of what a write would wait for, without a lock. */
    @Benchmark
    public List<Fence> snapshot() {
        return resv.fences(Usage.READ);
    }

    /** Reader: has everything a read waits for signalled? */
    @Benchmark
    public boolean isSignaled() {
        return resv.isSignaled(Usage.WRITE);
    }
}
