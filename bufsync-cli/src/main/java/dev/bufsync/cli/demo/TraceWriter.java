package dev.bufsync.cli.demo;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.fence.Fence;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.JobListener;
import dev.bufsync.sched.SubmittedJob;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records the demo as Chrome trace events (the JSON format that Perfetto and chrome://tracing
 * open), in the shape Perfetto's importer accepts without dropping anything: a process per locking
 * mode; per driver, in driver order (camera, gpu, encoder, display, ...), a track of its
 * submissions (back-off instants, and in a deadlock the wait that never ends) and as many tracks
 * for its device as it had jobs running at once, so that the job slices of a track never overlap;
 * an instant per fence signal; and a flow arrow from every fence to each job that waited for it,
 * stamped at the fence's own signal time, which is never later than the waiting job's start.
 */
final class TraceWriter implements JobListener {
    /** Track ids per driver: its submissions at {@code base}, its device lanes after it. */
    private static final int TIDS_PER_DRIVER = 100;
    /** How far before a fence's signal its flow arrow leaves the producing slice. */
    private static final long FLOW_LEAD_NANOS = 1_000;

    private final long origin = System.nanoTime();
    private final List<String> modes = new CopyOnWriteArrayList<>();          // pid = index + 1
    private final Map<String, Driver> drivers = new ConcurrentHashMap<>();     // by engine name
    private final ConcurrentLinkedQueue<Slice> jobs = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Event> marks = new ConcurrentLinkedQueue<>();

    /** A driver's tracks in one mode's process. */
    private record Driver(String engine, String name, int pid, int base) {
    }

    /** A finished job: its engine's driver and its running time. */
    private record Slice(SubmittedJob job, Driver driver, long startNanos, long endNanos) {
    }

    /** An event that is not a job: an instant ({@code dur < 0}) or a slice, with its arguments. */
    private record Event(String name, String cat, int pid, int tid, long nanos, long dur,
                         Map<String, Object> args) {
    }

    /**
     * Gives an engine its driver's tracks in the process of its mode.
     *
     * @param engine the driver's device
     * @param mode the locking mode of the run
     * @param driver the driver's index, which orders the tracks
     * @param name the driver's name
     */
    void register(Engine engine, Locking mode, int driver, String name) {
        synchronized (modes) {
            if (!modes.contains(mode.label)) {
                modes.add(mode.label);
            }
        }
        int pid = modes.indexOf(mode.label) + 1;
        drivers.put(engine.name(), new Driver(engine.name(), name, pid, (driver + 1) * TIDS_PER_DRIVER));
    }

    @Override
    public void onSubmit(SubmittedJob job, int retries) {
        Driver d = drivers.get(job.entity().engine().name());
        if (retries > 0 && d != null) {
            marks.add(new Event("back-off", "backoff", d.pid(), d.base(), System.nanoTime(), -1,
                    Map.of("job", job.name(), "retries", retries)));
        }
    }

    @Override
    public void onFinish(SubmittedJob job) {
        Driver d = drivers.get(job.entity().engine().name());
        if (d == null) {
            return;
        }
        Fence f = job.finished();
        // The fence's timestamp is read before it is seen signalled, so every job that waited
        // for it started at or after this time.
        long end = f.isSignaled() ? f.timestamp() : System.nanoTime();
        long start = job.startNanos() != 0 ? Math.min(job.startNanos(), end) : end;
        jobs.add(new Slice(job, d, start, end));
    }

