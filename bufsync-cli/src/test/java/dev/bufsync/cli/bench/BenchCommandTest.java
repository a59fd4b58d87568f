package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The command-line contract of {@code bufsync bench}: options, exit status and JSON summary. */
class BenchCommandTest {

    /**
     * {@code --quick --only uncontended --json} runs the real quick points, each in a forked JMH
     * VM, and ends standard output with the summary of DESIGN.md section 4: one result per
     * strategy with benchmark, params, strategy, score, unit and higherIsBetter.
     */
    @Test
    void quickUncontendedJsonSummaryIsTheLastLine() throws Exception {
        CliRun run = CliRun.of("bench", "--quick", "--only", "uncontended", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        assertThat(run.stderr()).as("--json: the report goes to standard error").contains("quick mode").contains("three minutes");
        JsonNode s = run.summary();
        assertThat(s.get("command").asText()).isEqualTo("bench");
        assertThat(s.get("mode").asText()).isEqualTo("quick");
        Set<String> strategies = new HashSet<>();
        for (JsonNode r : s.get("results")) {
            for (String field : List.of("benchmark", "params", "strategy", "score", "unit", "higherIsBetter")) {
                assertThat(r.has(field)).as(field).isTrue();
            }
            assertThat(r.get("benchmark").asText()).isEqualTo("uncontended");
            assertThat(r.get("score").asDouble()).isPositive();
            assertThat(r.get("unit").asText()).isEqualTo("ns/op");
            assertThat(r.get("higherIsBetter").asBoolean()).isFalse();
            strategies.add(r.get("strategy").asText());
        }
        assertThat(strategies).contains("reentrant-lock", "synchronized", "wound-wait", "wait-die");
        JsonNode first = s.get("targets").get(0);
        assertThat(first.get("benchmark").asText()).isEqualTo("uncontended");
        assertThat(first.get("status").asText()).isIn("met", "missed");
    }

    /** Unknown benchmarks and two modes at once are usage errors. */
    @Test
    void badOptionsAreUsageErrors() {
        assertThat(CliRun.usageError("bench", "--only", "nope")).contains("unknown benchmark 'nope'").contains("folly-grid");
        assertThat(CliRun.usageError("bench", "--quick", "--full")).contains("choose one");
    }

    /** Method names map to the stable strategy names. */
    @Test
    void methodNamesMapToStrategyNames() {
        assertThat(BenchDef.strategyOfMethod("woundWait")).isEqualTo("wound-wait");
        assertThat(BenchDef.strategyOfMethod("guavaCycleDetecting")).isEqualTo("guava-cycle-detecting");
        assertThat(BenchDef.strategyOfMethod("reentrantLock")).isEqualTo("reentrant-lock");
        assertThat(BenchDef.strategyOfMethod("synchronizedBlock")).isEqualTo("synchronized");
        assertThat(BenchDef.strategyOfMethod("ordered")).isEqualTo("ordered");
    }
}
