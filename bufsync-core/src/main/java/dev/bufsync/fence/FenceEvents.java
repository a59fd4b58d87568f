package dev.bufsync.fence;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * The JDK Flight Recorder events of the {@code fence} package: a wait for a fence (20 ms or
 * longer, like the JDK's {@code jdk.ThreadPark}) and an abandoned fence. Both are on by default.
 * Call sites in {@link Fence} and {@link Fences} are one line each.
 */
final class FenceEvents {
    /*
     * Overview.
     *
     * The standard JFR idiom (see dev.bufsync.ww.WwEvents): shouldCommit() is a constant false
     * until a recording first starts, then a check of one flag while none runs. The wait event is
     * begun only on the slow path of await, after the fence was found pending.
     */

    private FenceEvents() {
    }

    /** A thread waited for a fence. */
    @Name("dev.bufsync.fence.FenceWait")
    @Label("Fence Wait")
    @Category({"bufsync", "Fence"})
    @Description("A thread waited for a fence to signal")
    @Threshold("20 ms")
    static final class Wait extends Event {
        @Label("Context")
        @Description("The fence's context (timeline) id")
        long context;

        @Label("Timeline")
        @Description("The name of the fence's timeline")
        String timeline;

        @Label("Seqno")
        @Description("The fence's sequence number in its context (unsigned)")
        long seqno;

        @Label("Outcome")
        @Description("signaled, failed (signalled with an error), timed out or interrupted")
        String outcome;
    }

    /** A fence signalled with an error because its producer forgot it. */
    @Name("dev.bufsync.fence.FenceAbandoned")
    @Label("Fence Abandoned")
    @Category({"bufsync", "Fence"})
    @Description("A pending fence whose Signaller became unreachable was signalled with a"
            + " FenceAbandonedException")
    @StackTrace(false)
    static final class Abandoned extends Event {
        @Label("Context")
        long context;

        @Label("Timeline")
        String timeline;

        @Label("Seqno")
        long seqno;
    }

    /**
     * Begins the wait event of a thread about to wait for a pending fence, and fills in what needs
     * allocating if a recording has the event enabled, so that ending it allocates nothing.
     *
     * @return the begun event, for {@link #endWait}
     */
    static Wait beginWait(Fence f) {
        Wait e = new Wait();
        if (e.isEnabled()) {
            e.context = f.context();
            e.timeline = f.timelineName();
            e.seqno = f.seqno();
        }
        e.begin();
        return e;
    }

    /**
     * Ends and, if a recording wants it, commits a wait event; allocates nothing of its own.
     *
     * @param interrupted whether the wait ended by an interrupt
     */
    static void endWait(Wait e, Fence f, boolean interrupted) {
        e.end();
        if (e.shouldCommit()) {
            Fence.Status s = f.status();
            e.outcome = s == Fence.Status.SIGNALED ? "signaled" : s == Fence.Status.FAILED ? "failed"
                    : interrupted ? "interrupted" : "timed out";
            e.commit();
        }
    }

    /**
     * Commits an abandoned-fence event. Never throws, as the report it belongs to: an event that
     * cannot be recorded (out of memory) is dropped.
     */
    static void abandoned(Fence f) {
        try {
            Abandoned e = new Abandoned();
            if (e.shouldCommit()) {
                e.context = f.context();
                e.timeline = f.timelineName();
                e.seqno = f.seqno();
                e.commit();
            }
        } catch (Throwable dropped) {
            // nothing to report it to: the thread that abandons fences must carry on
        }
    }
}
