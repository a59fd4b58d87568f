package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The command-line contract of {@code bufsync bench}: options, exit status and JSON summary. */
class BenchCommandTest {

    record Run(int status, String stdout, String stderr) {
        JsonNode summary() throws Exception {
            List<String> lines = stdout.lines().toList();
            return new ObjectMapper().readTree(lines.get(lines.size() - 1));
        }
    }

    static Run bufsync(String... args) {
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

    /**
     * {@code --quick --only uncontended --json} runs the real quick points, each in a forked JMH
     * VM, and ends standard output with the summary of DESIGN.md section 4: one result per
     * strategy with benchmark, params, strategy, score, unit and higherIsBetter.
     */
    @Test
    void quickUncontendedJsonSummaryIsTheLastLine() throws Exception {
        Run run = bufsync("bench", "--quick", "--only", "uncontended", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        assertThat(run.stdout()).contains("quick mode").contains("three minutes");
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
        Run unknown = bufsync("bench", "--only", "nope");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.stderr()).contains("unknown benchmark 'nope'").contains("folly-grid");
        Run both = bufsync("bench", "--quick", "--full");
        assertThat(both.status()).isEqualTo(2);
        assertThat(both.stderr()).contains("choose one");
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
