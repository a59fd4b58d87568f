package dev.bufsync.bench;

import dev.bufsync.ww.WwStats;

/**
 * The strategy under test with one {@link Locker} per crew member, and what they did since the
 * benchmark last looked: the glue between a {@link Crew} round and {@link LockCounters}.
 *
 * <p>Used by the benchmark thread only, between rounds.
 */
final class Contenders {
    final LockStrategy strategy;
    final Locker[] lockers;
    private long seenRollbacks;   // benchmark thread only
    private long seenWounds;      // benchmark thread only

    Contenders(String strategyName, int locks, int threads, long seed) {
        this.strategy = LockStrategy.create(strategyName, locks);
        this.lockers = new Locker[threads];
        for (int t = 0; t < threads; t++) {
            lockers[t] = strategy.newLocker(seed * 31 + t);
        }
    }

    /** Adds the round's counts to {@code counters}; call after {@link Crew#run} returned. */
    void report(LockCounters counters, long transactions) {
        long rollbacks = 0;
        for (Locker l : lockers) {
            rollbacks += l.rollbacks();
        }
        counters.rollbacks += rollbacks - seenRollbacks;
        seenRollbacks = rollbacks;
        WwStats stats = strategy.wwStats();
        long wounds = stats == null ? 0 : stats.wounds();
        counters.wounds += wounds - seenWounds;
        seenWounds = wounds;
        counters.transactions += transactions;
    }
}
