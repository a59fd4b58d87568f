package dev.bufsync.cli.bench;

import dev.bufsync.cli.Checks;
import dev.bufsync.cli.Interrupts;
import dev.bufsync.cli.Listing;
import dev.bufsync.cli.Main;
import dev.bufsync.cli.Output;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.openjdk.jmh.runner.RunnerException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bufsync bench}: runs the benchmarks side by side with their baselines, prints one
 * table per benchmark with every strategy's score and its ratio to the benchmark's baseline (with
 * its spread across forks), judges the targets of the benchmarks that ran (docs/bench.md), warns
 * when the machine was busier than its cores, and with {@code --out} writes {@code results.json}
 * and a self-contained {@code report.html}. {@code --out} is checked before anything runs. Exit
 * status 0 when the run completed (a missed target is reported, not a failure), 1 if a benchmark
 * failed, 2 on a usage error.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Runs the benchmarks side by side against honest baselines and judges the"
                + " performance targets listed in docs/bench.md. Quick mode (the default) finishes"
                + " within three minutes on two cores and judges only what one short run can judge"
                + " (sizes; timed targets say \"not judged in quick mode\"); --full runs every point"
                + " in several forks and judges every target across them.")
public final class BenchCommand implements Callable<Integer>, Listing {

    @Option(names = "--quick", description = "Fewer points, short iterations, one fork (the default); timed targets are not judged.")
    boolean quick;

    @Option(names = "--full", description = "Every point of every benchmark, longer iterations, 2-3 forks per point (about an hour on two cores).")
    boolean full;

    @Option(names = "--smoke", hidden = true, description = "Tiny in-process run, for tests of the plumbing.")
    boolean smoke;

    @Option(names = "--only", paramLabel = "NAME", split = ",",
            description = "Run only these benchmarks: ${COMPLETION-CANDIDATES}.",
            completionCandidates = Names.class)
    List<String> only = new ArrayList<>();

    @Option(names = "--json", description = "Print only the JSON summary on standard output (the report goes to standard error).")
    boolean json;

    @Option(names = "--out", paramLabel = "DIR", description = "Write results.json and report.html into DIR (created before the run).")
    Path outDir;

    @Mixin
    Listing.Flag list;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public List<String> listing() {
        return Catalog.names();
    }

