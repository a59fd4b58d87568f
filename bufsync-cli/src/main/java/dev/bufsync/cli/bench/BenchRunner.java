package dev.bufsync.cli.bench;

import dev.bufsync.bench.DiningTable;
import dev.bufsync.cli.Output;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.regex.Pattern;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs benchmarks of the {@link Catalog} through JMH's Runner API, in this JVM's process, and turns
 * JMH's results into {@link BenchResult}s, keeping each fork's score. In quick and full mode every
 * point runs in as many forked VMs as the mode's settings say, started from this JVM's class path
 * (so from the shaded {@code bufsync.jar}), as JMH recommends; smoke mode runs in this VM. A
 * benchmark with a {@linkplain BenchDef.Probe probe} runs through it instead, in this VM.
 */
final class BenchRunner {
    /**
     * Each forked VM gets a fixed heap with a small, fixed young generation: the largest pools (a
     * million locks) need about 100 MB, and code that allocates (a context per transaction) then
     * recycles 64 MB of pages it has touched once. With G1's default sizing the young generation
     * kept growing into fresh pages for seconds, and on this kind of virtual machine first-touch
     * page faults are so slow that short iterations measured them instead of the code (lock-all
     * d = 1: 310 ns/op for 2 s, then 40 ns/op). Pre-touching the heap instead costs about a second
     * per fork.
     */
    private static final String[] FORK_JVM_ARGS = {"-Xms512m", "-Xmx512m", "-Xmn64m",
        "--sun-misc-unsafe-memory-access=allow"};

    private final Output out;
    private final RunMode mode;

    BenchRunner(Output out, RunMode mode) {
        this.out = out;
        this.mode = mode;
    }

    /**
     * Runs one benchmark's points of this mode.
     *
     * @param def the benchmark
     * @param position "k/n" for the progress line
     * @return its results, in JMH's order
     * @throws RunnerException if JMH failed (a benchmark threw, a fork died)
     */
    List<BenchResult> run(BenchDef def, String position) throws RunnerException {
        if (def.probe() != null) {
            return probe(def, position);
        }
        // JMH refuses to start while another JMH run holds /tmp/jmh.lock (another checkout's
        // benchmarks, say); the command runs anyway, and the machine line of the report is the
        // place to judge how quiet the machine was.
        System.setProperty("jmh.ignoreLock", "true");
        BenchDef.Settings s = def.settings().get(mode);
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(includePattern(def, s))
                .forks(s.forks())
                .warmupIterations(s.warmups())
                .warmupTime(TimeValue.milliseconds(Math.max(1, s.warmupMillis())))
                .measurementIterations(s.iterations())
                .measurementTime(TimeValue.milliseconds(s.iterationMillis()))
                .timeout(TimeValue.minutes(5))
                .shouldFailOnError(true)
                .jvmArgs(FORK_JVM_ARGS);
        s.params().forEach((k, v) -> options.param(k, v.toArray(String[]::new)));
        Progress progress = new Progress(out, def.name(), position);
        Collection<RunResult> runs;
        try {
            runs = new Runner(options.build(), progress).run();
        } catch (RunnerException e) {
            throw new RunnerException(def.name() + " failed; JMH said:" + System.lineSeparator()
                    + progress.tail(), e);
        }
        List<BenchResult> results = new ArrayList<>();
        for (RunResult r : runs) {
            results.add(toResult(def, r));
        }
        return results;
    }

    private List<BenchResult> probe(BenchDef def, String position) throws RunnerException {
        try {
            return def.probe().run(def, def.settings().get(mode),
                    text -> out.progress("[" + position + "] " + def.name() + ": " + text));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RunnerException(def.name() + " was interrupted", e);
        } catch (Exception e) {
            throw new RunnerException(def.name() + " failed: " + e, e);
        }
    }

    private static String includePattern(BenchDef def, BenchDef.Settings s) {
        String methods = s.methods().isEmpty() ? "\\w+" : "(" + String.join("|", s.methods()) + ")";
        return "^" + Pattern.quote(def.jmhClass()) + "\\." + methods + "$";
    }

