package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import dev.bufsync.cli.Main;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The command-line contract of {@code bufsync torture}: options, exit status and JSON summary. */
class TortureCommandTest {

    /** --json: standard output holds the summary object alone; the table goes to standard error. */
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
        assertThat(run.stderr()).contains("scenario").contains("abba");
        assertThat(run.stderr().lines().filter(l -> l.startsWith("[")).toList())
                .as("one progress line per scenario run when not on a terminal")
                .hasSize(2).allMatch(l -> l.matches("\\[[12]/2] ww/(aa|abba) wait-die(, about \\d+ s left)?"));
    }

    /** Unknown suites, scenarios and algorithms are usage errors that name the bad value and the valid ones. */
    @Test
    void badOptionsAreUsageErrors() {
        assertThat(CliRun.usageError("torture", "--suite", "nope"))
                .startsWith("bufsync torture: --suite: unknown suite 'nope'; the suites are ww, fence, exec, faults");
        assertThat(CliRun.usageError("torture", "--suite", "fence", "--scenario", "nope"))
                .startsWith("bufsync torture: --scenario: unknown scenario nope; the scenarios of fence are"
                        + " signal-callback-race, chain-find-race");
        assertThat(CliRun.usageError("torture", "--scenario", "nope")).contains("abba-trylock-resolve").contains("exec-contention");
        assertThat(CliRun.usageError("torture", "--algorithm", "fifo")).contains("'fifo' is not an algorithm");
        for (String seconds : List.of("0", "NaN", "Infinity", "1e300")) {
            assertThat(CliRun.usageError("torture", "--seconds", seconds)).as(seconds)
                    .contains("--seconds must be a number of seconds above 0 and at most 3600");
        }
        assertThat(CliRun.usageError("torture", "--threads", "100000")).contains("--threads must be from 1 to 1024");
    }

    /** Ctrl-C stops after the scenario running: "interrupted", the partial table and summary, exit 130. */
    @Test
    void ctrlCReportsWhatRanAndExits130() throws Exception {
        CliRun run = CliRun.interruptedWhen("[2/", "torture", "--suite", "ww", "--scenario", "aa,stress-inorder",
                "--algorithm", "wound-wait", "--seconds", "600", "--json");
        assertThat(run.status()).as(run.stderr()).isEqualTo(Main.INTERRUPTED);
        assertThat(run.stderr()).contains("interrupted");
        JsonNode s = run.summary();
        assertThat(s.get("interrupted").asBoolean()).isTrue();
        assertThat(s.get("passed").asInt()).isEqualTo(1);
        assertThat(s.get("results").get(0).get("scenario").asText()).isEqualTo("aa");
    }
}
