package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import dev.bufsync.cli.RepositoryFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command-line contract of {@code bufsync bench}: options, exit status and JSON summary. */
class BenchCommandTest {

    /**
     * {@code --quick --only uncontended --json} runs the real quick points, each in a forked JMH
     * VM, and ends standard output with the JSON summary: one result per strategy with benchmark,
     * params, strategy, score, unit and higherIsBetter. Quick mode does not judge timed targets.
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
        assertThat(first.get("status").asText()).isEqualTo("not judged in quick mode");
        assertThat(first.get("measured").asText()).contains("× reentrant-lock");
    }

    /**
     * {@code --out} naming a regular file (or a path below one) fails before anything runs: exit
     * 2, one line naming the option, nothing on standard output.
     */
    @Test
    void outIsCheckedBeforeTheRun(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("taken"), "x");
        for (Path out : List.of(file, file.resolve("below"))) {
            long t0 = System.nanoTime();
            CliRun run = CliRun.of("bench", "--quick", "--out", out.toString());
            assertThat(run.status()).isEqualTo(2);
            assertThat(run.stdout()).isEmpty();
            assertThat(run.stderr().lines().toList()).singleElement(as(STRING))
                    .startsWith("bufsync bench: --out " + out + ": ");
            assertThat(System.nanoTime() - t0).as("no benchmark ran").isLessThan(TimeUnit.SECONDS.toNanos(30));
        }
    }

    /**
     * The demo benchmark runs the demo's own scenario with ww and global locking on the same
     * seeded workload and reports jobs/s for each with ww's ratio to global.
     */
    @Test
    void demoSmokeReportsBothLockingModesAndTheirRatio() throws Exception {
        CliRun run = CliRun.of("bench", "--smoke", "--only", "demo", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        JsonNode results = run.summary().get("results");
        assertThat(results).hasSize(2);
        JsonNode ww = results.get(0);
        JsonNode global = results.get(1);
        assertThat(ww.get("strategy").asText()).isEqualTo("ww");
        assertThat(global.get("strategy").asText()).isEqualTo("global");
        for (JsonNode r : results) {
            assertThat(r.get("unit").asText()).isEqualTo("jobs/s");
            assertThat(r.get("score").asDouble()).isPositive();
            assertThat(r.get("params").get("drivers").asText()).isEqualTo("2");
            assertThat(r.get("params").get("buffers").asText()).isEqualTo("8");
        }
        assertThat(ww.get("ratioToBaseline").asDouble())
                .isCloseTo(ww.get("score").asDouble() / global.get("score").asDouble(), within(1e-9));
        assertThat(run.summary().get("targets")).isEmpty();
    }

    /**
     * The memory and scale benchmarks run with small parameters: JOL sizes for the mutex and the
     * reservations, and a scale round on both kinds of thread. Their targets are listed; those at
     * the full-size points are not measured by a smoke run.
     */
    @Test
    void memoryAndScaleSmoke() throws Exception {
        CliRun run = CliRun.of("bench", "--smoke", "--only", "memory,scale", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        JsonNode s = run.summary();
        Map<String, JsonNode> byStrategy = new java.util.HashMap<>();
        s.get("results").forEach(r -> byStrategy.put(r.get("strategy").asText(), r));
        assertThat(byStrategy).containsKeys("ww-mutex", "reentrant-lock", "reservation", "virtual", "platform");
        assertThat(byStrategy.get("ww-mutex").get("unit").asText()).isEqualTo("bytes");
        assertThat(byStrategy.get("ww-mutex").get("score").asDouble()).isPositive();
        assertThat(byStrategy.get("reservation").get("unit").asText()).isEqualTo("MB");
        assertThat(byStrategy.get("reservation").get("params").get("reservations").asText()).isEqualTo("10000");
        assertThat(byStrategy.get("virtual").get("score").asDouble()).isPositive();
        Map<String, String> status = new java.util.HashMap<>();
        s.get("targets").forEach(t -> status.put(t.get("target").asText(), t.get("status").asText()));
        assertThat(status.get("a WwMutex ≤ 32 bytes")).isIn("met", "missed");
        assertThat(status.get("10⁶ reservations without fences ≤ 150 MB of heap")).isEqualTo("not measured");
        assertThat(status.get("10⁴ virtual threads on 10⁵ reservations: no deadlock")).isEqualTo("not measured");
        assertThat(run.stdout() + run.stderr()).doesNotContain("10^6");
        RepositoryFiles.assertNamesOnlyOwnDocs(run.stdout() + run.stderr());
    }

    /** Unknown benchmarks and two modes at once are usage errors. */
    @Test
    void badOptionsAreUsageErrors() {
        assertThat(CliRun.usageError("bench", "--only", "nope")).contains("unknown benchmark 'nope'").contains("folly-grid");
        assertThat(CliRun.usageError("bench", "--quick", "--full")).contains("choose one");
    }

    /** Nothing bench prints about itself refers to a file outside the repository. */
    @Test
    void helpNamesNoFileOutsideTheRepository() {
        CliRun help = CliRun.of("bench", "--help");
        assertThat(help.status()).isZero();
        assertThat(help.stdout()).contains("docs/bench.md");
        RepositoryFiles.assertNamesOnlyOwnDocs(help.stdout());
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
