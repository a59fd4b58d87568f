package dev.bufsync.check;

import java.util.Locale;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/**
 * The JDK Flight Recorder event of the {@code check} package: a dependency cycle reported, with
 * the stack of the call that closed it. On by default. The call site in {@link Checker} is one line.
 */
final class CheckEvents {
    /*
     * Overview.
     *
     * The standard JFR idiom: without a recording the event class is not instrumented and
     * shouldCommit() is a constant false. The event never throws into the checker: a failure to
     * commit is swallowed, as the report it accompanies goes on without it.
     */

    private CheckEvents() {
    }

    /** The checker found a lock/fence dependency cycle. */
    @Name("dev.bufsync.check.DependencyCycle")
    @Label("Dependency Cycle")
    @Category({"bufsync", "Check"})
    @Description("The first edge that closes a cycle of lock classes and fence contexts: a"
            + " potential deadlock, reported before any thread is stuck")
    static final class Cycle extends Event {
        @Label("Policy")
        @Description("warn or throw")
        String policy;

        @Label("Contexts")
        @Description("The fence contexts on the cycle")
        String contexts;

        @Label("Locks")
        @Description("The lock classes on the cycle")
        String locks;

        @Label("Cycle")
        @Description("Every edge with the top frame of the call that first recorded it")
        String cycle;
    }

    /** Commits a cycle event; never throws. */
    static void cycle(DependencyCycle c, CheckPolicy p) {
        try {
            Cycle e = new Cycle();
            if (e.shouldCommit()) {
                e.policy = p.name().toLowerCase(Locale.ROOT);
                e.contexts = String.join(", ", c.contexts());
                e.locks = String.join(", ", c.locks());
                e.cycle = c.describe();
                e.commit();
            }
        } catch (Throwable ignored) {          // out of memory, a broken recording: the report goes on
        }
    }
}
