package dev.bufsync.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import org.junit.jupiter.api.Test;

/** {@code torture --suite cluster}: transactions in their own JVMs, a killed producer. */
class ClusterTortureTest {

    @Test
    void abbaAcrossProcessesAndAKilledProducerPass() throws Exception {
        CliRun run = CliRun.of("torture", "--suite", "cluster", "--scenario", "abba,kill-producer",
                "--algorithm", "wait-die", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        JsonNode s = run.summary();
        assertThat(s.get("passed").asInt()).isEqualTo(2);
        assertThat(s.get("results").toString()).contains("abba").contains("kill-producer");
    }
}
