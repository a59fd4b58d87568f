package dev.bufsync.exec;

import dev.bufsync.resv.HasReservation;
import dev.bufsync.ww.AcquireContext;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JDK Flight Recorder event of the {@code exec} package: a retry of a lock-all body after a
 * back-off, committed after the exec has unlocked everything. On by default, without a stack trace
 * (the back-off's own event says how many locks were dropped). The call site in {@link Exec} is
 * one line.
 */
final class ExecEvents {
    /*
     * Overview.
     *
     * The standard JFR idiom (see dev.bufsync.ww.WwEvents): shouldCommit() is a constant false
     * until a recording first starts, then a check of one flag while none runs.
     */

    private ExecEvents() {
    }

    /** A lock-all body runs again after a back-off. */
    @Name("dev.bufsync.exec.ExecRetry")
    @Label("Exec Retry")
    @Category({"bufsync", "Exec"})
    @Description("Exec.untilAllLocked backed off: it unlocks everything, slow-locks the contended"
            + " object and runs the body again")
    @StackTrace(false)
    static final class Retry extends Event {
        @Label("Stamp")
        @Description("The stamp of the exec's transaction")
        long stamp;

        @Label("Contended")
        @Description("The name of the contended object's reservation, locked next")
        String contended;

        @Label("Retry")
        @Description("The number of this retry, 1 for the first")
        int retry;
    }

    /**
     * Commits a retry event.
     *
     * @param ctx the exec's context
     * @param contended the object the back-off named
     * @param retry the retry count, this one included
     */
    static void retry(AcquireContext ctx, HasReservation contended, int retry) {
        Retry e = new Retry();
        if (e.shouldCommit()) {
            e.stamp = ctx.stamp();
            e.contended = contended.reservation().name();
            e.retry = retry;
            e.commit();
        }
    }
}
