package dev.bufsync.cli.demo;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.fence.Fence;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.JobListener;
import dev.bufsync.sched.SubmittedJob;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Records the demo as Chrome trace events (the JSON format that Perfetto and chrome://tracing
 * open): one track per engine with a slice per job, one track per submitting driver with an
 * instant per back-off, an instant per fence signal, and a flow arrow from every fence to each job
 * that waited for it.
 */
final class TraceWriter implements JobListener {
    private static final int PID = 1;
    private static final int SUBMITTER_TRACKS = 1000;

    private final long origin = System.nanoTime();
    private final Map<String, Integer> engineTracks = new ConcurrentHashMap<>();
    private final Map<String, Integer> submitterTracks = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Slice> slices = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Instant> instants = new ConcurrentLinkedQueue<>();

    private record Slice(SubmittedJob job, int track, long startNanos, long endNanos) {
    }

    private record Instant(String name, int track, long nanos, Map<String, Object> args) {
    }

    /** Gives an engine a track, in the order engines are registered. */
    void register(Engine engine) {
        engineTracks.putIfAbsent(engine.name(), engineTracks.size() + 1);
    }

    @Override
    public void onSubmit(SubmittedJob job, int retries) {
        if (retries > 0) {
            int track = submitterTracks.computeIfAbsent(Thread.currentThread().getName(),
                    n -> SUBMITTER_TRACKS + submitterTracks.size());
            instants.add(new Instant("back-off", track, System.nanoTime(),
                    Map.of("job", job.name(), "retries", retries)));
        }
    }

    @Override
    public void onFinish(SubmittedJob job) {
        long end = System.nanoTime();
        int track = engineTracks.getOrDefault(job.entity().engine().name(), 0);
        long start = job.startNanos() != 0 ? job.startNanos() : end;
        slices.add(new Slice(job, track, start, end));
        Fence f = job.finished();
        instants.add(new Instant("fence signalled", track, end,
                Map.of("fence", f.toString(), "status", f.status().name())));
    }

    /** Writes the trace file. */
    void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (JsonGenerator g = new ObjectMapper().getFactory().createGenerator(file.toFile(), JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("displayTimeUnit", "ms");
            g.writeArrayFieldStart("traceEvents");
            metadata(g, 0, "process_name", "bufsync demo", true);
            for (Map.Entry<String, Integer> e : engineTracks.entrySet()) {
                metadata(g, e.getValue(), "thread_name", e.getKey(), false);
            }
            for (Map.Entry<String, Integer> e : submitterTracks.entrySet()) {
                metadata(g, e.getValue(), "thread_name", e.getKey() + " submissions", false);
            }
            Map<Fence, Slice> byFence = new HashMap<>();
            List<Slice> all = new ArrayList<>(slices);
            for (Slice s : all) {
                byFence.put(s.job().finished(), s);
                byFence.put(s.job().scheduled(), s);
                slice(g, s);
            }
            for (Instant i : instants) {
                g.writeStartObject();
                g.writeStringField("name", i.name());
                g.writeStringField("ph", "i");
                g.writeStringField("s", "t");
                g.writeNumberField("ts", micros(i.nanos()));
                g.writeNumberField("pid", PID);
                g.writeNumberField("tid", i.track());
                g.writeObjectField("args", i.args());
                g.writeEndObject();
            }
            long flowId = 0;
            for (Slice consumer : all) {
                for (Fence dep : consumer.job().dependencies()) {
                    Slice producer = byFence.get(dep);
                    if (producer != null) {
                        flow(g, ++flowId, dep, producer, consumer);
                    }
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    private void slice(JsonGenerator g, Slice s) throws IOException {
        SubmittedJob job = s.job();
        g.writeStartObject();
        g.writeStringField("name", job.name());
        g.writeStringField("cat", "job");
        g.writeStringField("ph", "X");
        g.writeNumberField("ts", micros(s.startNanos()));
        g.writeNumberField("dur", Math.max(0.001, (s.endNanos() - s.startNanos()) / 1000.0));
        g.writeNumberField("pid", PID);
        g.writeNumberField("tid", s.track());
        g.writeObjectFieldStart("args");
        g.writeStringField("fence", job.finished().toString());
        g.writeStringField("reads", names(job.job().reads()));
        g.writeStringField("writes", names(job.job().writes()));
        g.writeNumberField("dependencies", job.dependencies().size());
        g.writeEndObject();
        g.writeEndObject();
    }

    /** A flow arrow from the end of the producing job's slice to the start of the waiting job's. */
    private void flow(JsonGenerator g, long id, Fence fence, Slice producer, Slice consumer) throws IOException {
        long from = Math.max(producer.startNanos(), producer.endNanos() - 1_000);
        for (String phase : new String[] {"s", "f"}) {
            boolean start = phase.equals("s");
            g.writeStartObject();
            g.writeStringField("name", fence.toString());
            g.writeStringField("cat", "fence");
            g.writeStringField("ph", phase);
            g.writeNumberField("id", id);
            g.writeNumberField("ts", micros(start ? from : consumer.startNanos()));
            g.writeNumberField("pid", PID);
            g.writeNumberField("tid", start ? producer.track() : consumer.track());
            if (!start) {
                g.writeStringField("bp", "e");
            }
            g.writeEndObject();
        }
    }

    private void metadata(JsonGenerator g, int tid, String name, String value, boolean process) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("ph", "M");
        g.writeNumberField("pid", PID);
        if (!process) {
            g.writeNumberField("tid", tid);
        }
        g.writeObjectFieldStart("args");
        g.writeStringField("name", value);
        g.writeEndObject();
        g.writeEndObject();
    }

    private double micros(long nanos) {
        return (nanos - origin) / 1000.0;
    }

    private static String names(List<? extends dev.bufsync.resv.HasReservation> objects) {
        List<String> out = new ArrayList<>();
        for (var o : objects) {
            out.add(o.reservation().name());
        }
        return String.join(",", out);
    }
}
