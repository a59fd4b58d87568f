package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The watchdog's own life: its settings, its thread (parked between looks, gone after close),
 * and a close that waits for a report under way. What it reports is in {@link EngineTest}.
 */
class WatchdogTest {
    private static final String THREAD_NAME = "bufsync-sched-watchdog";
    private static final Duration WAIT = EngineTest.WAIT;

    private final Signaller gate = FenceContext.create("gate").next();
    private Engine engine;

    /** An engine with one job that waits for {@link #gate}: a watchdog of it sees jobs waiting. */
    @BeforeEach
    void engineWithAWaitingJob() throws InterruptedException {
        engine = Engine.builder("watched").executor(Runnable::run).build();
        engine.newEntity("e").submit(Job.builder("waiting").dependsOn(gate.fence()).run(() -> { }).build());
    }

    @AfterEach
    void release() {
        engine.close();
        gate.trySignal();
    }

    /** A stall time that is not positive is refused. */
    @Test
    void startRefusesANonPositiveStall() {
        assertThatThrownBy(() -> Watchdog.start(Duration.ZERO, r -> { }, engine))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("stall time must be positive, not PT0S");
        assertThatThrownBy(() -> Watchdog.start(Duration.ofMillis(-1), r -> { }, engine))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("stall time must be positive");
    }

    /**
     * Between looks the watchdog's thread is parked; before the stall time it reports nothing,
     * not even on the look that close wakes it for; close ends the thread.
     */
    @Test
    void closeEndsAParkedWatchdogThatHadNothingToReport() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        Set<Thread> before = watchdogThreads();
        Watchdog dog = Watchdog.start(Duration.ofHours(1), reports::add, engine);
        Thread thread = newWatchdogThread(before);
        awaitState(thread, Thread.State.TIMED_WAITING);
        assertThat(dog.report()).startsWith("no fence signalled for 3600000 ms while jobs wait; wait-for graph:\n")
                .contains("  job waiting (e #");
        dog.close();
        assertThat(thread.isAlive()).as("the watchdog thread ended with close").isFalse();
        assertThat(reports).as("no stall within the hour").isEmpty();
    }

    /**
     * One report per stall: the looks after it, the last one (woken by close) included, report
     * nothing more while nothing progresses.
     */
    @Test
    void reportsOncePerStall() throws Exception {
        List<String> reports = new CopyOnWriteArrayList<>();
        CountDownLatch reported = new CountDownLatch(1);
        Set<Thread> before = watchdogThreads();
        Watchdog dog = Watchdog.start(Duration.ofMillis(50), r -> {
            reports.add(r);
            reported.countDown();
        }, engine);
        Thread thread = newWatchdogThread(before);
        assertThat(reported.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("a stall reported").isTrue();
        awaitState(thread, Thread.State.TIMED_WAITING);                 // parked after the report
        dog.close();
        assertThat(reports).singleElement().asString().contains("  job waiting (e #");
    }

    /**
     * Close waits for a report under way to end; interrupted while it waits, it returns with the
     * interrupt status set.
     */
    @Test
    void closeWaitsForAReportUnderWayAndKeepsAnInterrupt() throws Exception {
        CountDownLatch reporting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Set<Thread> before = watchdogThreads();
        Watchdog dog = Watchdog.start(Duration.ofMillis(50), r -> {
            reporting.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, engine);
        Thread thread = newWatchdogThread(before);
        try {
            assertThat(reporting.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("a stall reported").isTrue();
            AtomicBoolean interruptedAfterClose = new AtomicBoolean();
            Thread closer = Thread.ofPlatform().start(() -> {
                dog.close();
                interruptedAfterClose.set(Thread.currentThread().isInterrupted());
            });
            awaitState(closer, Thread.State.TIMED_WAITING);          // close waits for the report
            closer.interrupt();
            closer.join(WAIT.toMillis());
            assertThat(closer.isAlive()).isFalse();
            assertThat(interruptedAfterClose).as("close kept the interrupt").isTrue();
        } finally {
            release.countDown();
        }
        thread.join(WAIT.toMillis());
        assertThat(thread.isAlive()).isFalse();
    }

    /**
     * A stall time too long for a long of nanoseconds (ChronoUnit.FOREVER's) is a stall never
     * reached: the old watchdog's report threw an ArithmeticException, and so did its thread.
     */
    @Test
    void aStallBeyondLongNanosecondsIsNeverReached() throws Exception {
        Set<Thread> before = watchdogThreads();
        try (Watchdog dog = Watchdog.start(ChronoUnit.FOREVER.getDuration(), r -> { }, engine)) {
            Thread thread = newWatchdogThread(before);
            assertThat(dog.report()).startsWith("no fence signalled for " + Long.MAX_VALUE / 1_000_000 + " ms");
            awaitState(thread, Thread.State.TIMED_WAITING);
        }
    }

    private static Set<Thread> watchdogThreads() {
        Set<Thread> threads = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(THREAD_NAME)) {
                threads.add(t);
            }
        }
        return threads;
    }

    /** The watchdog thread started since {@code before} was taken. */
    private static Thread newWatchdogThread(Set<Thread> before) {
        Set<Thread> now = watchdogThreads();
        now.removeAll(before);
        assertThat(now).as("one new watchdog thread").hasSize(1);
        return now.iterator().next();
    }

    /** Polls until {@code t} is in {@code state}; fails if it ends first or the wait runs out. */
    private static void awaitState(Thread t, Thread.State state) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Thread.State now;
        while ((now = t.getState()) != state) {
            assertThat(now).as("%s ended before it was %s", t, state).isNotEqualTo(Thread.State.TERMINATED);
            assertThat(System.nanoTime() - deadline).as("%s still %s, not %s", t, now, state).isNegative();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