    private static BenchResult toResult(BenchDef def, RunResult run) {
        BenchmarkParams bp = run.getParams();
        Map<String, String> params = new LinkedHashMap<>();
        for (String key : bp.getParamsKeys()) {
            if (!key.equals("strategy")) {
                params.put(key, bp.getParam(key));
            }
        }
        String method = bp.getBenchmark().substring(bp.getBenchmark().lastIndexOf('.') + 1);
        String strategy = def.strategyParam() ? bp.getParam("strategy") : BenchDef.strategyOfMethod(method);
        Result<?> primary = run.getPrimaryResult();
        Map<String, Double> counters = counters(run.getSecondaryResults());
        if (def.name().equals("philosophers")) {
            double minimumMs = DiningTable.of(params.get("table"))
                    .minimumNanos(Integer.parseInt(params.get("eatMillis")) * 1e6) / 1e6;
            counters.put("minimumMs", minimumMs);
            counters.put("ratioToMinimum", primary.getScore() / minimumMs);
        }
        List<Double> forks = new ArrayList<>();
        for (BenchmarkResult fork : run.getBenchmarkResults()) {
            forks.add(fork.getPrimaryResult().getScore());
        }
        return new BenchResult(def.name(), params, strategy, primary.getScore(),
                primary.getScoreError(), primary.getScoreUnit(), def.higherIsBetter(), counters,
                List.copyOf(forks));
    }

    private static Map<String, Double> counters(Map<String, Result> secondary) {
        Map<String, Double> c = new LinkedHashMap<>();
        Result<?> transactions = secondary.get("transactions");
        if (transactions == null) {
            return c;
        }
        double tx = transactions.getScore();
        double rollbacks = secondary.get("rollbacks").getScore();
        c.put("transactions", tx);
        c.put("rollbacks", rollbacks);
        c.put("wounds", secondary.get("wounds").getScore());
        c.put("rollbacksPerTransaction", tx > 0 ? rollbacks / tx : Double.NaN);
        c.put("abortRatio", tx + rollbacks > 0 ? rollbacks / (tx + rollbacks) : Double.NaN);
        return c;
    }

    /**
     * JMH's output, turned into one progress line; the last lines JMH printed are kept, to show
     * when a run fails (a benchmark's exception, a fork that died).
     */
    private static final class Progress implements OutputFormat {
        private static final int KEPT_LINES = 40;
        private final Deque<String> lastLines = new ArrayDeque<>();
        private final StringBuilder partial = new StringBuilder();
        private final Output out;
        private final String benchmark;
        private final String position;
        private String point = "";

        Progress(Output out, String benchmark, String position) {
            this.out = out;
            this.benchmark = benchmark;
            this.position = position;
        }

        @Override
        public void startBenchmark(BenchmarkParams params) {
            StringBuilder sb = new StringBuilder();
            for (String key : params.getParamsKeys()) {
                sb.append(' ').append(key).append('=').append(params.getParam(key));
            }
            String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            point = (params.getParamsKeys().contains("strategy") ? "" : " " + method) + sb;
            out.progress("[" + position + "] " + benchmark + ":" + point + " (starting)");
        }

        @Override
        public void iteration(BenchmarkParams params, IterationParams iteration, int index) {
            out.progress("[" + position + "] " + benchmark + ":" + point + " ("
                    + iteration.getType().toString().toLowerCase(java.util.Locale.ROOT) + " " + index
                    + "/" + iteration.getCount() + ")");
        }

        @Override
        public void iterationResult(BenchmarkParams params, IterationParams iteration, int index,
                                    IterationResult result) {
        }

        @Override
        public void endBenchmark(BenchmarkResult result) {
        }

        @Override
        public void startRun() {
        }

        @Override
        public void endRun(Collection<RunResult> results) {
        }

        @Override
        public void print(String s) {
            partial.append(s);
        }

        @Override
        public void println(String s) {
            partial.append(s);
            lastLines.addLast(partial.toString());
            partial.setLength(0);
            if (lastLines.size() > KEPT_LINES) {
                lastLines.removeFirst();
            }
        }

        String tail() {
            return String.join(System.lineSeparator(), lastLines);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public void verbosePrintln(String s) {
            println(s);
        }

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b) throws IOException {
        }
    }
}
