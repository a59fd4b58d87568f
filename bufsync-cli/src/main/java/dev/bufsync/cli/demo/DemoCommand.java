package dev.bufsync.cli.demo;

import dev.bufsync.cli.Checks;
import dev.bufsync.cli.Interrupts;
import dev.bufsync.cli.JfrRecorder;
import dev.bufsync.cli.Listing;
import dev.bufsync.cli.Main;
import dev.bufsync.cli.Output;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bufsync demo}: several drivers share buffers; every submission locks all of its buffers,
 * publishes its fence on each, and runs on its driver's device when its dependencies signal. Run
 * with plain per-buffer locks it deadlocks, with one global lock it serialises, with bufsync it
 * does neither. Without {@code --locking} it runs all three and compares them.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Drivers (camera, gpu, encoder, display) share a pool of buffers and submit jobs that"
                + " read and write random subsets of them: with bufsync (ww), with one global lock, and with"
                + " naive per-buffer locks, which deadlock. Without --locking it runs all three and compares"
                + " them.")
public final class DemoCommand implements Callable<Integer>, Listing {
    static final int MAX_DRIVERS = 64;
    static final int MAX_BUFFERS = 4096;
    static final double MAX_SECONDS = 3600;

    @Option(names = "--locking", paramLabel = "MODE", description = "ww, global or naive; default: all three, compared.")
    String locking;

    @Option(names = "--drivers", paramLabel = "N",
            description = "Number of drivers, each with its own device, 2 to " + MAX_DRIVERS + " (default: ${DEFAULT-VALUE}).")
    int drivers = 4;

    @Option(names = "--buffers", paramLabel = "N",
            description = "Number of shared buffers, 2 to " + MAX_BUFFERS + " (default: ${DEFAULT-VALUE}).")
    int buffers = 16;

