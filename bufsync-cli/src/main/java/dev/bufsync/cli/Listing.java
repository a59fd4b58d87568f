package dev.bufsync.cli;

import java.util.List;
import picocli.CommandLine.Option;

/**
 * A command that can list what it accepts ({@code bufsync torture --list}: its suites and
 * scenarios; {@code bufsync demo --list}: its locking modes). The command declares
 * {@code @Mixin Listing.Flag list;} and implements {@link #listing()}; {@link Main} prints the
 * listing instead of running the command when {@code --list} is given.
 */
public interface Listing {
    /**
     * What the command accepts, one entry per line, as its options take them.
     *
     * @return the lines to print
     */
    List<String> listing();

    /** The {@code --list} option, mixed into a listing command. */
    final class Flag {
        @Option(names = "--list", description = "Print what this command can run, one per line, and exit.")
        boolean list;
    }
}
