package dev.bufsync.ww;

/**
 * A snapshot of the counters of one {@link WwClass}. The counters are monotonic; subtract two
 * snapshots to measure an interval.
 *
 * <p>Acquisitions made through a context are counted when the context closes (they are kept in
 * the context until then, so the uncontended path touches no shared counter); everything else is
 * counted when it happens.
 *
 * @param contexts contexts begun
 * @param acquisitions mutexes acquired, with or without a context (context acquisitions as of the
 *     last close)
 * @param contended acquisitions that had to queue behind a holder
 * @param backoffs back-offs reported to callers, injected ones included
 * @param injected back-offs that were injected
 * @param wounds wounds delivered to younger holders (wound-wait only)
 * @param waitNanos total time spent queued for a mutex, in nanoseconds
 */
public record WwStats(long contexts, long acquisitions, long contended, long backoffs,
                      long injected, long wounds, long waitNanos) {

    /**
     * The difference between this snapshot and an earlier one.
     *
     * @param earlier a snapshot of the same class taken before this one
     * @return the counts accumulated in between
     */
    public WwStats minus(WwStats earlier) {
        return new WwStats(contexts - earlier.contexts, acquisitions - earlier.acquisitions,
                contended - earlier.contended, backoffs - earlier.backoffs,
                injected - earlier.injected, wounds - earlier.wounds,
                waitNanos - earlier.waitNanos);
    }
}
