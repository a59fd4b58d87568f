package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One in-process run of the {@code bufsync} command line with its exit status and captured output,
 * for tests of the command-line contract.
 *
 * @param status the exit status
 * @param stdout standard output
 * @param stderr standard error
 */
public record CliRun(int status, String stdout, String stderr) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Runs {@code bufsync args...} in this JVM, capturing standard output and error. */
    public static CliRun of(String... args) {
        return interruptedWhen(null, args);
    }

    /**
     * Runs {@code bufsync args...} in this JVM, capturing standard output and error, and presses
     * Ctrl-C ({@link Interrupts#request()}) as soon as standard error shows {@code marker}.
     *
     * @param marker text on standard error after which to interrupt, or {@code null} for never
     * @param args the arguments
     * @return the run
     */
    public static CliRun interruptedWhen(String marker, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            FutureTask<Integer> run = new FutureTask<>(() -> Main.commandLine().execute(args));
            Thread command = Thread.ofPlatform().name("bufsync-command").start(run);
            if (marker != null) {
                // Waits for the command to reach the marker; the test's timeout is the safety net.
                while (!err.toString(StandardCharsets.UTF_8).contains(marker) && command.isAlive()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                }
                if (command.isAlive()) {
                    Interrupts.request();
                }
            }
            int status = run.get();
            return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } catch (InterruptedException | ExecutionException e) {
            throw new AssertionError("the command did not complete", e);
        } finally {
            Interrupts.reset();
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** Runs {@code bufsync args...}, checks that it was a usage error (status 2), returns its standard error. */
    public static String usageError(String... args) {
        CliRun run = of(args);
        assertThat(run.status()).as(run.stderr()).isEqualTo(2);
        return run.stderr();
    }

    /** The JSON summary: with {@code --json}, standard output holds it alone, on one line. */
    public JsonNode summary() throws Exception {
        List<String> lines = stdout.lines().toList();
        assertThat(lines).as("standard output holds the JSON summary alone; standard error:%n%s", stderr).hasSize(1);
        return JSON.readTree(lines.get(0));
    }
}