    @Override
    public Integer call() throws IOException {
        RunMode mode = mode();
        List<BenchDef> chosen = chosen();
        if (Checks.outputDirectory(spec, "--out", outDir) != null) {
            Files.createDirectories(outDir);        // before the run: a bad path costs a second
        }
        Output out = Output.stdout();
        out.line(modeNote(mode, chosen));
        Instant started = Instant.now();
        String loadBefore = loadAverage();
        warnIfBusy(out, loadBefore, "before the run");
        long t0 = System.nanoTime();
        List<BenchResult> results = new ArrayList<>();
        BenchRunner runner = new BenchRunner(out, mode);
        for (int i = 0; i < chosen.size() && !Interrupts.requested(); i++) {
            BenchDef def = chosen.get(i);
            long elapsed = System.nanoTime() - t0;
            out.step(i + 1, chosen.size(), def.name(),
                    i == 0 ? null : Duration.ofNanos(elapsed / i * (chosen.size() - i)));
            try {
                List<BenchResult> rs = runner.run(def, (i + 1) + "/" + chosen.size());
                results.addAll(rs);
                printTable(out, def, rs);
            } catch (RunnerException e) {
                out.line("bench: " + e.getMessage());
                return Main.FAILED;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        boolean interrupted = Interrupts.requested();
        if (interrupted) {
            out.line("interrupted: the benchmarks above ran, the rest did not; their results follow");
        }
        String loadAfter = loadAverage();
        List<Double> ratios = ratios(results);
        List<Targets.Verdict> verdicts = Targets.judge(results, mode);
        printTargets(out, verdicts);
        out.line(String.format(Locale.ROOT, "%s run of %d benchmark(s), %d results, took %.0f s"
                + " (load average, 1 min: %s before, %s after; %d cores)", mode, chosen.size(),
                results.size(), seconds, loadBefore.isEmpty() ? "?" : loadBefore.split(" ")[0],
                loadAfter.isEmpty() ? "?" : loadAfter.split(" ")[0], CORES));
        String warning = warnIfBusy(out, loadAfter, "after the run");
        if (warning == null) {
            warning = busyWarning(loadBefore, "before the run");
        }
        Map<String, Object> summary = summary(mode, chosen, started, seconds, results, ratios, verdicts);
        Map<String, Object> load = new LinkedHashMap<>();
        load.put("before", loadBefore);
        load.put("after", loadAfter);
        load.put("cores", CORES);
        load.put("warning", warning);
        summary.put("loadAverage", load);
        summary.put("interrupted", interrupted);
        if (outDir != null) {
            Files.createDirectories(outDir);
            Files.writeString(outDir.resolve("results.json"), Output.toJson(summary) + "\n",
                    StandardCharsets.UTF_8);
            HtmlReport.write(outDir.resolve("report.html"), summary, results, ratios, verdicts);
            out.line("wrote " + outDir.resolve("results.json") + " and " + outDir.resolve("report.html"));
        }
        if (json) {
            out.json(summary);
        }
        return Main.OK;
    }

    private static final int CORES = Runtime.getRuntime().availableProcessors();

    /** Prints the busy warning when the 1-minute load average exceeds the cores; returns it, or null. */
    private static String warnIfBusy(Output out, String load, String when) {
        String warning = busyWarning(load, when);
        if (warning != null) {
            out.line(warning);
        }
        return warning;
    }

    /** The warning for a 1-minute load average above the core count, or null. */
    static String busyWarning(String load, String when) {
        if (load.isEmpty()) {
            return null;
        }
        double oneMinute = Double.parseDouble(load.split(" ")[0]);
        if (oneMinute <= CORES) {
            return null;
        }
        return String.format(Locale.ROOT, "warning: load average %.2f %s exceeds the %d cores: other"
                + " work competed for the CPU, so scores are noisier and slower than on a quiet machine",
                oneMinute, when, CORES);
    }

    private RunMode mode() {
        if ((quick ? 1 : 0) + (full ? 1 : 0) + (smoke ? 1 : 0) > 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "choose one of --quick and --full");
        }
        return full ? RunMode.FULL : smoke ? RunMode.SMOKE : RunMode.QUICK;
    }

    private List<BenchDef> chosen() {
        if (only.isEmpty()) {
            return Catalog.ALL;
        }
        List<BenchDef> chosen = new ArrayList<>();
        for (String name : only) {
            chosen.add(Catalog.find(name).orElseThrow(() -> new CommandLine.ParameterException(
                    spec.commandLine(), "unknown benchmark '" + name + "'; known: "
                    + String.join(", ", Catalog.names()))));
        }
        return chosen;
    }

    private static String modeNote(RunMode mode, List<BenchDef> chosen) {
        int points = 0;
        for (BenchDef d : chosen) {
            points += pointCount(d, mode);
        }
        String what = switch (mode) {
            case QUICK -> "quick mode: fewer points, short iterations, one fork (use --full for every point);"
                    + " finishes within three minutes on two cores; timed targets are not judged in quick mode";
            case FULL -> "full mode: every point, longer iterations, 2-3 forks per point";
            case SMOKE -> "smoke mode: tiny in-process run; the numbers mean nothing";
        };
        return String.format(Locale.ROOT, "bufsync bench, %s: %d benchmark(s), %d points", what,
                chosen.size(), points);
    }

    private static int pointCount(BenchDef d, RunMode mode) {
        BenchDef.Settings s = d.settings().get(mode);
        int n = 1;
        for (List<String> v : s.params().values()) {
            n *= v.size();
        }
        if (d.probe() != null) {
            n *= d.probe().strategies().size();
        } else if (d.strategyParam() && !s.params().containsKey("strategy")) {
            n *= strategyDefaults(d);
        } else if (!d.strategyParam()) {
            n *= s.methods().isEmpty() ? methodCount(d) : s.methods().size();
        }
        return n;
    }

    private static int strategyDefaults(BenchDef d) {
        try {
            return Class.forName(d.jmhClass()).getField("strategy")
                    .getAnnotation(org.openjdk.jmh.annotations.Param.class).value().length;
        } catch (ReflectiveOperationException e) {
            return 1;
        }
    }

    private static int methodCount(BenchDef d) {
        try {
            int n = 0;
            for (var m : Class.forName(d.jmhClass()).getMethods()) {
                if (m.isAnnotationPresent(org.openjdk.jmh.annotations.Benchmark.class)) {
                    n++;
                }
            }
            return n;
        } catch (ClassNotFoundException e) {
            return 1;
        }
    }

    /** Each result's score over its benchmark's baseline at the same parameters, or NaN. */
    static List<Double> ratios(List<BenchResult> results) {
        List<Double> ratios = new ArrayList<>();
        for (BenchResult r : results) {
            BenchResult b = baselineOf(results, r);
            ratios.add(b == null ? Double.NaN : r.score() / b.score());
        }
        return ratios;
    }

    private static void printTable(Output out, BenchDef def, List<BenchResult> rs) {
        List<Double> ratios = ratios(rs);
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < rs.size(); i++) {
            BenchResult r = rs.get(i);
            rows.add(List.of(r.axisLabel(), r.strategy(), number(r.score()) + error(r), r.unit(),
                    ratio(ratios.get(i)) + spreadText(rs, r), counterText(r)));
        }
        out.line("");
        out.line(def.name() + " (" + (def.higherIsBetter() ? "higher" : "lower") + " is better)");
        out.table(List.of(def.axisTitle(), "strategy", "score", "unit", "× " + def.baseline(), "counters"), rows);
    }

