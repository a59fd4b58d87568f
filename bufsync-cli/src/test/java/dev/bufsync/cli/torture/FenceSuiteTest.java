package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.cli.Output;
import dev.bufsync.ww.WwClass;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fence torture suite passes in short runs: no lost callback, no failed lookup, no stuck waiter. */
class FenceSuiteTest {

    /** Every fence scenario passes and makes progress. */
    @Test
    void fenceSuitePasses() {
        Output out = new Output(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        var settings = new TortureRunner.Settings(List.of(WwClass.Algorithm.WOUND_WAIT, WwClass.Algorithm.WAIT_DIE),
                Duration.ofMillis(400), 2, false);
        List<TortureRunner.Result> results = new TortureRunner(out, Duration.ofSeconds(30))
                .run(FenceSuite.scenarios(), settings);
        assertThat(results).extracting(TortureRunner.Result::scenario).containsExactly(
                "signal-callback-race", "chain-find-race", "chain-wait-forward", "chain-wait-backward",
                "chain-wait-random");
        assertThat(results).allSatisfy(r -> {
            assertThat(r.passed()).as("%s: %s", r.scenario(), r.failure()).isTrue();
            assertThat(r.iterations()).as(r.scenario()).isPositive();
            assertThat(r.algorithm()).isEqualTo("-");
        });
    }
}