    /**
     * Marks a deadlock of the naive mode: a slice on each deadlocked driver's submission track from
     * the moment it began to wait until the deadlock was detected, and an instant naming the cycle.
     *
     * @param mode the mode that deadlocked
     * @param cycle the wait-for cycle
     * @param waitingSince when each thread of the cycle began to wait, by thread name
     * @param detectedNanos when the deadlock was detected
     */
    void deadlock(Locking mode, List<DeadlockDetector.Link> cycle, Map<String, Long> waitingSince,
                  long detectedNanos) {
        List<String> links = new ArrayList<>();
        int pid = 0;
        for (DeadlockDetector.Link link : cycle) {
            links.add(link.toString());
            Driver d = drivers.get(mode.label + "/" + link.thread());
            if (d == null) {
                continue;
            }
            pid = d.pid();
            long since = Math.min(waitingSince.getOrDefault(link.thread(), detectedNanos), detectedNanos);
            marks.add(new Event("blocked on " + link.waitsFor() + " (held by " + link.heldBy() + ")", "deadlock",
                    d.pid(), d.base(), since, detectedNanos - since,
                    Map.of("holds", link.holds(), "waitsFor", link.waitsFor(), "heldBy", link.heldBy())));
        }
        if (pid != 0) {
            marks.add(new Event("DEADLOCK", "deadlock", pid, 0, detectedNanos, -1, Map.of("cycle", links)));
        }
    }

