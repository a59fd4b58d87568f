package dev.bufsync.ww;

import java.util.concurrent.atomic.AtomicInteger;
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
     * One AtomicLongArray, allocated with the class: STRIPES stripes of STRIDE longs after one
     * unused stride, the counters at the start of each stripe, so that a stripe fills its own 128
     * bytes, threads of different stripes do not share a cache line, and no stripe shares one with
     * the array's header, which every access reads for its bounds check. A thread's own updates go
     * to the stripe its ThreadState was given by nextStripe (round robin), others to a hash of the
     * updating thread's id. Adds are getAndAdd (volatile); sum reads each cell with volatile reads,
     * so a sum sees every add that happened-before it, and is a snapshot only when nothing runs.
     */

    static final int ACQUISITIONS = 0, CONTENDED = 1, BACKOFFS = 2, INJECTED = 3, WOUNDS = 4,
            WAIT_NANOS = 5, CONTEXTS = 6;
    private static final int STRIDE = 16;         // longs per stripe: 128 bytes
    private static final int STRIPES = Math.min(64,
            Integer.highestOneBit(Math.max(2, Runtime.getRuntime().availableProcessors()) * 4 - 1));

    private final AtomicLongArray cells = new AtomicLongArray((STRIPES + 1) * STRIDE);
    private final AtomicInteger stripes = new AtomicInteger();   // handed out by nextStripe

    Counters() {
        cells.getAndAdd(STRIDE, 0L);              // link the array's access sites while memory is
        cells.get(STRIDE);                        // at hand: linking allocates
    }

    /** A stripe for a new thread's own updates: round robin. */
    int nextStripe() {
        return stripes.getAndIncrement() & (STRIPES - 1);
    }

    /** Adds {@code n} to {@code counter} in the stripe of the current thread's id. */
    void add(int counter, long n) {
        long h = Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L;
        addInStripe((int) (h >>> 58) & (STRIPES - 1), counter, n);
    }

    /** Adds {@code n} to {@code counter} in {@code stripe}, one of {@link #nextStripe}'s. */
    void addInStripe(int stripe, int counter, long n) {
        cells.getAndAdd((stripe + 1) * STRIDE + counter, n);
    }

    /** The sum of {@code counter} over every stripe. */
    long sum(int counter) {
        long s = 0;
        for (int i = STRIDE + counter; i < cells.length(); i += STRIDE) {
            s += cells.get(i);
        }
        return s;
    }
}
