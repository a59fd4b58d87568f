package dev.bufsync.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.check.DependencyCycle;
import dev.bufsync.cli.CliRun;
import dev.bufsync.cli.Main;
import dev.bufsync.resv.Reservation;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** {@code bufsync demo --inject fence-cycle}: the checker stops the dmabuf-sync hazard; other runs stay silent. */
class FenceCycleDemoTest {
    /** The run exits 3 with dependencyCycle naming the camera's fence context and the buffer's lock class. */
    @Test
    void fenceCycleStopsAtTheClosingEdge() throws Exception {
        CheckPolicy before = Checker.policy();
        CliRun run = CliRun.of("demo", "--inject", "fence-cycle", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isEqualTo(Main.DEADLOCK);
        JsonNode s = run.summary();
        assertThat(s.get("command").asText()).isEqualTo("demo");
        assertThat(s.get("inject").asText()).isEqualTo("fence-cycle");
        assertThat(s.get("threadsStuck").asInt()).isZero();
        JsonNode cycle = s.get("dependencyCycle");
        assertThat(cycle.get("contexts")).hasSize(1);
        assertThat(cycle.get("contexts").get(0).asText()).startsWith("camera#");
        assertThat(cycle.get("locks")).hasSize(1);
        assertThat(cycle.get("locks").get(0).asText()).isEqualTo(Reservation.DEFAULT_CLASS.name());
        JsonNode edges = cycle.get("edges");
        assertThat(edges).hasSize(2);
        for (JsonNode e : edges) {
            assertThat(e.get("topFrame").asText()).as("each edge's top frame is the demo's own code")
                    .contains("FenceCycleDemo");
        }
        assertThat(run.stderr()).as("--json: the report goes to standard error")
                .contains("dependency cycle found").contains("no thread was stuck");
        assertThat(Checker.policy()).as("the run's policy is restored").isEqualTo(before);
    }

    /** An unknown fault is a usage error naming the one the demo knows. */
    @Test
    void unknownFaultRefused() {
        assertThat(CliRun.usageError("demo", "--inject", "gremlins")).contains("gremlins").contains("fence-cycle");
    }

    /** Without the injection, the demo's locking modes and a torture suite report no cycle even in throw mode. */
    @Test
    void checkerSilentWithoutInjection() {
        List<DependencyCycle> reported = new CopyOnWriteArrayList<>();
        Consumer<DependencyCycle> listener = reported::add;
        CheckPolicy before = Checker.policy();
        Checker.setPolicy(CheckPolicy.THROW);
        Checker.reset();
        Checker.addCycleListener(listener);
        try {
            for (String locking : List.of("ww", "global")) {
                CliRun run = CliRun.of("demo", "--locking", locking, "--seconds", "1", "--json");
                assertThat(run.status()).as(locking + ": " + run.stdout() + run.stderr()).isEqualTo(Main.OK);
            }
            CliRun torture = CliRun.of("torture", "--suite", "fence", "--seconds", "1", "--json");
            assertThat(torture.status()).as(torture.stdout() + torture.stderr()).isEqualTo(Main.OK);
            assertThat(reported).isEmpty();
        } finally {
            Checker.removeCycleListener(listener);
            Checker.setPolicy(before);
        }
    }
}
