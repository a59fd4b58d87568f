package dev.bufsync.ww;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The statistics of one {@link WwClass} in striped cells: a thread adds to the cells of its
 * stripe, a read sums every stripe. Unlike a {@link java.util.concurrent.atomic.LongAdder}, whose
 * first contention allocates its cells, an add never allocates and never throws, so it may run
 * under a mutex's queue bit and on any exception path.
 */
final class Counters {
    /*
     * Overview.
     *
     * One AtomicLongArray, allocated with the class: STRIPES stripes of STRIDE longs, the six
     * counters at the start of each stripe, so that a stripe fills its own 128 bytes and threads
     * of different stripes do not share a cache line. A thread's stripe is a hash of its id, fixed
     * for its life. Adds are getAndAdd (volatile); sum reads each cell with volatile reads, so a
     * sum sees every add that happened-before it, and is a snapshot only when nothing runs.
     */

    static final int ACQUISITIONS = 0, CONTENDED = 1, BACKOFFS = 2, INJECTED = 3, WOUNDS = 4,
            WAIT_NANOS = 5;
    private static final int STRIDE = 16;         // longs per stripe: 128 bytes
    private static final int STRIPES = Math.min(64,
            Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1));

    private final AtomicLongArray cells = new AtomicLongArray(STRIPES * STRIDE);

    Counters() {
        cells.getAndAdd(0, 0L);                   // link the array's access sites while memory is
        cells.get(0);                             // at hand: linking allocates
    }

    /** Adds {@code n} to {@code counter} in the current thread's stripe. */
    void add(int counter, long n) {
        long h = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L;
        cells.getAndAdd((int) (h >>> 58) % STRIPES * STRIDE + counter, n);
    }

    /** The sum of {@code counter} over every stripe. */
    long sum(int counter) {
        long s = 0;
        for (int i = counter; i < cells.length(); i += STRIDE) {
            s += cells.get(i);
        }
        return s;
    }
}
