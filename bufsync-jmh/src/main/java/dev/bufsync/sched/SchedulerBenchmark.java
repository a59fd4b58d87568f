package dev.bufsync.sched;

import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
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
 * {@code scheduler}: schedule and retire one job that touches {@code buffers} buffers (half
 * written, half read), on one thread: the engine runs work on the submitting thread
 * ({@code executor(Runnable::run)}), so one operation is the whole life of a job: lock the
 * buffers, collect dependencies, arm, publish, unlock, queue, dispatch, run, finish, signal.
 *
 * <p>Hypothesis (targets in docs/bench.md): at most 1 µs with 10 buffers and 10 µs with 100
 * (Solana's unified scheduler claims about 100 ns and 1 µs for a transaction of 10 and 100
 * accounts, without fences or locks). The per-buffer cost is one lock, one slot reservation, one
 * fence list copy and one unlock, so the total grows linearly with the buffers.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SchedulerBenchmark {
    @Param({"10", "100"})
    public int buffers;

    private Engine engine;
    private Entity entity;
    private Job job;

    /** An inline engine and a job over {@code buffers} fresh reservations. */
    @Setup(Level.Trial)
    public void setUp() {
        engine = Engine.builder("bench").executor(Runnable::run).inOrder(true).build();
        entity = engine.newEntity("bench");
        List<HasReservation> writes = new ArrayList<>();
        List<HasReservation> reads = new ArrayList<>();
        for (int i = 0; i < buffers; i++) {
            (i % 2 == 0 ? writes : reads).add(new Reservation());
        }
        job = Job.builder("job").writes(writes).reads(reads).run(() -> { }).build();
    }

    /** Closes the engine. */
    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    /** Ours: submit one job and let it run and retire. */
    @Benchmark
    public SubmittedJob scheduler() throws InterruptedException {
        return entity.submit(job);
    }
}
