package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bufsync torture --suite faults}: every fault scenario keeps its promise, from the command line. */
class FaultSuiteTest {

    /** The faults suite passes, every scenario once (none depends on the algorithm), with a JSON summary. */
    @Test
    void faultsSuitePassesFromTheCommandLine() throws Exception {
        CliRun run = CliRun.of("torture", "--suite", "faults", "--json");
        JsonNode s = run.summary();
        List<String> scenarios = new ArrayList<>();
        for (JsonNode r : s.get("results")) {
            assertThat(r.get("passed").asBoolean()).as("%s: %s", r.get("scenario"), r.get("failure")).isTrue();
            assertThat(r.get("suite").asText()).isEqualTo("faults");
            assertThat(r.get("algorithm").asText()).isEqualTo("-");
            assertThat(r.get("iterations").asLong()).isPositive();
            scenarios.add(r.get("scenario").asText());
        }
        assertThat(scenarios).containsExactlyElementsOf(FaultSuite.scenarios().stream().map(Scenario::name).toList());
        assertThat(s.get("command").asText()).isEqualTo("torture");
        assertThat(s.get("passed").asInt()).isEqualTo(scenarios.size());
        assertThat(s.get("failed").asInt()).isZero();
        assertThat(s.get("hung").asInt()).isZero();
        assertThat(run.status()).as(run.stdout()).isZero();
    }

    /** Running every suite includes the faults suite. */
    @Test
    void everySuiteIncludesFaults() {
        assertThat(Suites.select(new picocli.CommandLine(new TortureCommand()).getCommandSpec(), List.of(), List.of())).anySatisfy(sc -> assertThat(sc.suite()).isEqualTo("faults"));
        assertThat(Suites.all()).containsKey("faults");
    }
}
