package dev.bufsync.cli;

import dev.bufsync.cli.bench.BenchCommand;
import dev.bufsync.cli.demo.DemoCommand;
import dev.bufsync.cli.torture.TortureCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bufsync} command: demonstrates, tortures and benchmarks the library. Every
 * subcommand takes {@code --json}, after which the last line of standard output is one JSON
 * object, the summary. Exit status 0 means the command did what it was asked, 3 that a deadlock
 * (or a hang) was detected, 1 that a check failed, 2 a usage error.
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
    /** Exit status: a deadlock or hang was detected. */
    public static final int DEADLOCK = 3;

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
        System.exit(commandLine().execute(args));
    }

    /**
     * The configured command line, for tests and embedding.
     *
     * @return a new command line
     */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** Reports the project's version, written into the jar by the build, and the Java it runs on. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws java.io.IOException {
            return new String[] {"bufsync " + version() + " on Java " + Runtime.version()};
        }
    }

    /**
     * The project's version, from the resource the build filters ({@code version.properties}).
     *
     * @return the version, such as {@code 0.1.0}
     * @throws java.io.IOException if the resource is missing or unreadable (a broken build)
     */
    public static String version() throws java.io.IOException {
        try (var in = Main.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                throw new java.io.FileNotFoundException("version.properties is missing from the command line's jar");
            }
            var p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version");
        }
    }
}
