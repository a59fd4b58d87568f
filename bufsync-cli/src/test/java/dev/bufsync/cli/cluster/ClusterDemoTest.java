package dev.bufsync.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import org.junit.jupiter.api.Test;

/**
 * {@code demo --cluster} end to end: an embedded three-server ensemble, driver JVMs, one of them
 * SIGKILLed mid-run and one server stopped.
 */
class ClusterDemoTest {

    @Test
    void survivorsCompleteAndNothingStaysPendingOrLocked() throws Exception {
        CliRun run = CliRun.of("demo", "--cluster", "--processes", "3", "--buffers", "6", "--seconds", "4",
                "--kill-driver-after", "1.5", "--kill-server-after", "1", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        JsonNode s = run.summary();
        assertThat(s.get("processes").asInt()).isEqualTo(3);
        assertThat(s.get("killed").asInt()).isEqualTo(1);
        assertThat(s.get("serverStopped").asBoolean()).isTrue();
        assertThat(s.get("completed").asLong()).isPositive();
        assertThat(s.get("fencesPending").asLong()).isZero();
        assertThat(s.get("fencesSignaled").asLong()).isEqualTo(s.get("fencesCreated").asLong());
        assertThat(s.get("sessionExpiries").asLong()).isGreaterThanOrEqualTo(1);
        assertThat(s.get("lockedAfter")).isEmpty();
        assertThat(s.get("errors").asLong()).isZero();
        assertThat(s.get("buffersMismatched")).isEmpty();
        // every buffer is either checked against the sequential replay or touched by the killed job
        assertThat(s.get("buffersMatched").asInt() + s.get("buffersUnverifiable").asInt()).isEqualTo(6);
        assertThat(s.get("jobsReplayed").asLong()).isPositive();
    }

    @Test
    void badCombinationsAreUsageErrors() {
        assertThat(CliRun.usageError("demo", "--cluster", "--zookeeper", "localhost:2181", "--kill-server-after", "1"))
                .contains("--kill-server-after");
        assertThat(CliRun.usageError("demo", "--cluster", "--processes", "1")).contains("--processes");
        assertThat(CliRun.usageError("demo", "--cluster", "--seconds", "2", "--kill-driver-after", "5"))
                .contains("--kill-driver-after");
    }
}
