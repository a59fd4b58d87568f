package dev.bufsync.cli.bench;

/**
 * How much of the suite {@code bufsync bench} runs, how long it measures each point, and how far
 * its verdicts go.
 *
 * <p>{@link #QUICK} runs fewer points with short iterations in one fork and must finish within
 * three minutes on two cores; it judges only the targets it can judge faithfully (see
 * {@link Targets}). {@link #FULL} runs every point of every benchmark with longer iterations in
 * several forks, so that every ratio comes with its spread; {@link #SMOKE} (hidden, for tests)
 * runs one or two tiny points per benchmark in the calling JVM, which checks the plumbing, never
 * the numbers.
 */
public enum RunMode {
    /** Tiny, in-process (no forked VM): for tests of the command and the report. */
    SMOKE("smoke", 0),
    /** Fewer points, short iterations: within three minutes on two cores. */
    QUICK("quick", 1),
    /** Every point, longer iterations, at least two forks per point (three when contended). */
    FULL("full", 2);

    private final String label;
    private final int forks;

    RunMode(String label, int forks) {
        this.label = label;
        this.forks = forks;
    }

    /**
     * The mode's name in output and JSON.
     *
     * @return {@code smoke}, {@code quick} or {@code full}
     */
    public String label() {
        return label;
    }

    /**
     * JMH forks per point unless a benchmark asks for more: a fresh VM per point, except in smoke
     * mode; two in full mode, so that every ratio has a spread.
     *
     * @return the default fork count
     */
    public int forks() {
        return forks;
    }

    @Override
    public String toString() {
        return label;
    }
}
