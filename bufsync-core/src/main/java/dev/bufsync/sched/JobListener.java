package dev.bufsync.sched;

/**
 * Told about the life of every job of an engine, for traces and metrics. Methods run on the thread
 * that causes the event (a submitter, a dispatcher, a completing device) and must be quick and must
 * not block. What they throw goes to the engine's failure reporter and changes nothing: the job
 * goes on as if the call had returned. The default methods do nothing.
 */
public interface JobListener {
    /** A listener that ignores everything. */
    JobListener NONE = new JobListener() {
    };

    /**
     * A job was armed and queued, its buffers unlocked.
     *
     * @param job the job, with its dependencies
     * @param retries how many times locking its buffers had to back off and retry
     */
    default void onSubmit(SubmittedJob job, int retries) {
    }

    /**
     * A job started: its scheduled fence signalled and its work is about to be handed to the
     * executor.
     *
     * @param job the job
     */
    default void onStart(SubmittedJob job) {
    }

    /**
     * A job's finished fence signalled (with or without an error).
     *
     * @param job the job
     */
    default void onFinish(SubmittedJob job) {
    }
}
