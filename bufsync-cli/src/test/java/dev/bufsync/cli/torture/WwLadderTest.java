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
 * The kernel's test-ww_mutex ladder, for both algorithms, with and without back-off injection:
 * every scenario passes, the stress runs complete transactions and see back-offs, and no context
 * backs off except for a strictly older one (checked on every back-off by the scenarios).
 */
class WwLadderTest {

    /** Each rung of the ladder passes under both algorithms; short stress runs. */
    @ParameterizedTest(name = "inject-backoff={0}")
    @ValueSource(booleans = {false, true})
    void ladderPassesForBothAlgorithms(boolean inject) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Output out = new Output(new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        var settings = new TortureRunner.Settings(
                List.of(WwClass.Algorithm.WOUND_WAIT, WwClass.Algorithm.WAIT_DIE),
                Duration.ofMillis(400), 4, inject);
        List<TortureRunner.Result> results = new TortureRunner(out, Duration.ofSeconds(30))
                .run(WwLadder.scenarios(), settings);

        assertThat(results).hasSize(2 * WwLadder.scenarios().size());
        assertThat(results).allSatisfy(r -> assertThat(r.passed())
                .as("%s/%s %s: %s", r.suite(), r.scenario(), r.algorithm(), r.failure()).isTrue());
        assertThat(results).filteredOn(r -> r.scenario().startsWith("stress"))
                .allSatisfy(r -> {
                    assertThat(r.iterations()).as(r.scenario()).isPositive();
                    if (inject) {           // without injection, conflicts depend on the scheduler
                        assertThat(r.backoffs()).as(r.scenario()).isPositive();
                    }
                });
        assertThat(results).filteredOn(r -> r.scenario().startsWith("abba"))
                .allSatisfy(r -> assertThat(r.backoffs()).isPositive());
    }
}