    /**
     * Writes the trace file: everything recorded so far.
     *
     * @param file where to write
     * @throws IOException if it cannot be written
     */
    void write(Path file) throws IOException {
        List<Slice> slices = new ArrayList<>(jobs);
        Map<Slice, Integer> tids = lanes(slices);
        try (JsonGenerator g = new ObjectMapper().getFactory().createGenerator(file.toFile(), JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("displayTimeUnit", "ms");
            g.writeArrayFieldStart("traceEvents");
            metadata(g, tids);
            Map<Fence, Slice> byFence = new HashMap<>();
            for (Slice s : slices) {
                byFence.put(s.job().finished(), s);
                byFence.put(s.job().scheduled(), s);
                int tid = tids.get(s);
                slice(g, s, tid);
                Fence f = s.job().finished();
                event(g, new Event("fence signalled", "fence", s.driver().pid(), tid, s.endNanos(), -1,
                        Map.of("fence", f.toString(), "status", f.status().name())));
            }
            for (Event e : marks) {
                event(g, e);
            }
            long flowId = 0;
            for (Slice consumer : slices) {
                for (Fence dep : consumer.job().dependencies()) {
                    Slice producer = byFence.get(dep);
                    if (producer != null && dep.isSignaled()) {
                        flow(g, ++flowId, dep, producer, tids.get(producer), consumer, tids.get(consumer));
                    }
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        }
    }

    /**
     * Puts each job on a lane of its driver's device so that the slices of a lane never overlap:
     * per driver, jobs in start order each take the first lane free by then (interval
     * partitioning, as few lanes as jobs ever ran at once).
     */
    private static Map<Slice, Integer> lanes(List<Slice> slices) {
        Map<Driver, List<Slice>> byDriver = new HashMap<>();
        for (Slice s : slices) {
            byDriver.computeIfAbsent(s.driver(), d -> new ArrayList<>()).add(s);
        }
        Map<Slice, Integer> tids = new HashMap<>();
        for (List<Slice> list : byDriver.values()) {
            list.sort(Comparator.comparingLong(Slice::startNanos).thenComparingLong(Slice::endNanos));
            List<Long> laneEnds = new ArrayList<>();
            for (Slice s : list) {
                int lane = 0;
                while (lane < laneEnds.size() && laneEnds.get(lane) > s.startNanos()) {
                    lane++;
                }
                if (lane == laneEnds.size()) {
                    laneEnds.add(s.endNanos());
                } else {
                    laneEnds.set(lane, s.endNanos());
                }
                tids.put(s, s.driver().base() + 1 + lane);
            }
        }
        return tids;
    }

    /** Names and orders the processes (modes in run order) and tracks (drivers in order, then lanes). */
    private void metadata(JsonGenerator g, Map<Slice, Integer> tids) throws IOException {
        for (int i = 0; i < modes.size(); i++) {
            meta(g, "process_name", i + 1, null, "name", "bufsync demo: " + modes.get(i) + " locking");
            meta(g, "process_sort_index", i + 1, null, "sort_index", i + 1);
        }
        Map<Integer, Map<Integer, String>> names = new TreeMap<>();      // pid -> tid -> name
        for (Driver d : drivers.values()) {
            names.computeIfAbsent(d.pid(), p -> new TreeMap<>()).put(d.base(), d.name() + " submissions");
        }
        for (Map.Entry<Slice, Integer> e : tids.entrySet()) {
            Driver d = e.getKey().driver();
            int lane = e.getValue() - d.base() - 1;
            names.get(d.pid()).put(e.getValue(), lane == 0 ? d.engine() : d.engine() + " #" + (lane + 1));
        }
        for (Map.Entry<Integer, Map<Integer, String>> p : names.entrySet()) {
            for (Map.Entry<Integer, String> t : p.getValue().entrySet()) {
                meta(g, "thread_name", p.getKey(), t.getKey(), "name", t.getValue());
                meta(g, "thread_sort_index", p.getKey(), t.getKey(), "sort_index", t.getKey());
            }
        }
    }

    private void slice(JsonGenerator g, Slice s, int tid) throws IOException {
        SubmittedJob job = s.job();
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("fence", job.finished().toString());
        args.put("reads", names(job.job().reads()));
        args.put("writes", names(job.job().writes()));
        args.put("dependencies", job.dependencies().size());
        event(g, new Event(job.name(), "job", s.driver().pid(), tid, s.startNanos(),
                s.endNanos() - s.startNanos(), args));
    }

    private void event(JsonGenerator g, Event e) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", e.name());
        g.writeStringField("cat", e.cat());
        if (e.dur() < 0) {
            g.writeStringField("ph", "i");
            g.writeStringField("s", e.tid() == 0 ? "p" : "t");
        } else {
            g.writeStringField("ph", "X");
        }
        g.writeNumberField("ts", micros(e.nanos() - origin));
        if (e.dur() >= 0) {
            g.writeNumberField("dur", micros(e.dur()));
        }
        g.writeNumberField("pid", e.pid());
        g.writeNumberField("tid", e.tid());
        g.writeObjectField("args", e.args());
        g.writeEndObject();
    }

    /**
     * A flow arrow from the producing job's slice, just before its fence signalled (or at its
     * start, for a fence that signals at the start), to the start of the waiting job's slice.
     */
    private void flow(JsonGenerator g, long id, Fence fence, Slice producer, int producerTid, Slice consumer,
                      int consumerTid) throws IOException {
        long from = Math.max(producer.startNanos(), fence.timestamp() - FLOW_LEAD_NANOS);
        long to = consumer.startNanos();
        for (String phase : new String[] {"s", "f"}) {
            boolean start = phase.equals("s");
            g.writeStartObject();
            g.writeStringField("name", fence.toString());
            g.writeStringField("cat", "fence");
            g.writeStringField("ph", phase);
            g.writeNumberField("id", id);
            g.writeNumberField("ts", micros((start ? from : to) - origin));
            g.writeNumberField("pid", (start ? producer : consumer).driver().pid());
            g.writeNumberField("tid", start ? producerTid : consumerTid);
            if (!start) {
                g.writeStringField("bp", "e");
            }
            g.writeEndObject();
        }
    }

    private static void meta(JsonGenerator g, String name, int pid, Integer tid, String key, Object value)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("ph", "M");
        g.writeNumberField("pid", pid);
        if (tid != null) {
            g.writeNumberField("tid", tid);
        }
        g.writeObjectFieldStart("args");
        g.writeObjectField(key, value);
        g.writeEndObject();
        g.writeEndObject();
    }

    /** Nanoseconds as exact decimal microseconds (three decimals), as the trace format counts. */
    private static BigDecimal micros(long nanos) {
        return BigDecimal.valueOf(nanos, 3);
    }

    private static String names(List<? extends HasReservation> objects) {
        List<String> out = new ArrayList<>();
        for (HasReservation o : objects) {
            out.add(o.reservation().name());
        }
        return String.join(",", out);
    }
}
