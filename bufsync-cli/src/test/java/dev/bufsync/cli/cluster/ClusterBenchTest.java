package dev.bufsync.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bufsync.cli.CliRun;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code bench --only cluster} in smoke mode: both strategies measured with client processes,
 * round trips counted for both by Curator's tracer, and bufsync's own count agreeing with it.
 */
class ClusterBenchTest {

    @Test
    void smokeRunMeasuresBothAndCountsTwoRoundTripsPerUncontendedTransaction() throws Exception {
        CliRun run = CliRun.of("bench", "--smoke", "--only", "cluster", "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        JsonNode s = run.summary();
        List<String> strategies = new ArrayList<>();
        for (JsonNode r : s.get("results")) {
            strategies.add(r.get("strategy").asText());
            assertThat(r.get("score").asDouble()).as(r.toString()).isPositive();
            double traced = r.get("roundTripsPerTransaction").asDouble();
            if (r.get("strategy").asText().equals(ClusterBench.BUFSYNC)) {
                // one multi() to lock the pair, one to release it, by both counts
                assertThat(traced).as(r.toString()).isEqualTo(2.0);
                assertThat(r.get("bufsyncRoundTripsPerTransaction").asDouble()).as(r.toString()).isEqualTo(2.0);
            } else {
                // per lock: create, read the children, delete
                assertThat(traced).as(r.toString()).isGreaterThanOrEqualTo(6.0);
            }
        }
        assertThat(strategies).containsExactlyInAnyOrder(ClusterBench.BUFSYNC, ClusterBench.MULTI_LOCK);
    }
}
