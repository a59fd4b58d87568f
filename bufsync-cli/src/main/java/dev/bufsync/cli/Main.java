package dev.bufsync.cli;

import dev.bufsync.cli.bench.BenchCommand;
import dev.bufsync.cli.demo.DemoCommand;
import dev.bufsync.cli.torture.TortureCommand;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code bufsync} command: demonstrates, tortures and benchmarks the library.
 *
 * <p>The contract every subcommand keeps, enforced here where it can be: with {@code --json}
 * standard output holds only the JSON summary (human text goes to standard error, see
 * {@link Output}); {@code --list} prints what the command can run ({@link Listing}); a usage error
 * is one line on standard error naming the command and the option, and exit status 2; Ctrl-C stops
 * the command, which reports what it did, and the exit status is 130 ({@link Interrupts}). Exit
 * statuses: 0 the command did what it was asked, 1 a check failed, 2 a usage error, 3 a deadlock or
 * hang was detected, 130 interrupted.
 */
@Command(name = "bufsync", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Deadlock-free buffer synchronization for the JVM: demo, torture and bench.",
        subcommands = {DemoCommand.class, TortureCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit status: the command did what it was asked. */
    public static final int OK = 0;
    /** Exit status: a check failed. */
    public static final int FAILED = 1;
    /** Exit status: a usage error (a bad option or value). */
    public static final int USAGE = 2;
    /** Exit status: a deadlock or hang was detected. */
    public static final int DEADLOCK = 3;
    /** Exit status: interrupted by Ctrl-C (128 + SIGINT). */
    public static final int INTERRUPTED = 130;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        Interrupts.install();
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line, for tests and embedding.
     *
     * @return a new command line
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        CommandLine completion = new CommandLine(new AutoComplete.GenerateCompletion());
        completion.getCommandSpec().usageMessage().description(
                "Print a bash or zsh completion script for bufsync; load it with: "
                        + "source <(bufsync completion)");
        cl.addSubcommand("completion", completion);
        for (CommandLine sub : cl.getSubcommands().values()) {
            sub.getCommandSpec().versionProvider(new Version());    // --version on every command
        }
        cl.setExecutionStrategy(Main::execute);
        cl.setParameterExceptionHandler(Main::usageError);
        return cl;
    }

    /** Runs the chosen command with the contract's plumbing around it. */
    private static int execute(ParseResult parsed) {
        ParseResult leaf = parsed;
        while (leaf.subcommand() != null) {
            leaf = leaf.subcommand();
        }
        Output.jsonMode(leaf.hasMatchedOption("--json"));
        Interrupts.reset();
        try {
            boolean help = leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested();
            if (!help && leaf.hasMatchedOption("--list") && leaf.commandSpec().userObject() instanceof Listing l) {
                l.listing().forEach(System.out::println);
                return OK;
            }
            int status = new CommandLine.RunLast().execute(parsed);
            return Interrupts.requested() ? INTERRUPTED : status;
        } finally {
            Output.jsonMode(false);
            Interrupts.reset();         // a Ctrl-C belongs to the command it interrupted
        }
    }

    /** A usage error: one line naming the command and what is wrong, then close matches if any. */
    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        PrintWriter err = cmd.getErr();
        err.println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
        UnmatchedArgumentException.printSuggestions(e, err);
        err.flush();
        return USAGE;
    }

    /** Reports the project's version, written into the jar by the build, and the Java it runs on. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            return new String[] {"bufsync " + version() + " on Java " + Runtime.version()};
        }
    }

    /**
     * The project's version, from the resource the build filters ({@code version.properties}).
     *
     * @return the version, such as {@code 0.1.0}
     * @throws IOException if the resource is missing or unreadable (a broken build)
     */
    public static String version() throws IOException {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new FileNotFoundException("version.properties is missing from the command line's jar");
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        }
    }
}
