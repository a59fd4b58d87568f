package dev.bufsync.cli.demo;

import dev.bufsync.cli.Output;
import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;

/**
 * The demo's scenario as a measurement: one quiet run (no trace, no progress) of a locking mode,
 * its completed jobs per second. {@code bufsync bench}'s {@code demo} benchmark runs the same
 * {@link DemoRun} as {@code bufsync demo}, so the two cannot drift apart.
 */
public final class DemoThroughput {
    private DemoThroughput() {
    }

    /**
     * Runs the demo once and returns its throughput.
     *
     * @param locking {@code ww} or {@code global} (a naive run deadlocks and has no throughput)
     * @param drivers the drivers (threads submitting jobs)
     * @param buffers the shared buffers
     * @param duration how long the drivers submit
     * @param seed the seed of every driver's workload: equal seeds give equal workloads
     * @return completed jobs per second
     * @throws InterruptedException if interrupted
     * @throws IllegalArgumentException if {@code locking} is not ww or global
     * @throws IllegalStateException if a job failed or timed out, or a fence was left pending
     */
    public static double jobsPerSecond(String locking, int drivers, int buffers, Duration duration,
                                       long seed) throws InterruptedException {
        Locking mode = Locking.parse(locking);
        if (mode == Locking.NAIVE) {
            throw new IllegalArgumentException("the naive mode deadlocks: it has no throughput to measure");
        }
        Output quiet = new Output(new PrintStream(OutputStream.nullOutputStream()), false);
        DemoRun.Result r = new DemoRun(new DemoRun.Settings(mode, drivers, buffers, duration, seed, null, quiet)).run();
        if (r.errors() > 0 || r.fencesPending() > 0 || r.deadlocked()) {
            throw new IllegalStateException("demo " + locking + " with " + drivers + " drivers on " + buffers
                    + " buffers: " + r.errors() + " failed jobs, " + r.fencesPending() + " fences pending");
        }
        return r.throughputPerSec();
    }
}
