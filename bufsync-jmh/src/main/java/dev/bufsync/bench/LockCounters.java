package dev.bufsync.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The counters that explain a lock-set benchmark's score, reported by JMH beside it (as
 * {@code AuxCounters} events: per iteration, summed over the measurement iterations, warm-up
 * excluded). Ratios such as rollbacks per transaction are taken from the sums.
 *
 * <p>Fields are public because JMH reads them; only the benchmark thread writes them.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class LockCounters {
    /** Lock sets that completed (transactions, meals, grid operations). */
    public long transactions;
    /** Times a locker gave up a partial set and started again. */
    public long rollbacks;
    /** Wounds delivered (wound-wait only; from {@code WwClass.stats()}). */
    public long wounds;

    /** Starts each iteration from zero, so that each reports its own counts. */
    @Setup(Level.Iteration)
    public void reset() {
        transactions = 0;
        rollbacks = 0;
        wounds = 0;
    }
}
