package dev.bufsync.management;

/**
 * The management interface of one {@link dev.bufsync.sched.Engine}: its configuration and the
 * counters of {@link dev.bufsync.sched.Engine#stats()}, read live on every attribute access.
 * Registered by {@link MBeans#register(dev.bufsync.sched.Engine)} as
 * {@code dev.bufsync:type=Engine,name=<engine name>}.
 */
public interface EngineMXBean {
    /**
     * The device's name.
     *
     * @return the name
     */
    String getName();

    /**
     * The most credits the jobs in flight may hold together.
     *
     * @return the credit limit
     */
    int getCreditLimit();

    /**
     * Jobs submitted.
     *
     * @return the count
     */
    long getSubmitted();

    /**
     * Jobs whose work finished without error.
     *
     * @return the count
     */
    long getCompleted();

    /**
     * Jobs whose work failed, or that did not run because a dependency failed.
     *
     * @return the count
     */
    long getFailed();

    /**
     * Jobs that ran longer than their timeout.
     *
     * @return the count
     */
    long getTimedOut();

    /**
     * Jobs cancelled by closing their entity or engine.
     *
     * @return the count
     */
    long getCancelled();

    /**
     * Jobs waiting in the entities' queues now.
     *
     * @return the number
     */
    int getQueued();

    /**
     * Jobs running now.
     *
     * @return the number
     */
    int getInFlight();

    /**
     * Scheduled and finished fences created (two per job).
     *
     * @return the count
     */
    long getFencesCreated();

    /**
     * Fences signalled.
     *
     * @return the count
     */
    long getFencesSignaled();

    /**
     * Fences created and not signalled yet.
     *
     * @return the number
     */
    long getFencesPending();

    /**
     * Back-offs while locking the jobs' buffers at submission.
     *
     * @return the count
     */
    long getRetries();
}