    private static void printTargets(Output out, List<Targets.Verdict> verdicts) {
        List<List<String>> rows = new ArrayList<>();
        for (Targets.Verdict v : verdicts) {
            rows.add(List.of(v.benchmark(), v.strategy(), v.target(), v.measured(), v.status().toString()));
        }
        out.line("");
        out.line("targets of the benchmarks that ran (docs/bench.md lists them all)");
        out.table(List.of("benchmark", "ours", "target", "measured", "status"), rows);
        out.line("targets: " + countText(verdicts));
    }

    /** "3 met, 1 missed, 2 not judged in quick mode": the non-zero counts by status. */
    static String countText(List<Targets.Verdict> verdicts) {
        List<String> parts = new ArrayList<>();
        for (Targets.Status status : Targets.Status.values()) {
            long n = verdicts.stream().filter(v -> v.status() == status).count();
            if (n > 0 || status == Targets.Status.MET || status == Targets.Status.MISSED) {
                parts.add(n + " " + status);
            }
        }
        return String.join(", ", parts);
    }

    /** The result's JMH error as " ± e", or empty. */
    static String error(BenchResult r) {
        return Double.isFinite(r.scoreError()) ? " ± " + number(r.scoreError()) : "";
    }

    /** The lowest and highest ratio to the baseline across forks, or empty with one fork. */
    static List<Double> spread(List<BenchResult> all, BenchResult r) {
        BenchResult b = baselineOf(all, r);
        if (b == null || r.forkScores().size() < 2) {
            return List.of();
        }
        List<Double> rs = r.forkRatios(b);
        return List.of(Collections.min(rs), Collections.max(rs));
    }

    /** The ratio's spread as " (0.91–1.12)", or empty. */
    static String spreadText(List<BenchResult> all, BenchResult r) {
        List<Double> s = spread(all, r);
        return s.isEmpty() ? "" : " (" + ratio(s.get(0)) + "–" + ratio(s.get(1)) + ")";
    }

    private static BenchResult baselineOf(List<BenchResult> results, BenchResult r) {
        String baseline = Catalog.find(r.benchmark()).map(BenchDef::baseline).orElse("");
        return results.stream().filter(q -> q.benchmark().equals(r.benchmark())
                && q.strategy().equals(baseline) && q.params().equals(r.params())).findFirst().orElse(null);
    }

    private Map<String, Object> summary(RunMode mode, List<BenchDef> chosen, Instant started,
                                        double seconds, List<BenchResult> results, List<Double> ratios,
                                        List<Targets.Verdict> verdicts) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("command", "bench");
        s.put("mode", mode.label());
        s.put("modeNote", modeNote(mode, chosen));
        s.put("benchmarks", chosen.stream().map(BenchDef::name).toList());
        s.put("machine", machine());
        s.put("startedAt", started.truncatedTo(ChronoUnit.SECONDS).toString());
        s.put("durationSeconds", Math.round(seconds));
        List<Map<String, Object>> rs = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            BenchResult r = results.get(i);
            rs.add(r.toJson(ratios.get(i), spread(results, r),
                    Catalog.find(r.benchmark()).map(BenchDef::baseline).orElse("")));
        }
        s.put("results", rs);
        s.put("targets", verdicts.stream().map(Targets.Verdict::toJson).toList());
        return s;
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse(cpu);
        } catch (IOException | RuntimeException e) {
            // not Linux: keep "unknown CPU"
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + Runtime.version() + " (" + System.getProperty("java.vm.name") + "), "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch");
    }

    /**
     * The system's 1-, 5- and 15-minute load averages, to judge how quiet the machine was; empty
     * where the system does not tell.
     */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    static String number(double v) {
        if (!Double.isFinite(v)) {
            return "-";
        }
        return String.format(Locale.ROOT, v >= 1e5 ? "%,.0f" : v >= 100 ? "%.1f" : "%.3f", v);
    }

    static String ratio(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-";
    }

    static String counterText(BenchResult r) {
        List<String> parts = new ArrayList<>();
        if (!Double.isNaN(r.counter("ratioToMinimum"))) {
            parts.add(String.format(Locale.ROOT, "%.2f × minimum (%.0f ms)", r.counter("ratioToMinimum"),
                    r.counter("minimumMs")));
        }
        if (!Double.isNaN(r.counter("rollbacksPerTransaction"))) {
            parts.add(String.format(Locale.ROOT, "rollbacks/txn %.4f", r.counter("rollbacksPerTransaction")));
            parts.add(String.format(Locale.ROOT, "abort ratio %.3f", r.counter("abortRatio")));
        }
        if (!Double.isNaN(r.counter(MemoryProbe.SAMPLED))) {
            parts.add("extrapolated from " + Numbers.count(String.valueOf((long) r.counter(MemoryProbe.SAMPLED)))
                    + " and half as many (exact: the footprint is affine in the count)");
        }
        if (r.counter("wounds") > 0) {
            parts.add(String.format(Locale.ROOT, "wounds %.0f", r.counter("wounds")));
        }
        return String.join(", ", parts);
    }

    /** The benchmark names, for {@code --help}. */
    static final class Names extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        Names() {
            super(Catalog.names());
        }
    }
}
