package dev.bufsync.check;

/**
 * Thrown, under {@link CheckPolicy#THROW}, by the lock or wait whose dependency would close a
 * cycle of lock classes and fence contexts: a deadlock that some timing can produce, found before
 * any thread is stuck. The call that throws has acquired nothing and waited for nothing.
 * {@link #cycle()} says which edges close the cycle and where each was first seen.
 */
public final class PotentialDeadlockException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final transient DependencyCycle cycle;

    PotentialDeadlockException(DependencyCycle cycle) {
        super(cycle.describe());
        this.cycle = cycle;
    }

    /**
     * The cycle found.
     *
     * @return the cycle, the closing edge first
     */
    public DependencyCycle cycle() {
        return cycle;
    }
}
