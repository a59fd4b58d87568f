package dev.bufsync.fence;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.ObjLongConsumer;

/**
 * A log that a flood cannot run out of memory: at most {@code limit} lines per interval are
 * logged one by one; the lines beyond are counted, and the count is logged in one summary line
 * once the interval is over, by a virtual thread that waits for its end or by the next line after
 * it, whichever comes first. Every line asked for is either logged or counted in a summary.
 */
final class BoundedLog {
    /*
     * Overview. One window at a time: windowStart (clock time), logged (lines logged in it) and
     * suppressed (lines counted instead), all guarded by this object's monitor, under which only
     * arithmetic runs; the logging and the start of the summary thread happen after it is
     * released. A line that arrives after the window's end rolls the window over and takes the
     * count; the first suppressed line of a window arranges a flush at the window's end, which
     * rolls it over too. Whoever rolls first takes the count, so each count is logged once.
     */

    /** Lines logged one by one per interval by the library's own bounded logs. */
    static final int LIMIT = 10;
    /** The interval of the library's own bounded logs. */
    static final Duration INTERVAL = Duration.ofMinutes(1);

    private final Logger log;
    private final Level level;
    private final String what;                  // the lines' subject, plural, for the summary
    private final int limit;
    private final long intervalNanos;
    private final LongSupplier clock;
    private final ObjLongConsumer<Runnable> later;  // runs a flush after a delay in nanoseconds
    private long windowStart;                   // guarded by this
    private int logged;                         // guarded by this
    private long suppressed;                    // guarded by this

    BoundedLog(Logger log, Level level, String what, int limit, Duration interval, LongSupplier clock,
               ObjLongConsumer<Runnable> later) {
        this.log = log;
        this.level = level;
        this.what = what;
        this.limit = limit;
        this.intervalNanos = interval.toNanos();
        this.clock = clock;
        this.later = later;
        this.windowStart = clock.getAsLong() - intervalNanos;
    }

    /** The library's bounded log: {@link #LIMIT} lines per {@link #INTERVAL}, summaries on a virtual thread. */
    static BoundedLog of(Logger log, Level level, String what) {
        return new BoundedLog(log, level, what, LIMIT, INTERVAL, System::nanoTime, BoundedLog::flushLater);
    }

    /** Logs {@code message} (with {@code thrown}, which may be null) unless this interval's limit is reached. */
    void log(String message, Throwable thrown) {
        long now = clock.getAsLong();
        long summary;
        boolean individual;
        boolean firstSuppressed;
        long untilEnd;
        synchronized (this) {
            summary = roll(now);
            individual = logged < limit;
            if (individual) {
                logged++;
            } else {
                suppressed++;
            }
            firstSuppressed = suppressed == 1 && !individual;
            untilEnd = windowStart + intervalNanos - now;
        }
        logSummary(summary);
        if (individual) {
            log.log(level, message, thrown);
        } else if (firstSuppressed) {
            try {
                later.accept(this::flush, untilEnd);
            } catch (Throwable cannotSchedule) {
                // the next line after the window logs the count instead
            }
        }
    }

    /** Logs the count of the window if it is over; otherwise does nothing. */
    void flush() {
        long summary;
        synchronized (this) {
            summary = roll(clock.getAsLong());
        }
        logSummary(summary);
    }

    /** Starts a new window if the current one is over; returns the count it suppressed. Under the monitor. */
    private long roll(long now) {
        if (now - windowStart < intervalNanos) {
            return 0;
        }
        long count = suppressed;
        windowStart = now;
        logged = 0;
        suppressed = 0;
        return count;
    }

    private void logSummary(long count) {
        if (count > 0) {
            log.log(level, count + " more " + what + " not logged one by one (at most " + limit
                    + " are per " + Duration.ofNanos(intervalNanos) + ")");
        }
    }

    /** Runs {@code flush} on a virtual thread once {@code delayNanos} have passed. */
    static void flushLater(Runnable flush, long delayNanos) {
        long end = System.nanoTime() + delayNanos;
        Thread.ofVirtual().name("bufsync-fence-log-summary").start(() -> {
            for (long left = delayNanos; left > 0; left = end - System.nanoTime()) {
                LockSupport.parkNanos(left);
            }
            try {
                flush.run();
            } catch (Throwable logFailed) {
                // nobody left to tell
            }
        });
    }
}
