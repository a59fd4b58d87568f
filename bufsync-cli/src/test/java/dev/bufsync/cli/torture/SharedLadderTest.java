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
 * The shared-mode ladder (readers mixed into the kernel's scenarios), for both algorithms, with
 * and without back-off injection: every scenario passes, none hangs, the conflicting ones see
 * back-offs, and no context backs off except for a strictly older live one (checked on every
 * back-off by the scenarios).
 */
class SharedLadderTest {

    /** Each rung passes under both algorithms; short stress runs. */
    @ParameterizedTest(name = "inject-backoff={0}")
    @ValueSource(booleans = {false, true})
    void sharedLadderPassesForBothAlgorithms(boolean inject) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Output out = new Output(new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        var settings = new TortureRunner.Settings(
                List.of(WwClass.Algorithm.WOUND_WAIT, WwClass.Algorithm.WAIT_DIE),
                Duration.ofMillis(400), 4, inject);
        List<TortureRunner.Result> results = new TortureRunner(out, Duration.ofSeconds(30))
                .run(SharedLadder.scenarios(), settings);

        assertThat(results).hasSize(2 * SharedLadder.scenarios().size());
        assertThat(results).allSatisfy(r -> assertThat(r.passed())
                .as("%s/%s %s: %s", r.suite(), r.scenario(), r.algorithm(), r.failure()).isTrue());
        assertThat(results).filteredOn(r -> r.scenario().startsWith("abba") || r.scenario().equals("upgrade")
                        || inject && r.scenario().equals("stress-rw"))   // stress conflicts depend on the scheduler
                .allSatisfy(r -> assertThat(r.backoffs()).as(r.scenario() + " " + r.algorithm()).isPositive());
        assertThat(results).filteredOn(r -> r.scenario().equals("stress-rw"))
                .allSatisfy(r -> assertThat(r.iterations()).isPositive());
    }
}
