package dev.bufsync.cli.torture;

import dev.bufsync.cli.Interrupts;
import dev.bufsync.cli.Output;
import dev.bufsync.ww.WwClass;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Runs scenarios one after another, each on its own thread group, with a watchdog: a scenario
 * whose progress counter does not move for the hang timeout is reported as hung, with a report of
 * what each of its threads holds and waits for, and its threads are abandoned (they are daemons).
 */
final class TortureRunner {
    private static final long POLL_MILLIS = 200;

    private final Output out;
    private final Duration hangAfter;

    TortureRunner(Output out, Duration hangAfter) {
        this.out = out;
        this.hangAfter = hangAfter;
    }

    /** One scenario run's result, as reported in the table and the JSON summary. */
    record Result(String suite, String scenario, String algorithm, boolean passed, boolean hung,
                  long iterations, long backoffs, long durationMs, String failure) {
    }

    /** The parameters shared by every scenario of a torture run. */
    record Settings(List<WwClass.Algorithm> algorithms, Duration duration, int threads,
                    boolean injectBackoff) {
    }

    /**
     * Runs every scenario, once per algorithm where it depends on one, announcing each with the
     * time left; stops early, without a result for the scenario cut short, on Ctrl-C.
     */
    List<Result> run(List<Scenario> scenarios, Settings settings) {
        List<Map.Entry<Scenario, WwClass.Algorithm>> runs = new ArrayList<>();
        for (Scenario s : scenarios) {
            List<WwClass.Algorithm> algorithms = s.perAlgorithm() ? settings.algorithms()
                    : Collections.singletonList(null);
            for (WwClass.Algorithm algorithm : algorithms) {
                runs.add(new AbstractMap.SimpleImmutableEntry<>(s, algorithm));
            }
        }
        List<Result> results = new ArrayList<>();
        long untimedNanos = 0;
        int untimedRuns = 0;
        for (int i = 0; i < runs.size() && !Interrupts.requested(); i++) {
            Scenario s = runs.get(i).getKey();
            WwClass.Algorithm algorithm = runs.get(i).getValue();
            out.step(i + 1, runs.size(), label(s, algorithm),
                    timeLeft(runs.subList(i, runs.size()), settings, untimedRuns == 0 ? 0 : untimedNanos / untimedRuns));
            long start = System.nanoTime();
            Result r = runOne(s, algorithm, settings);
            if (r == null) {
                break;
            }
            if (!s.timed()) {
                untimedNanos += System.nanoTime() - start;
                untimedRuns++;
            }
            results.add(r);
        }
        return results;
    }

    /** Timed scenarios take the run's duration; the others as long as the untimed ones so far. */
    private static Duration timeLeft(List<Map.Entry<Scenario, WwClass.Algorithm>> runs, Settings settings,
                                     long untimedNanos) {
        long nanos = 0;
        for (Map.Entry<Scenario, WwClass.Algorithm> r : runs) {
            nanos += r.getKey().timed() ? settings.duration().toNanos() : untimedNanos;
        }
        return Duration.ofNanos(nanos);
    }

    private static String label(Scenario s, WwClass.Algorithm algorithm) {
        return s.suite() + "/" + s.name() + " " + Scenario.label(algorithm);
    }

    /** Runs one scenario under the watchdog; {@code null} if Ctrl-C cut it short (its threads are abandoned). */
    private Result runOne(Scenario s, WwClass.Algorithm algorithm, Settings settings) {
        String label = label(s, algorithm);
        TortureRun run = new TortureRun(algorithm, settings.duration(), settings.threads(),
                settings.injectBackoff(), s.name());
        Scenario.Outcome[] outcome = new Scenario.Outcome[1];
        Throwable[] error = new Throwable[1];
        long start = System.nanoTime();
        Thread main = run.newThread("main", () -> {
            try {
                outcome[0] = s.run(run);
            } catch (Throwable t) {
                error[0] = t;
            }
        });
        long lastProgress = run.progress();
        long lastMove = System.nanoTime();
        try {
            while (true) {
                main.join(POLL_MILLIS);
                long elapsed = System.nanoTime() - start;
                if (!main.isAlive()) {
                    break;
                }
                if (Interrupts.requested()) {
                    out.line("interrupted during " + label);
                    return null;
                }
                long p = run.progress();
                if (p != lastProgress) {
                    lastProgress = p;
                    lastMove = System.nanoTime();
                } else if (System.nanoTime() - lastMove > hangAfter.toNanos()) {
                    String report = HangReport.of(run.threads());
                    out.line("HUNG " + label + ": no progress for " + hangAfter.toSeconds() + " s\n" + report);
                    return new Result(s.suite(), s.name(), Scenario.label(algorithm), false, true, p,
                            run.backoffs(), elapsed / 1_000_000, "no progress for " + hangAfter.toSeconds()
                                    + " s:\n" + report);
                }
                out.progress(String.format(Locale.ROOT, "%-40s %6.1f s  %,d steps  %,d back-offs", label,
                        elapsed / 1e9, p, run.backoffs()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(s.suite(), s.name(), Scenario.label(algorithm), false, false, 0, 0, 0, "interrupted");
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        Scenario.Outcome o = outcome[0];
        String failure = error[0] != null ? String.valueOf(error[0])
                : o.failure() != null ? o.failure() : run.failure();
        long iterations = o != null ? o.iterations() : 0;
        long backoffs = Math.max(o != null ? o.backoffs() : 0, run.backoffs());
        if (failure != null) {
            out.line("FAILED " + label + ": " + failure);
        }
        return new Result(s.suite(), s.name(), Scenario.label(algorithm), failure == null, false,
                iterations, backoffs, ms, failure);
    }
}