    @Option(names = "--seconds", paramLabel = "SECONDS",
            description = "Seconds per locking mode, above 0 and at most 3600 (default: 5).")
    double seconds = 5;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed, for repeatable job shapes (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Write a Chrome trace to FILE, to open in the Perfetto UI or in Chrome's tracing page.")
    Path trace;

    @Option(names = "--jfr", paramLabel = "FILE",
            description = "Record the run with JDK Flight Recorder, bufsync events included, to FILE.")
    Path jfr;

    @Option(names = "--json", description = "Print only the JSON summary on standard output (the report goes to standard error).")
    boolean json;

    @Option(names = "--cluster", description = "Drivers as separate JVM processes sharing the buffers through ZooKeeper.")
    boolean cluster;

    @Option(names = "--processes", paramLabel = "N",
            description = "With --cluster: driver processes, 2 to " + MAX_DRIVERS + " (default: ${DEFAULT-VALUE}).")
    int processes = 4;

    @Option(names = "--zookeeper", paramLabel = "HOST:PORT[,...]",
            description = "With --cluster: an existing ensemble; default: an embedded three-server one.")
    String zookeeper;

    @Option(names = "--kill-driver-after", paramLabel = "SECONDS", description = "With --cluster: SIGKILL one driver process then.")
    Double killDriverAfter;

    @Option(names = "--kill-server-after", paramLabel = "SECONDS", description = "With --cluster: stop one embedded ZooKeeper server then.")
    Double killServerAfter;

    @Option(names = "--algorithm", description = "With --cluster: WOUND_WAIT or WAIT_DIE (default: ${DEFAULT-VALUE}).")
    dev.bufsync.ww.WwClass.Algorithm algorithm = dev.bufsync.ww.WwClass.Algorithm.WOUND_WAIT;

    @Option(names = "--inject", paramLabel = "FAULT", description = "fence-cycle: a device takes a buffer's lock in its signalling section while drivers wait for its fence holding it; the checker stops the run at the cycle (exit 3).")
    String inject;

    @Mixin
    Listing.Flag list;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public List<String> listing() {
        List<String> lines = new ArrayList<>();
        for (Locking l : Locking.values()) {
            lines.add(l.label);
        }
        return lines;
    }

    @Override
    public Integer call() throws Exception {
        Checks.count(spec, "--buffers", buffers, 2, MAX_BUFFERS);
        Checks.seconds(spec, "--seconds", seconds, MAX_SECONDS);
        Checks.outputFile(spec, "--trace", trace);
        if (cluster) {
            Checks.count(spec, "--processes", processes, 2, MAX_DRIVERS);
            Checks.range(spec, "--kill-driver-after", killDriverAfter, 0, MAX_SECONDS);
            Checks.range(spec, "--kill-server-after", killServerAfter, 0, MAX_SECONDS);
            return dev.bufsync.cli.cluster.ClusterDemoCommand.run(spec, new dev.bufsync.cli.cluster.ClusterDemo.Settings(
                    processes, buffers, seconds, seed, algorithm, zookeeper, killDriverAfter, killServerAfter), json);
        }
        Checks.count(spec, "--drivers", drivers, 2, MAX_DRIVERS);
        if (inject != null) {
            return FenceCycleDemo.FENCE_CYCLE.equals(inject) ? FenceCycleDemo.run(drivers, json, Output.stdout())
                    : FenceCycleDemo.unknown(spec, inject);
        }
        List<Locking> modes;
        try {
            modes = locking == null ? List.of(Locking.WW, Locking.GLOBAL, Locking.NAIVE) : List.of(Locking.parse(locking));
        } catch (IllegalArgumentException e) {
            throw Checks.usage(spec, "--locking: " + e.getMessage());
        }
        JfrRecorder recorder = JfrRecorder.start(spec, jfr);
        Output out = Output.stdout();
        TraceWriter writer = trace != null ? new TraceWriter() : null;
        out.line(String.format(Locale.ROOT, "%d drivers (%s) share %d buffers; each job reads 1-3 and writes 1-2 of them;"
                        + " devices work by parking (the CPU stays free). %s s per mode, seed %d.",
                drivers, driverNames(), buffers, fmt(seconds), seed));
        List<DemoRun.Result> results = new ArrayList<>();
        for (int i = 0; i < modes.size() && (i == 0 || !Interrupts.requested()); i++) {
            Locking mode = modes.get(i);
            out.step(i + 1, modes.size(), mode + " locking", timeLeft(modes.subList(i, modes.size())));
            // The naive mode runs until it deadlocks, giving it at least 30 s to do so.
            double limit = mode == Locking.NAIVE ? Math.max(seconds, 30) : seconds;
            DemoRun.Result r = new DemoRun(new DemoRun.Settings(mode, drivers, buffers,
                    Duration.ofMillis(Math.round(limit * 1000)), seed, writer, out)).run();
            results.add(r);
            out.line(describe(r));
        }
        boolean interrupted = Interrupts.requested();
        if (interrupted) {
            out.line(String.format(Locale.ROOT, "interrupted: %d of %d modes ran, the last one cut short",
                    results.size(), modes.size()));
        }
        recorder.stop(out);
        table(out, results);
        if (writer != null) {
            writer.write(trace);
            out.line("trace written to " + trace + " (open it in https://ui.perfetto.dev or chrome://tracing)");
        }
        int status = status(results);
        if (json) {
            Map<String, Object> summary = summary(results, status);
            summary.put("interrupted", interrupted);
            out.json(summary);
        }
        return status;
    }

    /** About how long the given modes take: their seconds each; naive deadlocks within a second or so. */
    private Duration timeLeft(List<Locking> modes) {
        double s = 0;
        for (Locking m : modes) {
            s += m == Locking.NAIVE ? Math.min(seconds, 1) : seconds;
        }
        return Duration.ofMillis(Math.round(s * 1000));
    }

    private String driverNames() {
        List<String> names = new ArrayList<>();
        for (int d = 0; d < drivers; d++) {
            names.add(DemoRun.driverName(d));
        }
        return String.join(", ", names);
    }

    private static String describe(DemoRun.Result r) {
        if (r.deadlocked()) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "%-6s DEADLOCKED after %.2f s (%,d jobs submitted before); the cycle:", r.locking(),
                    r.deadlockAfterSeconds(), r.submissions()));
            for (DeadlockDetector.Link link : r.deadlockCycle()) {
                sb.append("\n         ").append(link);
            }
            return sb.toString();
        }
        return String.format(Locale.ROOT, "%-6s completed %,d jobs in %.1f s: %,.0f jobs/s, %,d back-offs, %,d errors",
                r.locking(), r.completed(), r.seconds(), r.throughputPerSec(), r.backoffs(), r.errors());
    }

    private static void table(Output out, List<DemoRun.Result> results) {
        List<List<String>> rows = new ArrayList<>();
        for (DemoRun.Result r : results) {
            rows.add(List.of(r.locking(), String.format(Locale.ROOT, "%,.0f", r.throughputPerSec()),
                    String.format(Locale.ROOT, "%,d", r.submissions()), String.format(Locale.ROOT, "%,d", r.completed()),
                    String.format(Locale.ROOT, "%,d", r.backoffs()), String.format(Locale.ROOT, "%,d", r.fencesCreated()),
                    String.format(Locale.ROOT, "%,d", r.fencesSignaled()), String.format(Locale.ROOT, "%,d", r.errors()),
                    r.deadlocked() ? String.format(Locale.ROOT, "after %.2f s", r.deadlockAfterSeconds()) : "no"));
        }
        out.table(List.of("locking", "jobs/s", "submitted", "completed", "back-offs", "fences", "signalled", "errors",
                "deadlock"), rows);
    }

    /**
     * 0 when every mode did what it is for (ww and global complete without errors, naive
     * deadlocks); a lone naive run that deadlocked exits 3; anything else 1.
     */
    private int status(List<DemoRun.Result> results) {
        boolean expected = true;
        for (DemoRun.Result r : results) {
            boolean naive = r.locking().equals(Locking.NAIVE.label);
            expected &= naive ? r.deadlocked() : !r.deadlocked() && r.errors() == 0 && r.completed() > 0;
        }
        if (results.size() == 1 && results.get(0).deadlocked()) {
            return Main.DEADLOCK;
        }
        return expected ? Main.OK : Main.FAILED;
    }

    private Map<String, Object> summary(List<DemoRun.Result> results, int status) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("command", "demo");
        if (results.size() == 1) {
            s.putAll(asMap(results.get(0)));
        } else {
            DemoRun.Result ww = results.get(0);
            DemoRun.Result naive = results.get(results.size() - 1);
            s.put("locking", "all");
            s.put("submissions", results.stream().mapToLong(DemoRun.Result::submissions).sum());
            s.put("completed", results.stream().mapToLong(DemoRun.Result::completed).sum());
            s.put("backoffs", results.stream().mapToLong(DemoRun.Result::backoffs).sum());
            s.put("deadlocked", naive.deadlocked());
            s.put("deadlockCycle", naive.deadlockCycle());
            s.put("fencesCreated", results.stream().mapToLong(DemoRun.Result::fencesCreated).sum());
            s.put("fencesSignaled", results.stream().mapToLong(DemoRun.Result::fencesSignaled).sum());
            s.put("fencesPending", results.stream().mapToLong(DemoRun.Result::fencesPending).sum());
            s.put("errors", results.stream().mapToLong(DemoRun.Result::errors).sum());
            s.put("throughputPerSec", ww.throughputPerSec());
            s.put("runs", results.stream().map(DemoCommand::asMap).toList());
        }
        s.put("drivers", drivers);
        s.put("buffers", buffers);
        s.put("seed", seed);
        s.put("asExpected", status == Main.OK || status == Main.DEADLOCK && results.size() == 1);
        return s;
    }

    private static Map<String, Object> asMap(DemoRun.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("locking", r.locking());
        m.put("submissions", r.submissions());
        m.put("completed", r.completed());
        m.put("backoffs", r.backoffs());
        m.put("deadlocked", r.deadlocked());
        m.put("deadlockCycle", r.deadlockCycle());
        m.put("deadlockAfterSeconds", r.deadlockAfterSeconds());
        m.put("fencesCreated", r.fencesCreated());
        m.put("fencesSignaled", r.fencesSignaled());
        m.put("fencesPending", r.fencesPending());
        m.put("errors", r.errors());
        m.put("throughputPerSec", r.throughputPerSec());
        m.put("seconds", r.seconds());
        return m;
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
