package dev.bufsync.cli;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ctrl-C (SIGINT) for the command line. The first one asks the running command to stop: a command
 * polls {@link #requested()} between its steps, stops early, prints "interrupted" and what it did
 * so far, writes its partial output, and {@link Main} exits with status 130 (128 + SIGINT, as
 * shells do). A second Ctrl-C ends the JVM at once with the same status.
 *
 * <p>Without the JDK's {@code sun.misc.Signal} (module jdk.unsupported) the JVM's default handling
 * stays: Ctrl-C ends the process, without a report.
 */
public final class Interrupts {
    /** Ctrl-C presses since the running command began; written by the signal thread and {@link #reset()}. */
    private static final AtomicInteger REQUESTS = new AtomicInteger();

    private Interrupts() {
    }

    /** Routes SIGINT to {@link #request()}; called once by {@code main}. */
    static void install() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> request());
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            // No signal support here: Ctrl-C keeps the JVM's default meaning.
        }
    }

    /** Forgets earlier requests; called before each command runs. */
    static void reset() {
        REQUESTS.set(0);
    }

    /**
     * What Ctrl-C does: asks the running command to stop, or, the second time, ends the JVM.
     * Tests call it directly.
     */
    public static void request() {
        if (REQUESTS.incrementAndGet() > 1) {
            System.err.println("interrupted again: quitting at once");
            Runtime.getRuntime().halt(Main.INTERRUPTED);
        }
        System.err.println("interrupted: stopping and reporting what was done (Ctrl-C again to quit at once)");
    }

    /**
     * Whether Ctrl-C was pressed since the running command began: a command polls it between
     * steps and stops early.
     *
     * @return {@code true} once the user asked to stop
     */
    public static boolean requested() {
        return REQUESTS.get() > 0;
    }
}
