package dev.bufsync.exec;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import java.util.ArrayList;
import java.util.List;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code exec-lock-all}: one uncontended command submission over {@code d} reservations: lock
 * them all, reserve a slot on each, publish one fence on each, unlock.
 *
 * <p>Hypothesis: the {@link Exec} loop adds little to a hand-written wound/wait transaction (a
 * lambda call and a list of locked objects), and the whole submission stays within a small factor
 * of taking {@code d} {@code ReentrantLock}s in a known order, which cannot publish fences and
 * needs the order in advance.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class ExecBenchmark {
    @Param({"1", "2", "5", "10", "20"})
    public int d;

    private final FenceContext context = FenceContext.create("bench-exec");
    private List<HasReservation> objects;
    private ReentrantLock[] ordered;
    private Signaller previous;

    /** Creates the reservations and the baseline's locks. */
    @Setup
    public void setUp() {
        objects = new ArrayList<>();
        ordered = new ReentrantLock[d];
        for (int i = 0; i < d; i++) {
            objects.add(new Reservation());
            ordered[i] = new ReentrantLock();
        }
        previous = context.next();
    }

    /** Ours: Exec locks and prepares every object, then a fence is added to each. */
    @Benchmark
    public int wwExec() throws InterruptedException {
        Signaller done = context.next();
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                for (HasReservation o : objects) {
                    e.prepare(o, 1);
                }
            });
            for (HasReservation o : exec.locked()) {
                o.reservation().addFence(done.fence(), Usage.WRITE);
            }
        }
        return retire(done);
    }

    /** Ours, by hand: the same with an AcquireContext and the back-off loop written out. */
    @Benchmark
    public int byHand() {
        Signaller done = context.next();
        try (AcquireContext ctx = Reservation.DEFAULT_CLASS.begin()) {
            for (;;) {
                try {
                    for (HasReservation o : objects) {
                        o.reservation().lock(ctx);
                    }
                    break;
                } catch (BackoffException e) {
                    ctx.unlockAll();
                    e.mutex().lockSlow(ctx);
                }
            }
            for (HasReservation o : objects) {
                Reservation r = o.reservation();
                r.reserveFences(1);
                r.addFence(done.fence(), Usage.WRITE);
                r.unlock();
            }
        }
        return retire(done);
    }

    /** Baseline: d ReentrantLocks in a known order (no fences: it has nowhere to put them). */
    @Benchmark
    public int ordered() {
        for (ReentrantLock l : ordered) {
            l.lock();
        }
        for (int i = d - 1; i >= 0; i--) {
            ordered[i].unlock();
        }
        return d;
    }

    private int retire(Signaller done) {
        previous.signal();
        previous = done;
        return d;
    }
}
