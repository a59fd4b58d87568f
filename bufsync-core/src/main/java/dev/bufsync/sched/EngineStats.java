package dev.bufsync.sched;

/**
 * A snapshot of an {@link Engine}'s counters.
 *
 * @param submitted jobs submitted (armed)
 * @param completed jobs whose work finished without error
 * @param failed jobs whose work failed, or that did not run because a dependency failed
 * @param timedOut jobs that ran longer than their timeout
 * @param cancelled jobs cancelled by closing their entity or engine
 * @param queued jobs waiting in the entities' queues now
 * @param inFlight jobs running now
 * @param fencesCreated scheduled and finished fences created (two per job)
 * @param fencesSignaled those signalled, counted as the job retires, just before its finished
 *     fence signals (so whoever saw that fence signalled sees it counted)
 * @param retries back-offs while locking the jobs' buffers at submission
 */
public record EngineStats(long submitted, long completed, long failed, long timedOut, long cancelled,
                          int queued, int inFlight, long fencesCreated, long fencesSignaled, long retries) {

    /**
     * The fences created and not signalled yet.
     *
     * @return {@code fencesCreated - fencesSignaled}
     */
    public long fencesPending() {
        return fencesCreated - fencesSignaled;
    }
}
