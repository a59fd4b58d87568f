package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import dev.bufsync.cli.Main;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command-line contract of {@code bufsync torture}: options, exit status and JSON summary. */
class TortureCommandTest {

    /** --json ends standard output with the summary object of DESIGN.md section 4. */
    @Test
    void jsonSummaryIsTheLastLine() throws Exception {
        CliRun run = CliRun.of("torture", "--suite", "ww", "--scenario", "aa,abba", "--algorithm", "wait-die", "--json");
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
        assertThat(CliRun.usageError("torture", "--suite", "nope")).contains("unknown suite 'nope'");
        assertThat(CliRun.usageError("torture", "--scenario", "nope")).contains("nope");
        assertThat(CliRun.usageError("torture", "--algorithm", "fifo")).contains("'fifo' is not an algorithm");
        assertThat(CliRun.usageError("torture", "--seconds", "0")).contains("must be positive");
    }
}
