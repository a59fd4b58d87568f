package dev.bufsync.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;

/**
 * Lock sets generated ahead of the measurement, one ring per thread, so that drawing random keys
 * costs nothing inside the timed rounds: each set holds distinct ids, in request order, or sorted
 * when the strategy locks in id order (as a caller who knows that order would hand them over).
 *
 * <p>Built and read by one thread at a time (built in a {@code @Setup}, read by its crew member).
 */
final class Workload {
    private final int[][] sets;
    private int next;                 // crew member only

    private Workload(int[][] sets) {
        this.sets = sets;
    }

    /**
     * Generates {@code count} sets of {@code size} distinct ids from {@code draw}.
     *
     * @param count the ring's length
     * @param size ids per set
     * @param idSpace ids are 0 … idSpace-1 (for the duplicate check)
     * @param draw draws one id
     * @param sorted whether to sort each set
     */
    static Workload generate(int count, int size, int idSpace, IntSupplier draw, boolean sorted) {
        int[][] sets = new int[count][size];
        int[] seenIn = new int[idSpace];          // set number + 1 that last drew each id
        for (int s = 0; s < count; s++) {
            int[] set = sets[s];
            for (int i = 0; i < size; ) {
                int id = draw.getAsInt();
                if (seenIn[id] != s + 1) {
                    seenIn[id] = s + 1;
                    set[i++] = id;
                }
            }
            if (sorted) {
                Arrays.sort(set);
            }
        }
        return new Workload(sets);
    }

    /** Uniform ids, as Hellström's test draws them. */
    static Workload uniform(int count, int size, int idSpace, long seed, boolean sorted) {
        SplittableRandom random = new SplittableRandom(seed);
        return generate(count, size, idSpace, () -> random.nextInt(idSpace), sorted);
    }

    /** The next set of the ring. */
    int[] next() {
        int[] set = sets[next];
        next = next + 1 == sets.length ? 0 : next + 1;
        return set;
    }

    /** Moves the ring's position, so that threads do not start in step. */
    Workload skip(int n) {
        next = Math.floorMod(next + n, sets.length);
        return this;
    }
}
