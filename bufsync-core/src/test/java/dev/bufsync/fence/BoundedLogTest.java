package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The bounded log behind the default abandoned-fence handler, on a clock and a scheduler driven by
 * the test: a flood logs {@code limit} lines per interval and one summary with the count of the
 * others, whoever notices first that the interval is over.
 */
class BoundedLogTest {
    private static final Duration INTERVAL = Duration.ofSeconds(60);

    private final AtomicLong clock = new AtomicLong(1_000L);
    private final List<String> lines = new ArrayList<>();
    private final List<Throwable> thrown = new ArrayList<>();
    private final List<Runnable> flushes = new ArrayList<>();
    private final List<Long> delays = new ArrayList<>();
    private final BoundedLog log = new BoundedLog(new Capture(), Level.WARNING, "forgotten fences", 3, INTERVAL,
            clock::get, (flush, delay) -> {
                flushes.add(flush);
                delays.add(delay);
            });

    private void logMany(int n) {
        for (int i = 0; i < n; i++) {
            log.log("line " + i, null);
        }
    }

    private void endInterval() {
        clock.addAndGet(INTERVAL.toNanos());
    }

    /** A flood logs the limit one by one, counts the rest, and the flush at the window's end logs the count once. */
    @Test
    void floodLoggedUpToTheLimitThenSummarisedOnce() {
        clock.addAndGet(5);
        logMany(100);
        assertThat(lines).containsExactly("line 0", "line 1", "line 2");
        assertThat(flushes).as("one flush arranged, by the first suppressed line").hasSize(1);
        assertThat(delays).containsExactly(INTERVAL.toNanos());

        flushes.get(0).run();
        assertThat(lines).as("a flush before the window's end logs nothing").hasSize(3);

        endInterval();
        flushes.get(0).run();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(3)).startsWith("97 more forgotten fences not logged one by one")
                .contains("at most 3", "PT1M");
        flushes.get(0).run();
        assertThat(lines).as("the count is logged once").hasSize(4);
    }

    /** The next line after the window logs the count before itself; the later flush finds nothing left. */
    @Test
    void nextLineAfterTheWindowLogsTheCount() {
        logMany(5);
        clock.addAndGet(INTERVAL.toNanos() - 1);
        log.log("still suppressed", null);
        assertThat(lines).containsExactly("line 0", "line 1", "line 2");
        clock.addAndGet(1);
        log.log("new window", null);
        assertThat(lines).hasSize(5);
        assertThat(lines.get(3)).startsWith("3 more forgotten fences");
        assertThat(lines.get(4)).isEqualTo("new window");
        flushes.get(0).run();
        assertThat(lines).hasSize(5);
    }

    /** Each window gets its limit afresh, and arranges its own flush when it first suppresses. */
    @Test
    void everyWindowHasItsOwnLimit() {
        logMany(4);
        endInterval();
        logMany(4);
        assertThat(lines).containsExactly("line 0", "line 1", "line 2",
                "1 more forgotten fences not logged one by one (at most 3 are per PT1M)", "line 0", "line 1", "line 2");
        assertThat(flushes).hasSize(2);
    }

    /** Below the limit nothing is suppressed, no flush is arranged, and the throwable is passed on. */
    @Test
    void belowTheLimitEveryLineIsLoggedWithItsThrowable() {
        IllegalStateException failure = new IllegalStateException("handler");
        log.log("with failure", failure);
        logMany(2);
        endInterval();
        log.flush();
        assertThat(lines).containsExactly("with failure", "line 0", "line 1");
        assertThat(thrown.get(0)).isSameAs(failure);
        assertThat(flushes).isEmpty();
    }

    /** A scheduler that cannot start the flush loses nothing: the next line after the window logs the count. */
    @Test
    void failedSchedulingLeavesTheCountToTheNextLine() {
        BoundedLog failing = new BoundedLog(new Capture(), Level.WARNING, "forgotten fences", 1, INTERVAL, clock::get,
                (flush, delay) -> {
                    throw new OutOfMemoryError("unable to create thread");
                });
        failing.log("first", null);
        failing.log("counted", null);
        endInterval();
        failing.log("next", null);
        assertThat(lines).containsExactly("first", "1 more forgotten fences not logged one by one (at most 1 are per PT1M)",
                "next");
    }

    /**
     * The library's scheduler runs the flush on a virtual thread, not before the delay has passed.
     * The delay is long enough that a flush run at once could not pass for a late one on a loaded
     * machine (starting the virtual thread takes far less).
     */
    @Test
    void libraryFlushRunsAfterTheDelay() throws Exception {
        long delay = TimeUnit.MILLISECONDS.toNanos(250);
        long start = System.nanoTime();
        AtomicLong elapsed = new AtomicLong();
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        BoundedLog.flushLater(() -> {
            elapsed.set(System.nanoTime() - start);
            ranOn.complete(Thread.currentThread());
        }, delay);
        assertThat(ranOn.get(30, TimeUnit.SECONDS).isVirtual()).isTrue();
        assertThat(elapsed.get()).isGreaterThanOrEqualTo(delay);
    }

    /** A System.Logger that records the messages it is given. */
    private class Capture implements System.Logger {
        @Override
        public String getName() {
            return "capture";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable t) {
            synchronized (BoundedLogTest.this) {
                lines.add(msg);
                thrown.add(t);
            }
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            log(level, bundle, format, (Throwable) null);
        }

    }
}
