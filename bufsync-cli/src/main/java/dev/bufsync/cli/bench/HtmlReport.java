package dev.bufsync.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@code report.html}: one self-contained page (no network, no script, no external style
 * or font) with the run's machine, duration and load average (and a visible warning when the load
 * exceeded the cores), the targets of the benchmarks that ran, then per benchmark its charts as
 * static inline SVG ({@link ChartSvg}) and a table of scores with their error and ratios with
 * their spread across forks.
 */
final class HtmlReport {
    private HtmlReport() {
    }

    /**
     * Writes the page.
     *
     * @param file where to write
     * @param summary the run's summary (mode, machine, duration, load average)
     * @param results the results
     * @param baselineRatios each result's ratio to its benchmark's baseline, in results order
     * @param verdicts the targets' verdicts
     * @throws IOException if the file cannot be written
     */
    static void write(Path file, Map<String, Object> summary, List<BenchResult> results,
                      List<Double> baselineRatios, List<Targets.Verdict> verdicts) throws IOException {
        Files.writeString(file, page(summary, results, baselineRatios, verdicts), StandardCharsets.UTF_8);
    }

    /** The page's markup. */
    static String page(Map<String, Object> summary, List<BenchResult> results, List<Double> baselineRatios,
                       List<Targets.Verdict> verdicts) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>bufsync bench report</title>\n<style>\n").append(STYLE).append("</style>\n")
                .append("</head>\n<body>\n<h1>bufsync bench</h1>\n<p class=\"meta\">")
                .append(esc(String.valueOf(summary.get("modeNote")))).append("<br>")
                .append(esc("machine: " + summary.get("machine"))).append("<br>")
                .append(esc("run: " + summary.get("startedAt") + ", " + summary.get("durationSeconds") + " s"))
                .append("<br>").append(esc(loadText(summary.get("loadAverage")))).append("</p>\n");
        if (summary.get("loadAverage") instanceof Map<?, ?> load && load.get("warning") != null) {
            h.append("<p class=\"warning\" role=\"alert\">").append(esc(String.valueOf(load.get("warning"))))
                    .append("</p>\n");
        }
        targets(h, verdicts);
        Charts.of(results).forEach((bench, charts) -> {
            h.append("<section>\n<h2>").append(esc(bench)).append("</h2>\n")
                    .append("<figure class=\"chart\" id=\"chart-").append(esc(bench)).append("\">");
            for (Charts.Chart c : charts) {
                h.append(ChartSvg.render(c));
            }
            h.append("<figcaption>").append(esc(charts.get(0).yTitle() + " against " + charts.get(0).xTitle()
                    + "; error bars: JMH's 99.9 % confidence half-width")).append("</figcaption></figure>\n");
            table(h, bench, results, baselineRatios);
            h.append("</section>\n");
        });
        return h.append("</body>\n</html>\n").toString();
    }

    /** "load average (1, 5, 15 min): 1.20, 0.90, 0.80 before; 2.10, 1.50, 1.00 after; 2 cores". */
    static String loadText(Object load) {
        if (!(load instanceof Map<?, ?> m)) {
            return "load average: unknown";
        }
        return "load average (1, 5, 15 min): " + triple(m.get("before")) + " before the run; "
                + triple(m.get("after")) + " after; " + m.get("cores") + " cores";
    }

    private static String triple(Object load) {
        String s = load == null ? "" : load.toString().trim();
        return s.isEmpty() ? "unknown" : String.join(", ", s.split("\\s+"));
    }

    private static void targets(StringBuilder h, List<Targets.Verdict> verdicts) {
        if (verdicts.isEmpty()) {
            return;
        }
        h.append("<section>\n<h2>Targets of the benchmarks that ran</h2>\n<table class=\"targets\">\n")
                .append("<tr><th>benchmark</th><th>ours</th><th>target</th><th>measured</th>")
                .append("<th>status</th></tr>\n");
        for (Targets.Verdict v : verdicts) {
            String cls = switch (v.status()) {
                case MET -> "met";
                case MISSED -> "missed";
                case NOT_MEASURED, NOT_JUDGED -> "none";
            };
            h.append("<tr class=\"").append(cls).append("\"><td>").append(esc(v.benchmark()))
                    .append("</td><td>").append(esc(v.strategy())).append("</td><td>")
                    .append(esc(v.target())).append("</td><td>").append(esc(v.measured()))
                    .append("</td><td>").append(esc(v.status().toString())).append("</td></tr>\n");
        }
        h.append("</table>\n</section>\n");
    }

    private static void table(StringBuilder h, String bench, List<BenchResult> results,
                              List<Double> ratios) {
        BenchDef def = Catalog.find(bench).orElseThrow();
        h.append("<table class=\"scores\">\n<tr><th>").append(esc(def.axisTitle()))
                .append("</th><th>strategy</th><th>score ± error</th><th>unit</th><th>× ")
                .append(esc(def.baseline())).append(" (spread across forks)</th><th>counters</th></tr>\n");
        for (int i = 0; i < results.size(); i++) {
            BenchResult r = results.get(i);
            if (!r.benchmark().equals(bench)) {
                continue;
            }
            h.append("<tr><td>").append(esc(r.axisLabel())).append("</td><td>")
                    .append(esc(r.strategy())).append("</td><td class=\"num\">")
                    .append(esc(BenchCommand.number(r.score()) + BenchCommand.error(r))).append("</td><td>")
                    .append(esc(r.unit())).append("</td><td class=\"num\">")
                    .append(esc(BenchCommand.ratio(ratios.get(i)) + BenchCommand.spreadText(results, r)))
                    .append("</td><td>").append(esc(BenchCommand.counterText(r))).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&quot;");
    }

    private static final String STYLE = """
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
                   max-width: 1000px; color: #222; }
            h1 { margin-bottom: 0.2em; }
            .meta { color: #555; }
            table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
            th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; }
            tr.met td:last-child { background: #d8f0d8; }
            tr.missed td:last-child { background: #f6d5d5; }
            tr.none td:last-child { background: #eee; color: #666; }
            figure.chart { margin: 1em 0; }
            figure.chart svg { width: 100%; max-width: 760px; height: auto; border: 1px solid #ddd; }
            figure.chart svg + svg { margin-top: 0.5em; }
            figcaption { color: #555; font-size: 0.85em; }
            .warning { background: #fff3cd; border: 1px solid #e0b84a; padding: 0.5em 0.8em; }
            """;
}
