package dev.bufsync.cli.torture;

import dev.bufsync.cli.Checks;
import dev.bufsync.cli.Interrupts;
import dev.bufsync.cli.JfrRecorder;
import dev.bufsync.cli.Listing;
import dev.bufsync.cli.Main;
import dev.bufsync.cli.Output;
import dev.bufsync.ww.WwClass;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code bufsync torture}: the kernel's test ladders and more, for both algorithms, with a hang
 * watchdog. Exit status 0 if every scenario passed, 1 if one failed, 3 if one hung.
 */
@Command(name = "torture", mixinStandardHelpOptions = true,
        description = "Runs the torture ladders (the Linux kernel's test-ww_mutex ladder and more) and"
                + " reports each scenario as passed, failed or hung.")
public final class TortureCommand implements Callable<Integer>, Listing {
    static final double MAX_SECONDS = 3600;
    static final int MAX_THREADS = 1024;

    /** Which algorithms to run per-algorithm scenarios with. */
    enum AlgorithmChoice {
        WOUND_WAIT("wound-wait"), WAIT_DIE("wait-die"), BOTH("both");

        private final String label;

        AlgorithmChoice(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }

        List<WwClass.Algorithm> algorithms() {
            return switch (this) {
                case WOUND_WAIT -> List.of(WwClass.Algorithm.WOUND_WAIT);
                case WAIT_DIE -> List.of(WwClass.Algorithm.WAIT_DIE);
                case BOTH -> List.of(WwClass.Algorithm.WOUND_WAIT, WwClass.Algorithm.WAIT_DIE);
            };
        }
    }

    @Option(names = "--suite", split = ",", paramLabel = "SUITE",
            description = "Suites to run (${COMPLETION-CANDIDATES}); default: all.",
            completionCandidates = Suites.Names.class)
    List<String> suites = new ArrayList<>();

    @Option(names = "--scenario", split = ",", paramLabel = "NAME",
            description = "Run only these scenarios (by name; --list shows them).")
    List<String> scenarioNames = new ArrayList<>();

    @Option(names = "--algorithm", converter = AlgorithmConverter.class, paramLabel = "ALGORITHM",
            description = "wound-wait, wait-die or both (default: ${DEFAULT-VALUE}).")
    AlgorithmChoice algorithm = AlgorithmChoice.BOTH;

    @Option(names = "--seconds", paramLabel = "SECONDS",
            description = "Duration of each stress scenario, above 0 and at most 3600 (default: 2).")
    double seconds = 2;

    @Option(names = "--threads", paramLabel = "N",
            description = "Worker threads of the stress scenarios, 1 to 1024 (default: twice the cores, ${DEFAULT-VALUE}).")
    int threads = 2 * Runtime.getRuntime().availableProcessors();

    @Option(names = "--inject-backoff", description = "Turn on back-off injection (the kernel's DEBUG_WW_MUTEX_SLOWPATH).")
    boolean injectBackoff;

    @Option(names = "--hang-seconds", hidden = true, description = "Report a scenario as hung after this long without progress.")
    double hangSeconds = 30;

    @Option(names = "--jfr", paramLabel = "FILE",
            description = "Record the run with JDK Flight Recorder, bufsync events included, to FILE.")
    Path jfr;

    @Option(names = "--json", description = "Print only the JSON summary on standard output (the report goes to standard error).")
    boolean json;

    @Mixin
    Listing.Flag list;

    @Spec
    CommandSpec spec;

    @Override
    public List<String> listing() {
        List<String> lines = new ArrayList<>();
        Suites.all().forEach((suite, scenarios) -> scenarios.forEach(s -> lines.add(suite + " " + s.name())));
        return lines;
    }

    @Override
    public Integer call() {
        Checks.seconds(spec, "--seconds", seconds, MAX_SECONDS);
        Checks.count(spec, "--threads", threads, 1, MAX_THREADS);
        Checks.seconds(spec, "--hang-seconds", hangSeconds, MAX_SECONDS);
        List<Scenario> chosen = Suites.select(spec, suites, scenarioNames);
        JfrRecorder recorder = JfrRecorder.start(spec, jfr);
        Output out = Output.stdout();
        TortureRunner.Settings settings = new TortureRunner.Settings(algorithm.algorithms(),
                Duration.ofMillis(Math.round(seconds * 1000)), threads, injectBackoff);
        List<TortureRunner.Result> results = new TortureRunner(out,
                Duration.ofMillis(Math.round(hangSeconds * 1000))).run(chosen, settings);
        recorder.stop(out);
        return report(out, results);
    }

    private int report(Output out, List<TortureRunner.Result> results) {
        long passed = results.stream().filter(TortureRunner.Result::passed).count();
        long hung = results.stream().filter(TortureRunner.Result::hung).count();
        long failed = results.size() - passed - hung;
        List<List<String>> rows = new ArrayList<>();
        for (TortureRunner.Result r : results) {
            rows.add(List.of(r.suite(), r.scenario(), r.algorithm(),
                    r.passed() ? "passed" : r.hung() ? "HUNG" : "FAILED",
                    String.format(Locale.ROOT, "%,d", r.iterations()),
                    String.format(Locale.ROOT, "%,d", r.backoffs()),
                    String.format(Locale.ROOT, "%,d", r.durationMs())));
        }
        out.table(List.of("suite", "scenario", "algorithm", "result", "iterations", "back-offs", "ms"), rows);
        boolean interrupted = Interrupts.requested();
        if (interrupted) {
            out.line("interrupted: the scenario runs above completed, the rest did not run");
        }
        out.line(String.format(Locale.ROOT, "%d passed, %d failed, %d hung%s", passed, failed, hung,
                injectBackoff ? " (back-off injection on)" : ""));
        if (json) {
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("command", "torture");
            summary.put("passed", passed);
            summary.put("failed", failed);
            summary.put("hung", hung);
            summary.put("interrupted", interrupted);
            summary.put("injectBackoff", injectBackoff);
            summary.put("seconds", seconds);
            summary.put("threads", threads);
            summary.put("results", results);
            out.json(summary);
        }
        return hung > 0 ? Main.DEADLOCK : failed > 0 ? Main.FAILED : Main.OK;
    }

    /** Parses {@code wound-wait}, {@code wait-die} and {@code both}. */
    static final class AlgorithmConverter implements picocli.CommandLine.ITypeConverter<AlgorithmChoice> {
        @Override
        public AlgorithmChoice convert(String value) {
            for (AlgorithmChoice c : AlgorithmChoice.values()) {
                if (c.label.equalsIgnoreCase(value) || c.name().equalsIgnoreCase(value)) {
                    return c;
                }
            }
            throw new picocli.CommandLine.TypeConversionException("'" + value
                    + "' is not an algorithm; use wound-wait, wait-die or both");
        }
    }
}
