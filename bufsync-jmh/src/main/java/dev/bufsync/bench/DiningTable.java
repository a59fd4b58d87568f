package dev.bufsync.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * A dining-philosophers table of Hinnant's "Dining Philosophers Rebooted" (2014): which forks each
 * diner needs, and the theoretical minimum time of a meal in which every diner eats a given total.
 *
 * <p>Tables: {@code "N"} is a round table of N diners (N ≥ 2) with one fork between neighbours,
 * diner i needing forks i and (i+1) mod N; {@code "tetrahedron"}, {@code "cube"} and
 * {@code "dodecahedron"} seat a diner at each vertex of the solid, a fork on each edge, three
 * forks per diner, numbered as in the paper's Appendix B (4 diners and 6 forks, 8 and 12, 20 and
 * 30).
 *
 * <p><b>The minimum.</b> Two diners that share a fork never eat at once, so at any moment the
 * diners eating form an independent set of the conflict graph, of at most α diners (its
 * independence number). Every diner must eat E in total, so a meal takes at least N·E/α; on these
 * tables, all vertex-transitive, eating in turns achieves it (N·E/α is then the fractional
 * chromatic number times E). Round tables: α = ⌊N/2⌋, so 2E for even N and E·N/((N-1)/2) for odd
 * N, as in the paper. Solids: α = 1, 4 and 8, so 4E, 2E and 2.5E. (The paper's 120 s and 60 s for
 * the tetrahedron and cube agree; for the dodecahedron it says the minimum "requires 8
 * processors", i.e. α = 8 and 75 s at E = 30 s, which is what this class computes.)
 */
public final class DiningTable {
    /*
     * Overview.
     *
     * α is found by exhaustive branch and bound over the diners (at most 32 here): pick the lowest
     * undecided diner, either take it (dropping its neighbours) or leave it, prune when the taken
     * count plus the undecided count cannot beat the best. Immutable after construction.
     */

    /** Names of the 3-D tables, in the paper's order. */
    public static final List<String> SOLIDS = List.of("tetrahedron", "cube", "dodecahedron");

    private static final int[][] TETRAHEDRON = {{0, 2, 3}, {0, 1, 4}, {1, 2, 5}, {3, 4, 5}};
    private static final int[][] CUBE = {{0, 3, 4}, {0, 1, 5}, {1, 2, 6}, {2, 3, 7},
        {4, 8, 11}, {5, 8, 9}, {6, 9, 10}, {7, 10, 11}};
    private static final int[][] DODECAHEDRON = {{0, 4, 5}, {0, 1, 6}, {1, 2, 7}, {2, 3, 8},
        {3, 4, 9}, {5, 10, 19}, {10, 11, 20}, {6, 11, 12}, {12, 13, 21}, {7, 13, 14},
        {14, 15, 22}, {8, 15, 16}, {16, 17, 23}, {9, 17, 18}, {18, 19, 24}, {20, 25, 29},
        {21, 25, 26}, {22, 26, 27}, {23, 27, 28}, {24, 28, 29}};

    private final String name;
    private final int[][] forks;
    private final int forkCount;
    private final int independence;

    private DiningTable(String name, int[][] forks) {
        this.name = name;
        this.forks = forks;
        int max = 0;
        for (int[] f : forks) {
            for (int x : f) {
                max = Math.max(max, x + 1);
            }
        }
        this.forkCount = max;
        this.independence = maxIndependentSet(conflicts(forks));
    }

    /**
     * The table of a name: a number N ≥ 2 for a round table, or one of {@link #SOLIDS}.
     *
     * @param name the table's name
     * @return the table
     * @throws IllegalArgumentException for an unknown name
     */
    public static DiningTable of(String name) {
        return switch (name) {
            case "tetrahedron" -> new DiningTable(name, TETRAHEDRON);
            case "cube" -> new DiningTable(name, CUBE);
            case "dodecahedron" -> new DiningTable(name, DODECAHEDRON);
            default -> round(name);
        };
    }

    private static DiningTable round(String name) {
        int n;
        try {
            n = Integer.parseInt(name);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("unknown table '" + name
                    + "'; use a number of diners >= 2 or one of " + SOLIDS, e);
        }
        if (n < 2 || n > 64) {
            throw new IllegalArgumentException("a round table seats 2 to 64 diners, not " + n);
        }
        int[][] forks = new int[n][];
        for (int i = 0; i < n; i++) {
            forks[i] = new int[] {i, (i + 1) % n};
        }
        return new DiningTable(name, forks);
    }

    /**
     * The table's name.
     *
     * @return the name given to {@link #of}
     */
    public String name() {
        return name;
    }

    /**
     * The number of diners.
     *
     * @return N
     */
    public int diners() {
        return forks.length;
    }

    /**
     * The number of forks (locks).
     *
     * @return the fork count
     */
    public int forkCount() {
        return forkCount;
    }

    /**
     * The forks diner {@code d} needs to eat.
     *
     * @param d a diner, 0 … N-1
     * @return a copy of its fork indices
     */
    public int[] forksOf(int d) {
        return forks[d].clone();
    }

    /**
     * The largest number of diners that can eat at once (α).
     *
     * @return the independence number of the conflict graph
     */
    public int maxEatingAtOnce() {
        return independence;
    }

    /**
     * The theoretical minimum duration of a meal in which every diner eats {@code eatNanos} in
     * total: N·E/α.
     *
     * @param eatNanos each diner's total eating time
     * @return the minimum wall-clock time, in nanoseconds
     */
    public double minimumNanos(double eatNanos) {
        return eatNanos * diners() / independence;
    }

    private static long[] conflicts(int[][] forks) {
        int n = forks.length;
        long[] adjacent = new long[n];
        for (int a = 0; a < n; a++) {
            for (int b = a + 1; b < n; b++) {
                if (share(forks[a], forks[b])) {
                    adjacent[a] |= 1L << b;
                    adjacent[b] |= 1L << a;
                }
            }
        }
        return adjacent;
    }

    private static boolean share(int[] a, int[] b) {
        for (int x : a) {
            for (int y : b) {
                if (x == y) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int maxIndependentSet(long[] adjacent) {
        long all = adjacent.length == 64 ? -1L : (1L << adjacent.length) - 1;
        return best(adjacent, all, 0, 0);
    }

    private static int best(long[] adjacent, long undecided, int taken, int bestSoFar) {
        if (undecided == 0) {
            return Math.max(taken, bestSoFar);
        }
        if (taken + Long.bitCount(undecided) <= bestSoFar) {
            return bestSoFar;
        }
        int v = Long.numberOfTrailingZeros(undecided);
        long rest = undecided & ~(1L << v);
        int withV = best(adjacent, rest & ~adjacent[v], taken + 1, bestSoFar);
        return best(adjacent, rest, taken, withV);
    }

    /**
     * Every table name of the full benchmark: round tables 2 … 32, then the solids.
     *
     * @return the names
     */
    public static List<String> allNames() {
        List<String> names = new ArrayList<>();
        for (int n = 2; n <= 32; n++) {
            names.add(Integer.toString(n));
        }
        names.addAll(SOLIDS);
        return names;
    }

    @Override
    public String toString() {
        return "DiningTable[" + name + ", " + diners() + " diners, " + forkCount + " forks, alpha="
                + independence + "]";
    }
}
