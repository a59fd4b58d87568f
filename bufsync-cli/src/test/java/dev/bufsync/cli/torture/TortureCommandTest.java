package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command-line contract of {@code bufsync torture}: options, exit status and JSON summary. */
class TortureCommandTest {

    private record Run(int status, String stdout, String stderr) {
        JsonNode summary() throws Exception {
            List<String> lines = stdout.lines().toList();
            return new ObjectMapper().readTree(lines.get(lines.size() - 1));
        }
    }

    private static Run bufsync(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Main.commandLine().execute(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** --json ends standard output with the summary object of DESIGN.md section 4. */
    @Test
    void jsonSummaryIsTheLastLine() throws Exception {
        Run run = bufsync("torture", "--suite", "ww", "--scenario", "aa,abba", "--algorithm", "wait-die", "--json");
        assertThat(run.status()).isZero();
        JsonNode s = run.summary();
        assertThat(s.get("command").asText()).isEqualTo("torture");
        assertThat(s.get("passed").asInt()).isEqualTo(2);
        assertThat(s.get("failed").asInt()).isZero();
        assertThat(s.get("hung").asInt()).isZero();
        JsonNode first = s.get("results").get(0);
        for (String field : List.of("suite", "scenario", "algorithm", "passed", "iterations", "backoffs", "durationMs")) {
            assertThat(first.has(field)).as(field).isTrue();
        }
        assertThat(first.get("algorithm").asText()).isEqualTo("wait-die");
        assertThat(run.stdout()).contains("scenario").contains("abba");
    }

    /** Unknown suites, scenarios and algorithms are usage errors that name the bad value. */
    @Test
    void badOptionsAreUsageErrors() {
        Run suite = bufsync("torture", "--suite", "nope");
        assertThat(suite.status()).isEqualTo(2);
        assertThat(suite.stderr()).contains("unknown suite 'nope'");
        Run scenario = bufsync("torture", "--scenario", "nope");
        assertThat(scenario.status()).isEqualTo(2);
        assertThat(scenario.stderr()).contains("nope");
        Run algorithm = bufsync("torture", "--algorithm", "fifo");
        assertThat(algorithm.status()).isEqualTo(2);
        assertThat(algorithm.stderr()).contains("'fifo' is not an algorithm");
        Run seconds = bufsync("torture", "--seconds", "0");
        assertThat(seconds.status()).isEqualTo(2);
        assertThat(seconds.stderr()).contains("must be positive");
    }
}
