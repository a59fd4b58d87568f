package dev.bufsync.cli.torture;

import dev.bufsync.ww.WwClass;

/**
 * One torture scenario of a suite: a named check that either passes, fails with a message, or
 * makes no progress (which the runner reports as hung).
 */
interface Scenario {
    /**
     * The suite the scenario belongs to ({@code ww}, {@code fence}, {@code exec}).
     *
     * @return the suite name
     */
    String suite();

    /**
     * The scenario's name, as printed and as selected on the command line.
     *
     * @return the name
     */
    String name();

    /**
     * Whether the scenario runs once per algorithm (wound-wait, wait-die) or once in all.
     *
     * @return {@code true} if it depends on the algorithm
     */
    default boolean perAlgorithm() {
        return true;
    }

    /**
     * Whether the scenario runs for {@link TortureRun#duration()} (a stress loop) rather than a
     * fixed number of steps.
     *
     * @return {@code true} for timed stress scenarios
     */
    default boolean timed() {
        return false;
    }

    /**
     * Runs the scenario. Threads it starts must belong to {@link TortureRun#threads()}'s group
     * (use {@link TortureRun#newThread}) so that a hang report can show them, and every step of
     * progress must be reported with {@link TortureRun#tick()}.
     *
     * @param run the run's parameters and services
     * @return the outcome
     * @throws Exception a failure, reported with its message
     */
    Outcome run(TortureRun run) throws Exception;

    /**
     * What a scenario reports.
     *
     * @param iterations completed iterations (transactions, rounds, checks)
     * @param backoffs back-offs seen
     * @param failure why it failed, or {@code null} if it passed
     */
    record Outcome(long iterations, long backoffs, String failure) {
        static Outcome passed(long iterations, long backoffs) {
            return new Outcome(iterations, backoffs, null);
        }

        static Outcome failed(long iterations, long backoffs, String why) {
            return new Outcome(iterations, backoffs, why);
        }
    }

    /** What a scenario runs. */
    @FunctionalInterface
    interface Body {
        Outcome run(TortureRun run) throws Exception;
    }

    /**
     * A scenario made of its names, its shape and its body.
     *
     * @param suite the suite
     * @param name the scenario's name
     * @param perAlgorithm whether it runs once per algorithm
     * @param timed whether it runs for the run's duration
     * @param body what it runs
     * @return the scenario
     */
    static Scenario of(String suite, String name, boolean perAlgorithm, boolean timed, Body body) {
        return new Scenario() {
            @Override
            public String suite() {
                return suite;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean perAlgorithm() {
                return perAlgorithm;
            }

            @Override
            public boolean timed() {
                return timed;
            }

            @Override
            public Outcome run(TortureRun run) throws Exception {
                return body.run(run);
            }
        };
    }

    /** The algorithm label used on the command line and in reports. */
    static String label(WwClass.Algorithm algorithm) {
        return algorithm == null ? "-" : algorithm == WwClass.Algorithm.WOUND_WAIT ? "wound-wait" : "wait-die";
    }
}
