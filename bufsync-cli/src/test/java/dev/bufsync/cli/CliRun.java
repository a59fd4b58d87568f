package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

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
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Main.commandLine().execute(args);
            return new CliRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
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

    /** The JSON summary: the last line of standard output. */
    public JsonNode summary() throws Exception {
        List<String> lines = stdout.lines().toList();
        return JSON.readTree(lines.get(lines.size() - 1));
    }
}
