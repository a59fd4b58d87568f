package dev.bufsync.check;

import java.util.Locale;

/**
 * What the dependency checker does with the first edge that closes a cycle: nothing, a log line
 * and a Flight Recorder event, or a {@link PotentialDeadlockException} thrown before the thread
 * blocks. Chosen for the run by the system property {@code bufsync.check} ({@code off},
 * {@code warn} or {@code throw}; off when absent) and overridden per lock class or fence context
 * in code ({@link Checker#setPolicy(dev.bufsync.ww.WwClass, CheckPolicy)}).
 */
public enum CheckPolicy {
    /** Record nothing; the annotations cost a constant-folded test and a return. */
    OFF,
    /** Report a closing edge on the {@code dev.bufsync.check} logger and as a JFR event, then go on. */
    WARN,
    /** Report it like {@link #WARN} and throw {@link PotentialDeadlockException} from the call. */
    THROW;

    /**
     * Parses a property value: {@code off}, {@code warn} or {@code throw}, any case; null or blank
     * is {@link #OFF}.
     *
     * @param value the value of {@code bufsync.check}
     * @return the policy
     * @throws IllegalArgumentException naming the property and the accepted values otherwise
     */
    public static CheckPolicy parse(String value) {
        if (value == null || value.isBlank()) {
            return OFF;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "off", "false" -> OFF;
            case "warn" -> WARN;
            case "throw", "true" -> THROW;
            default -> throw new IllegalArgumentException("-D" + Checker.PROPERTY + "=" + value
                    + " is not a check policy: use off, warn or throw");
        };
    }
}
