package dev.bufsync.sched;

import java.time.Duration;
import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The JDK Flight Recorder events of the {@code sched} package: a job finished (every job) and a
 * job timed out. Both are on by default, without stack traces (they are committed by whichever
 * thread finishes the job). Call sites in {@link Engine} are one line each.
 */
final class SchedEvents {
    /*
     * Overview.
     *
     * The standard JFR idiom (see dev.bufsync.ww.WwEvents): shouldCommit() is a constant false
     * until a recording first starts, then a check of one flag while none runs. A job starts on
     * one thread and finishes on another, so JFR's own duration (and its threshold) cannot
     * measure it: the run time is a field, from the job's start to its finish, and the events are
     * instant.
     */

    private SchedEvents() {
    }

    /** A job finished: completed, failed, timed out or cancelled. */
    @Name("dev.bufsync.sched.JobFinished")
    @Label("Job Finished")
    @Category({"bufsync", "Scheduler"})
    @Description("A job of an engine finished and its finished fence signals")
    @StackTrace(false)
    static final class Finished extends Event {
        @Label("Engine")
        String engine;

        @Label("Entity")
        String entity;

        @Label("Job")
        String job;

        @Label("Seqno")
        @Description("The job's sequence number in its entity")
        long seqno;

        @Label("Run Time")
        @Description("From the job's start to its finish; 0 if it never started")
        @Timespan(Timespan.NANOSECONDS)
        long runTime;

        @Label("Status")
        @Description("COMPLETED, FAILED, TIMED_OUT, CANCELLED or DEPENDENCY_FAILED")
        String status;
    }

    /** A job ran longer than its timeout. */
    @Name("dev.bufsync.sched.JobTimeout")
    @Label("Job Timeout")
    @Category({"bufsync", "Scheduler"})
    @Description("A job ran longer than its timeout and finishes with a JobTimeoutException")
    @StackTrace(false)
    static final class Timeout extends Event {
        @Label("Engine")
        String engine;

        @Label("Entity")
        String entity;

        @Label("Job")
        String job;

        @Label("Seqno")
        long seqno;

        @Label("Timeout")
        @Timespan(Timespan.NANOSECONDS)
        long timeout;
    }

    /** Commits a finished event for {@code job} of {@code engine}, whose finished fence has signalled. */
    static void finished(Engine engine, SubmittedJob job) {
        Finished e = new Finished();
        if (e.shouldCommit()) {
            e.engine = engine.name();
            e.entity = job.entity().name();
            e.job = job.name();
            e.seqno = job.seqno();
            long start = job.startNanos();
            e.runTime = start == 0L ? 0L : System.nanoTime() - start;
            e.status = status(job.outcome());
            e.commit();
        }
    }

    /** Commits a timeout event for {@code job} of {@code engine}, which ran longer than {@code limit}. */
    static void timeout(Engine engine, SubmittedJob job, Duration limit) {
        Timeout e = new Timeout();
        if (e.shouldCommit()) {
            e.engine = engine.name();
            e.entity = job.entity().name();
            e.job = job.name();
            e.seqno = job.seqno();
            e.timeout = limit.toNanos();
            e.commit();
        }
    }

    private static String status(Throwable error) {
        if (error == null) {
            return "COMPLETED";
        } else if (error instanceof JobTimeoutException) {
            return "TIMED_OUT";
        } else if (error instanceof JobCancelledException) {
            return "CANCELLED";
        } else if (error instanceof DependencyFailedException) {
            return "DEPENDENCY_FAILED";
        }
        return "FAILED";
    }
}
