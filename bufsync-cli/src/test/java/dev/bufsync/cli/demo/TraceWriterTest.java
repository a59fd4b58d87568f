package dev.bufsync.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.cli.CliRun;
import dev.bufsync.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's trace (all three modes, the naive one deadlocking) keeps the rules Perfetto's JSON
 * importer enforces, so that it drops and truncates nothing: slices on a track never overlap unless
 * one nests inside the other, every flow id has exactly one start and one end, each bound to a
 * slice and the start not after the end, every process and track is named; tracks come in driver
 * order and the naive mode's deadlock is marked.
 */
class TraceWriterTest {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    @TempDir
    static Path dir;
    static List<JsonNode> events;

    /** An event's place and time in nanoseconds; an instant is a slice of no duration. */
    record Span(String name, long pid, long tid, long start, long end) {
    }

    @BeforeAll
    static void runTheDemo() throws Exception {
        Path trace = dir.resolve("trace.json");
        CliRun run = CliRun.of("demo", "--seconds", "1", "--trace", trace.toString());
        assertThat(run.status()).as(run.stdout() + run.stderr()).isEqualTo(Main.OK);
        events = new ArrayList<>();
        JSON.readTree(Files.readString(trace)).get("traceEvents").forEach(events::add);
    }

    @Test
    void slicesOnATrackNestOrDoNotOverlap() {
        Map<List<Long>, List<Span>> tracks = new HashMap<>();
        for (Span s : spans()) {
            tracks.computeIfAbsent(List.of(s.pid(), s.tid()), k -> new ArrayList<>()).add(s);
        }
        long slices = 0;
        for (List<Span> track : tracks.values()) {
            track.sort(Comparator.comparingLong(Span::start).thenComparing(Comparator.comparingLong(Span::end).reversed()));
            List<Span> open = new ArrayList<>();
            for (Span s : track) {
                while (!open.isEmpty() && open.get(open.size() - 1).end() <= s.start()) {
                    open.remove(open.size() - 1);
                }
                if (!open.isEmpty()) {
                    Span outer = open.get(open.size() - 1);
                    assertThat(s.end()).as("%s overlaps %s without nesting in it", s, outer).isLessThanOrEqualTo(outer.end());
                }
                open.add(s);
                slices++;
            }
        }
        assertThat(slices).isPositive();
    }

    @Test
    void everyFlowStartsOnceEndsOnceAndNotBeforeItStarts() {
        Map<Long, List<JsonNode>> flows = new TreeMap<>();
        for (JsonNode e : events) {
            String ph = e.get("ph").asText();
            if (ph.equals("s") || ph.equals("f")) {
                flows.computeIfAbsent(e.get("id").asLong(), k -> new ArrayList<>()).add(e);
            }
        }
        assertThat(flows).isNotEmpty();
        List<Span> slices = spans().stream().filter(s -> s.end() > s.start() || s.name().startsWith("job:")).toList();
        for (Map.Entry<Long, List<JsonNode>> f : flows.entrySet()) {
            List<JsonNode> steps = f.getValue();
            assertThat(steps).as("flow %d", f.getKey()).hasSize(2);
            JsonNode start = steps.stream().filter(e -> e.get("ph").asText().equals("s")).findFirst().orElseThrow();
            JsonNode end = steps.stream().filter(e -> e.get("ph").asText().equals("f")).findFirst().orElseThrow();
            assertThat(nanos(start.get("ts"))).as("flow %d starts at or before it ends", f.getKey())
                    .isLessThanOrEqualTo(nanos(end.get("ts")));
            assertThat(boundTo(start, slices)).as("flow %d's start lies in a slice of its track", f.getKey()).isTrue();
            assertThat(boundTo(end, slices)).as("flow %d's end lies in a slice of its track", f.getKey()).isTrue();
        }
    }

    @Test
    void everyProcessAndTrackIsNamed() {
        Map<Long, String> processes = new HashMap<>();
        Map<List<Long>, String> threads = new HashMap<>();
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("process_name")) {
                processes.put(e.get("pid").asLong(), e.get("args").get("name").asText());
            } else if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("thread_name")) {
                threads.put(List.of(e.get("pid").asLong(), e.get("tid").asLong()), e.get("args").get("name").asText());
            }
        }
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("M")) {
                continue;
            }
            assertThat(processes).as("process of %s", e).containsKey(e.get("pid").asLong());
            boolean processScoped = e.get("ph").asText().equals("i") && e.path("s").asText().equals("p");
            if (!processScoped) {
                assertThat(threads).as("track of %s", e).containsKey(List.of(e.get("pid").asLong(), e.get("tid").asLong()));
            }
        }
        assertThat(processes.values()).containsExactly("bufsync demo: ww locking", "bufsync demo: global locking",
                "bufsync demo: naive locking");
    }

    @Test
    void devicesComeInDriverOrder() {
        Map<Long, String> firstLanes = new TreeMap<>();
        for (JsonNode e : events) {
            if (e.get("ph").asText().equals("M") && e.get("name").asText().equals("thread_name")
                    && e.get("pid").asLong() == 1 && !e.get("args").get("name").asText().contains(" ")) {
                firstLanes.put(e.get("tid").asLong(), e.get("args").get("name").asText());
            }
        }
        assertThat(firstLanes.values()).containsExactly("ww/camera", "ww/gpu", "ww/encoder", "ww/display");
    }

    @Test
    void theNaiveDeadlockIsMarked() {
        long naive = events.stream().filter(e -> e.get("ph").asText().equals("M")
                && e.get("name").asText().equals("process_name")
                && e.get("args").get("name").asText().contains("naive")).findFirst().orElseThrow().get("pid").asLong();
        assertThat(events).anyMatch(e -> e.get("pid").asLong() == naive && e.get("name").asText().equals("DEADLOCK")
                && e.get("args").get("cycle").size() >= 2);
        assertThat(events.stream().filter(e -> e.get("pid").asLong() == naive && e.get("ph").asText().equals("X")
                && e.get("name").asText().startsWith("blocked on buffer-"))).hasSizeGreaterThanOrEqualTo(2);
    }

    /** The complete slices and thread-scoped instants. */
    private static List<Span> spans() {
        List<Span> spans = new ArrayList<>();
        for (JsonNode e : events) {
            String ph = e.get("ph").asText();
            boolean threadInstant = ph.equals("i") && !e.path("s").asText().equals("p");
            if (ph.equals("X") || threadInstant) {
                long ts = nanos(e.get("ts"));
                long dur = ph.equals("X") ? nanos(e.get("dur")) : 0;
                String name = (e.path("cat").asText().equals("job") ? "job:" : "") + e.get("name").asText();
                spans.add(new Span(name, e.get("pid").asLong(), e.get("tid").asLong(), ts, ts + dur));
            }
        }
        return spans;
    }

    /** Whether a flow step lies within a job slice of its own track (where Perfetto binds it). */
    private static boolean boundTo(JsonNode step, List<Span> slices) {
        long ts = nanos(step.get("ts"));
        long pid = step.get("pid").asLong();
        long tid = step.get("tid").asLong();
        return slices.stream().anyMatch(s -> s.pid() == pid && s.tid() == tid && s.name().startsWith("job:")
                && s.start() <= ts && ts <= s.end());
    }

    private static long nanos(JsonNode micros) {
        return micros.decimalValue().movePointRight(3).longValueExact();
    }
}
