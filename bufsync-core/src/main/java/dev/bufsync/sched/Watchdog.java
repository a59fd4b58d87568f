package dev.bufsync.sched;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Reports a stall: when jobs of the watched engines wait and no fence of theirs has signalled for
 * the configured time, the watchdog hands the wait-for graph of jobs, fences and buffers to its
 * reporter, once per stall. It changes nothing; it tells who waits for whom.
 *
 * <pre>{@code
 * try (Watchdog dog = Watchdog.start(Duration.ofSeconds(5), System.err::println, gpu, display)) {
 *     ...
 * }
 * }</pre>
 */
public final class Watchdog implements AutoCloseable {
    /*
     * Overview. One daemon thread wakes every quarter of the stall time, takes the latest
     * progress time of the engines and, if some engine has unfinished jobs and nothing progressed
     * for the stall time, reports once; it reports again only after progress resumed. A report
     * or reporter that throws is logged and the thread watches on (one failed report never ends
     * the watching). `stopped` is volatile, written by close.
     */

    private static final System.Logger LOG = System.getLogger("dev.bufsync.sched");

    private final long stallNanos;               // saturated: a longer stall is never reached
    private final Consumer<String> reporter;
    private final List<Engine> engines;
    private final Thread thread;
    private volatile boolean stopped;

    private Watchdog(Duration stall, Consumer<String> reporter, List<Engine> engines) {
        this.stallNanos = Engine.nanos(stall);
        this.reporter = reporter;
        this.engines = engines;
        this.thread = Thread.ofPlatform().daemon().name("bufsync-sched-watchdog").unstarted(this::watch);
    }

    /**
     * Starts watching.
     *
     * @param stall how long without progress, while jobs wait, counts as a stall; positive
     * @param reporter receives the report
     * @param engines the engines to watch; their jobs may wait on one another
     * @return the running watchdog; close it
     */
    public static Watchdog start(Duration stall, Consumer<String> reporter, Engine... engines) {
        if (stall.isNegative() || stall.isZero()) {
            throw new IllegalArgumentException("stall time must be positive, not " + stall);
        }
        Watchdog w = new Watchdog(stall, Objects.requireNonNull(reporter, "reporter"), List.of(engines));
        w.thread.start();
        return w;
    }

    /**
     * The report the watchdog would give now: every unfinished job and what it waits for.
     *
     * @return the wait-for graph
     */
    public String report() {
        StringBuilder sb = new StringBuilder("no fence signalled for " + TimeUnit.NANOSECONDS.toMillis(stallNanos)
                + " ms while jobs wait; wait-for graph:\n");
        for (Engine e : engines) {
            sb.append(e.describeWaits(engines));
        }
        return sb.toString();
    }

    private void watch() {
        long reportedAt = Long.MIN_VALUE;
        while (!stopped) {
            LockSupport.parkNanos(this, Math.max(1, stallNanos / 4));
            long last = Long.MIN_VALUE;
            boolean waiting = false;
            for (Engine e : engines) {
                last = Math.max(last, e.lastProgressNanos());
                waiting |= e.hasPendingJobs();
            }
            if (waiting && System.nanoTime() - last >= stallNanos && last != reportedAt) {
                reportedAt = last;
                tell();
            }
        }
    }

    /** Hands the report to the reporter; if building or taking it throws, logs that and watches on. */
    private void tell() {
        try {
            reporter.accept(report());
        } catch (Throwable t) {
            try {
                LOG.log(System.Logger.Level.ERROR, "watchdog: reporting a stall threw; watching on", t);
            } catch (Throwable ignored) {
                // the logging itself failed: nobody is left to tell
            }
        }
    }

    /** Stops watching and waits for the watchdog thread to end. */
    @Override
    public void close() {
        stopped = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
