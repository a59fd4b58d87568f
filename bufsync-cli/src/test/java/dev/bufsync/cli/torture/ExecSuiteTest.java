package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.cli.Output;
import dev.bufsync.ww.WwClass;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The exec contention test upstream lacks: threads lock random subsets of shared reservations in
 * random order, with duplicates, for both algorithms, with and without back-off injection; every
 * published fence is seen by later transactions, and injected retries happen and are counted
 * (without injection a loaded machine may run the threads one after another, with no conflict).
 */
class ExecSuiteTest {

    /** exec-contention passes under both algorithms and counts its retries. */
    @ParameterizedTest(name = "inject-backoff={0}")
    @ValueSource(booleans = {false, true})
    void execContentionLosesNothing(boolean inject) {
        Output out = new Output(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        var settings = new TortureRunner.Settings(List.of(WwClass.Algorithm.WOUND_WAIT, WwClass.Algorithm.WAIT_DIE),
                Duration.ofMillis(500), 4, inject);
        List<TortureRunner.Result> results = new TortureRunner(out, Duration.ofSeconds(30))
                .run(ExecSuite.scenarios(), settings);
        assertThat(results).hasSize(2).allSatisfy(r -> {
            assertThat(r.passed()).as("%s %s: %s", r.scenario(), r.algorithm(), r.failure()).isTrue();
            assertThat(r.iterations()).isPositive();
            if (inject) {                   // without injection, conflicts depend on the scheduler
                assertThat(r.backoffs()).as("retries").isPositive();
            }
        });
    }
}
