package dev.bufsync.bench;

/**
 * One thread's handle on a {@link LockStrategy}: locks a set of locks of the strategy's pool as one
 * unit, and releases them again. Every strategy's locker blocks until it holds the whole set and
 * never deadlocks with the other lockers of the same strategy.
 *
 * <p>Usage: one locker per thread, never shared; {@code lockAll} and {@code unlockAll} alternate.
 *
 * <pre>{@code
 * Locker locker = strategy.newLocker(seed);
 * locker.lockAll(ids, n);
 * try {
 *     // ... work on the locked objects ...
 * } finally {
 *     locker.unlockAll();
 * }
 * }</pre>
 */
public interface Locker {
    /**
     * Locks the pool's locks {@code ids[0..n)}, blocking until all are held. The ids must be
     * distinct; the strategy may take them in another order than given.
     *
     * @param ids indices into the strategy's pool; not modified
     * @param n how many of {@code ids} to lock
     */
    void lockAll(int[] ids, int n);

    /**
     * Locks {@code ids[0..n)} like {@link #lockAll(int[], int)}, taking {@code ids[i]} shared where
     * bit {@code i} of {@code sharedMask} is set, if the strategy has a shared mode (readers-writer
     * locks); a strategy without one takes every lock exclusively.
     *
     * @param ids indices into the strategy's pool; not modified
     * @param n how many of {@code ids} to lock (at most 32)
     * @param sharedMask bit {@code i} set: {@code ids[i]} is only read
     */
    default void lockAll(int[] ids, int n, int sharedMask) {
        lockAll(ids, n);
    }

    /** Releases everything the last {@link #lockAll} took. */
    void unlockAll();

    /**
     * The number of times this locker gave up a partial set and started again (a rollback: a
     * wound/wait back-off, a failed try-lock round of the try-and-back-off strategies), since it
     * was made. Zero for strategies that never roll back.
     *
     * @return the count, read by the locker's own thread or after it stopped
     */
    long rollbacks();
}
