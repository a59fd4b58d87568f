package dev.bufsync.cli.torture;

import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The parameters of one scenario run and the services the runner gives it: a progress counter
 * for the hang watchdog, a thread group for the hang report, the ww class to use, and the
 * back-off invariant check.
 */
final class TortureRun {
    private final WwClass.Algorithm algorithm;
    private final Duration duration;
    private final int threadCount;
    private final boolean injectBackoff;
    private final ThreadGroup group;
    private final LongAdder progress = new LongAdder();
    private final LongAdder backoffs = new LongAdder();
    private final AtomicReference<String> violation = new AtomicReference<>();
    private final List<Thread> started = new ArrayList<>();

    TortureRun(WwClass.Algorithm algorithm, Duration duration, int threadCount,
               boolean injectBackoff, String name) {
        this.algorithm = algorithm;
        this.duration = duration;
        this.threadCount = threadCount;
        this.injectBackoff = injectBackoff;
        this.group = new ThreadGroup("torture-" + name);
    }

    WwClass.Algorithm algorithm() {
        return algorithm;
    }

    Duration duration() {
        return duration;
    }

    /** The number of worker threads a stress scenario should start. */
    int threadCount() {
        return threadCount;
    }

    boolean injectBackoff() {
        return injectBackoff;
    }

    ThreadGroup threads() {
        return group;
    }

    /** A new class for this run: the run's algorithm, injection as asked. */
    WwClass newClass(String name) {
        return WwClass.builder(name).algorithm(algorithm == null ? WwClass.Algorithm.WOUND_WAIT : algorithm)
                .injectBackoff(injectBackoff).build();
    }

    /** A new class that never injects (for scenarios whose expectations are exact). */
    WwClass newExactClass(String name) {
        return WwClass.builder(name).algorithm(algorithm == null ? WwClass.Algorithm.WOUND_WAIT : algorithm)
                .injectBackoff(false).build();
    }

    /** Starts a daemon platform thread in the run's group. */
    Thread newThread(String name, Runnable body) {
        Thread t = new Thread(group, body, group.getName() + "-" + name);
        t.setDaemon(true);
        synchronized (started) {
            started.add(t);
        }
        t.start();
        return t;
    }

    /** Waits for every thread started with {@link #newThread}, except the calling one. */
    void joinAll() throws InterruptedException {
        List<Thread> copy;
        synchronized (started) {
            copy = new ArrayList<>(started);
        }
        for (Thread t : copy) {
            if (t != Thread.currentThread()) {
                t.join();
            }
        }
    }

    /** Waits for {@code latch} through interrupts, then restores the thread's interrupt status. */
    static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reports one step of progress to the watchdog. */
    void tick() {
        progress.increment();
    }

    long progress() {
        return progress.sum();
    }

    /**
     * Checks a back-off against the starvation bound: unless injected or polite (self-imposed, and
     * bounded per transaction by its class), it must name a strictly
     * older live context it yielded to, so the oldest live context of a class never backs off.
     * Counts the back-off.
     */
    void checkBackoff(BackoffException e) {
        backoffs.increment();
        if (e.reason() != BackoffException.Reason.INJECTED && e.reason() != BackoffException.Reason.POLITE
                && !WwClass.isOlder(e.olderStamp(), e.stamp())) {
            violation.compareAndSet(null, "context #" + e.stamp() + " backed off (" + e.reason()
                    + ") for context #" + e.olderStamp() + ", which is not older");
        }
    }

    long backoffs() {
        return backoffs.sum();
    }

    /**
     * The outcome of a stress scenario whose threads were joined: the first failure a worker
     * recorded, else a failure if no transaction completed, else passed.
     */
    Scenario.Outcome stressOutcome(long transactions) {
        String why = failure();
        if (why != null) {
            return Scenario.Outcome.failed(transactions, backoffs(), why);
        }
        if (transactions == 0) {
            return Scenario.Outcome.failed(0, backoffs(), "no transaction completed");
        }
        return Scenario.Outcome.passed(transactions, backoffs());
    }

    /** Records a failure seen by a worker thread; the first one wins. */
    void fail(String why) {
        violation.compareAndSet(null, why);
    }

    /** The first failure recorded by a worker, or {@code null}. */
    String failure() {
        return violation.get();
    }

    /** Tells whether a timed scenario should stop. */
    boolean expired(long startNanos) {
        return System.nanoTime() - startNanos >= duration.toNanos();
    }
}
