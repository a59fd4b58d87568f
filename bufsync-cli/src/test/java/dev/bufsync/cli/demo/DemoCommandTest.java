package dev.bufsync.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.cli.CliRun;
import dev.bufsync.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command-line contract of {@code bufsync demo}: exit status, JSON summary, deadlock report, trace. */
class DemoCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Naive per-buffer locking reaches a real deadlock, reported within seconds as a closed cycle; exit 3. */
    @Test
    void naiveLockingDeadlocksAndNamesTheCycle() throws Exception {
        long start = System.nanoTime();
        CliRun run = CliRun.of("demo", "--locking", "naive", "--seconds", "20", "--json");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(run.status()).isEqualTo(Main.DEADLOCK);
        assertThat(seconds).isLessThan(20);
        JsonNode s = run.summary();
        assertThat(s.get("command").asText()).isEqualTo("demo");
        assertThat(s.get("locking").asText()).isEqualTo("naive");
        assertThat(s.get("deadlocked").asBoolean()).isTrue();
        JsonNode cycle = s.get("deadlockCycle");
        assertThat(cycle.size()).isGreaterThanOrEqualTo(2);
        Set<String> threads = new HashSet<>();
        for (int i = 0; i < cycle.size(); i++) {
            JsonNode link = cycle.get(i);
            threads.add(link.get("thread").asText());
            JsonNode next = cycle.get((i + 1) % cycle.size());
            assertThat(link.get("heldBy").asText()).as("the cycle closes").isEqualTo(next.get("thread").asText());
            List<String> nextHolds = new ArrayList<>();
            next.get("holds").forEach(n -> nextHolds.add(n.asText()));
            assertThat(nextHolds).as("%s holds what %s waits for", next.get("thread"), link.get("thread"))
                    .contains(link.get("waitsFor").asText());
        }
        assertThat(threads).hasSize(cycle.size());
        assertThat(run.stderr()).as("--json: the report goes to standard error")
                .contains("DEADLOCKED").contains("holds [").contains("and waits for");
    }

    /**
     * bufsync's own mode completes without errors, leaves no fence pending, and writes a trace that
     * is valid JSON with job slices, fence-signal and back-off instants and flow arrows.
     */
    @Test
    void wwCompletesAndTraces(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("trace.json");
        CliRun run = CliRun.of("demo", "--locking", "ww", "--seconds", "1", "--seed", "7", "--trace", trace.toString(), "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isEqualTo(Main.OK);
        JsonNode s = run.summary();
        for (String field : List.of("command", "locking", "submissions", "completed", "backoffs", "deadlocked",
                "deadlockCycle", "fencesCreated", "fencesSignaled", "fencesPending", "errors", "throughputPerSec")) {
            assertThat(s.has(field)).as(field).isTrue();
        }
        assertThat(s.get("deadlocked").asBoolean()).isFalse();
        assertThat(s.get("errors").asLong()).isZero();
        assertThat(s.get("fencesPending").asLong()).isZero();
        assertThat(s.get("completed").asLong()).isEqualTo(s.get("submissions").asLong()).isPositive();
        assertThat(s.get("fencesCreated").asLong()).isEqualTo(2 * s.get("submissions").asLong());

        JsonNode events = JSON.readTree(Files.readString(trace)).get("traceEvents");
        long slices = 0;
        long signals = 0;
        long backoffRetries = 0;
        long flowStarts = 0;
        long flowEnds = 0;
        Set<String> tracks = new HashSet<>();
        for (JsonNode e : events) {
            switch (e.get("ph").asText()) {
                case "X" -> slices++;
                case "i" -> {
                    if (e.get("name").asText().equals("back-off")) {
                        backoffRetries += e.get("args").get("retries").asLong();
                    } else if (e.get("name").asText().equals("fence signalled")) {
                        signals++;
                    }
                }
                case "s" -> flowStarts++;
                case "f" -> flowEnds++;
                case "M" -> {
                    if (e.get("name").asText().equals("thread_name")) {
                        tracks.add(e.get("args").get("name").asText());
                    }
                }
                default -> { }
            }
        }
        assertThat(slices).isEqualTo(s.get("completed").asLong());
        assertThat(signals).isEqualTo(s.get("completed").asLong());
        assertThat(backoffRetries).isEqualTo(s.get("backoffs").asLong());
        assertThat(flowStarts).isEqualTo(flowEnds).isPositive();
        assertThat(tracks).contains("ww/camera", "ww/gpu", "ww/encoder", "ww/display");
    }

    /** Without --locking all three modes run: ww and global complete, naive deadlocks; exit 0. */
    @Test
    void comparisonRunsAllThree() throws Exception {
        CliRun run = CliRun.of("demo", "--seconds", "1", "--drivers", "3", "--buffers", "8", "--json");
        assertThat(run.status()).as(run.stdout()).isEqualTo(Main.OK);
        JsonNode s = run.summary();
        assertThat(s.get("locking").asText()).isEqualTo("all");
        assertThat(s.get("asExpected").asBoolean()).isTrue();
        assertThat(s.get("runs")).hasSize(3);
        assertThat(s.get("runs").get(0).get("locking").asText()).isEqualTo("ww");
        assertThat(s.get("runs").get(1).get("locking").asText()).isEqualTo("global");
        assertThat(s.get("runs").get(2).get("deadlocked").asBoolean()).isTrue();
        assertThat(run.stderr()).contains("locking").contains("jobs/s").contains("deadlock");
        assertThat(run.stderr().lines().filter(l -> l.matches("\\[\\d/3] .*")).toList())
                .as("one progress line per mode when not on a terminal")
                .containsExactly("[1/3] ww locking, about 3 s left", "[2/3] global locking, about 2 s left",
                        "[3/3] naive locking, about 1 s left");
    }

    /** Bad options are usage errors naming the option and the rule, before anything runs. */
    @Test
    void badOptionsAreUsageErrors() {
        assertThat(CliRun.usageError("demo", "--locking", "optimistic")).contains("--locking: 'optimistic' is not a locking mode");
        assertThat(CliRun.usageError("demo", "--drivers", "1")).contains("--drivers must be from 2 to 64, not 1");
        assertThat(CliRun.usageError("demo", "--drivers", "100000")).contains("--drivers must be from 2 to 64");
        assertThat(CliRun.usageError("demo", "--buffers", "1000000")).contains("--buffers must be from 2 to 4096");
        for (String seconds : List.of("NaN", "Infinity", "-Infinity", "1e300", "0", "-1", "3601")) {
            assertThat(CliRun.usageError("demo", "--seconds", seconds)).as(seconds)
                    .contains("--seconds must be a number of seconds above 0 and at most 3600");
        }
        assertThat(CliRun.usageError("demo", "--cluster", "--kill-driver-after", "NaN"))
                .contains("--kill-driver-after must be a number of seconds from 0 to 3600, not NaN");
        assertThat(CliRun.usageError("demo", "--cluster", "--processes", "100000"))
                .contains("--processes must be from 2 to 64");
    }

    /**
     * An output path that cannot be written is a one-line usage error before the run: a missing
     * directory, a directory given as the file.
     */
    @Test
    void unwritableTraceIsAUsageErrorBeforeTheRun(@TempDir Path dir) {
        CliRun missing = CliRun.of("demo", "--trace", dir.resolve("nonexistent").resolve("x.json").toString());
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.stderr().lines().toList()).hasSize(1);
        assertThat(missing.stderr()).startsWith("bufsync demo: --trace ").contains("does not exist");
        assertThat(missing.stdout()).as("nothing ran").isEmpty();
        assertThat(CliRun.usageError("demo", "--trace", dir.toString())).contains("--trace").contains("is a directory");
    }

    /** With --json standard output is one JSON object and nothing else, so that "| jq ." works. */
    @Test
    void jsonAloneOnStandardOutput() throws Exception {
        CliRun run = CliRun.of("demo", "--locking", "ww", "--seconds", "0.2", "--json");
        assertThat(run.status()).as(run.stderr()).isZero();
        assertThat(run.stdout().lines().toList()).hasSize(1);
        assertThat(run.summary().get("command").asText()).isEqualTo("demo");
        assertThat(run.stderr()).contains("drivers (camera, gpu, encoder, display)").contains("ww     completed");
    }

    /**
     * Ctrl-C stops the run: "interrupted", the partial summary and table, the partial trace, exit
     * 130.
     */
    @Test
    void ctrlCReportsWhatRanAndExits130(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("partial.json");
        CliRun run = CliRun.interruptedWhen("[1/3] ww locking", "demo", "--seconds", "600", "--trace", trace.toString(),
                "--json");
        assertThat(run.status()).as(run.stderr()).isEqualTo(Main.INTERRUPTED);
        assertThat(run.stderr()).contains("interrupted: 1 of 3 modes ran").contains("jobs/s");
        JsonNode s = run.summary();
        assertThat(s.get("interrupted").asBoolean()).isTrue();
        assertThat(s.get("locking").asText()).isEqualTo("ww");
        assertThat(s.get("fencesPending").asLong()).isZero();
        assertThat(JSON.readTree(Files.readString(trace)).get("traceEvents")).isNotEmpty();
    }
}
