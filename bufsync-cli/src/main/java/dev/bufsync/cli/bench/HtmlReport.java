package dev.bufsync.cli.bench;

import dev.bufsync.cli.Output;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@code report.html}: one self-contained page (no network, no external script, style or
 * font) with the targets table, then per benchmark a chart and a table of scores and ratios.
 *
 * <p>The charts are inline SVG drawn by the page's own script from the chart data embedded in the
 * page ({@link Charts}); after drawing a chart the script marks its {@code <figure>} with
 * {@code data-drawn="ok"} and the number of lines, and the body with {@code data-charts-drawn},
 * so that a headless browser's dumped DOM tells whether every chart drew.
 */
final class HtmlReport {
    private HtmlReport() {
    }

    /**
     * Writes the page.
     *
     * @param file where to write
     * @param summary the run's summary (mode, machine, duration)
     * @param results the results
     * @param baselineRatios each result's ratio to its benchmark's baseline, in results order
     * @param verdicts the targets' verdicts
     * @throws IOException if the file cannot be written
     */
    static void write(Path file, Map<String, Object> summary, List<BenchResult> results,
                      List<Double> baselineRatios, List<Targets.Verdict> verdicts) throws IOException {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>bufsync bench report</title>\n<style>\n").append(STYLE).append("</style>\n")
                .append("</head>\n<body>\n<h1>bufsync bench</h1>\n<p class=\"meta\">")
                .append(esc(String.valueOf(summary.get("modeNote")))).append("<br>")
                .append(esc("machine: " + summary.get("machine"))).append("<br>")
                .append(esc("run: " + summary.get("startedAt") + ", "
                        + summary.get("durationSeconds") + " s; load average (1, 5, 15 min) "
                        + summary.get("loadAverage"))).append("</p>\n");
        targets(h, verdicts);
        for (Map<String, Object> chart : Charts.of(results)) {
            String bench = (String) chart.get("benchmark");
            h.append("<section>\n<h2>").append(esc(bench)).append("</h2>\n")
                    .append("<figure class=\"chart\" id=\"chart-").append(esc(bench)).append("\">")
                    .append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 760 380\" role=\"img\"")
                    .append(" aria-label=\"").append(esc(bench)).append(" chart\"></svg>")
                    .append("<figcaption>").append(esc(chart.get("yTitle") + " against "
                            + chart.get("xTitle"))).append("</figcaption></figure>\n");
            table(h, bench, results, baselineRatios);
            h.append("</section>\n");
        }
        h.append("<script type=\"application/json\" id=\"chart-data\">")
                .append(Output.toJson(Charts.of(results)).replace("</", "<\\/"))
                .append("</script>\n<script>\n").append(SCRIPT).append("</script>\n</body>\n</html>\n");
        Files.writeString(file, h.toString(), StandardCharsets.UTF_8);
    }

    private static void targets(StringBuilder h, List<Targets.Verdict> verdicts) {
        h.append("<section>\n<h2>Targets (DESIGN.md section 5)</h2>\n<table class=\"targets\">\n")
                .append("<tr><th>benchmark</th><th>ours</th><th>target</th><th>measured</th>")
                .append("<th>status</th></tr>\n");
        for (Targets.Verdict v : verdicts) {
            String cls = switch (v.status()) {
                case MET -> "met";
                case MISSED -> "missed";
                case NOT_MEASURED -> "none";
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
                .append("</th><th>strategy</th><th>score</th><th>unit</th><th>× ")
                .append(esc(def.baseline())).append("</th><th>counters</th></tr>\n");
        for (int i = 0; i < results.size(); i++) {
            BenchResult r = results.get(i);
            if (!r.benchmark().equals(bench)) {
                continue;
            }
            h.append("<tr><td>").append(esc(r.axisLabel())).append("</td><td>")
                    .append(esc(r.strategy())).append("</td><td class=\"num\">")
                    .append(BenchCommand.number(r.score())).append("</td><td>").append(esc(r.unit()))
                    .append("</td><td class=\"num\">").append(BenchCommand.ratio(ratios.get(i)))
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
            figcaption { color: #555; font-size: 0.85em; }
            """;

    private static final String SCRIPT = """
            (function () {
              'use strict';
              var NS = 'http://www.w3.org/2000/svg';
              var COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b',
                            '#e377c2', '#17becf', '#7f7f7f'];
              var W = 760, H = 380, L = 70, R = 170, T = 20, B = 60;
              function el(parent, name, attrs, text) {
                var e = document.createElementNS(NS, name);
                for (var k in attrs) { e.setAttribute(k, attrs[k]); }
                if (text !== undefined) { e.textContent = text; }
                parent.appendChild(e);
                return e;
              }
              function fmt(v) {
                if (v >= 1e6) { return (v / 1e6).toPrecision(3) + 'M'; }
                if (v >= 1e3) { return (v / 1e3).toPrecision(3) + 'k'; }
                return Number(v.toPrecision(3)).toString();
              }
              function draw(c) {
                var fig = document.getElementById('chart-' + c.benchmark);
                var svg = fig.querySelector('svg');
                var all = [];
                var lines = c.series.slice();
                if (c.reference) { lines.push({name: c.reference.name, values: c.reference.values, reference: true}); }
                lines.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v > 0) { all.push(v); } }); });
                if (all.length === 0) { return 0; }
                var lo = c.log ? Math.min.apply(null, all) / 1.5 : 0;
                var hi = Math.max.apply(null, all) * 1.1;
                var y = c.log
                  ? function (v) { return T + (H - T - B) * (1 - (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))); }
                  : function (v) { return T + (H - T - B) * (1 - (v - lo) / (hi - lo)); };
                var step = (W - L - R) / c.xs.length;
                var x = function (i) { return L + step * (i + 0.5); };
                el(svg, 'line', {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#333'});
                el(svg, 'line', {x1: L, y1: T, x2: L, y2: H - B, stroke: '#333'});
                for (var t = 0; t <= 4; t++) {
                  var v = c.log ? Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * t / 4) : lo + (hi - lo) * t / 4;
                  el(svg, 'line', {x1: L, y1: y(v), x2: W - R, y2: y(v), stroke: '#eee'});
                  el(svg, 'text', {x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11}, fmt(v));
                }
                c.xs.forEach(function (label, i) {
                  el(svg, 'text', {x: x(i), y: H - B + 16, 'text-anchor': 'middle', 'font-size': 11}, label);
                });
                el(svg, 'text', {x: (L + W - R) / 2, y: H - 12, 'text-anchor': 'middle', 'font-size': 12}, c.xTitle);
                el(svg, 'text', {x: 14, y: T + (H - T - B) / 2, 'font-size': 12, 'text-anchor': 'middle',
                                 transform: 'rotate(-90 14 ' + (T + (H - T - B) / 2) + ')'}, c.yTitle + (c.log ? ', log scale' : ''));
                var drawn = 0;
                lines.forEach(function (s, k) {
                  var color = s.reference ? '#000' : COLORS[k % COLORS.length];
                  var pts = [];
                  s.values.forEach(function (v, i) { if (v !== null && v > 0) { pts.push([x(i), y(v)]); } });
                  if (pts.length === 0) { return; }
                  if (pts.length === 1) { pts = [[pts[0][0] - step * 0.35, pts[0][1]], [pts[0][0] + step * 0.35, pts[0][1]]]; }
                  var attrs = {points: pts.map(function (p) { return p[0].toFixed(1) + ',' + p[1].toFixed(1); }).join(' '),
                               fill: 'none', stroke: color, 'stroke-width': s.reference ? 1.5 : 2,
                               'data-series': s.name};
                  if (s.reference) { attrs['stroke-dasharray'] = '6 4'; }
                  el(svg, 'polyline', attrs);
                  if (!s.reference) {
                    pts.forEach(function (p) { el(svg, 'circle', {cx: p[0], cy: p[1], r: 2.5, fill: color}); });
                  }
                  var ly = T + 14 + 18 * k;
                  el(svg, 'line', {x1: W - R + 12, y1: ly - 4, x2: W - R + 32, y2: ly - 4, stroke: color,
                                   'stroke-width': 2, 'stroke-dasharray': s.reference ? '6 4' : 'none'});
                  el(svg, 'text', {x: W - R + 38, y: ly, 'font-size': 11}, s.name);
                  drawn++;
                });
                fig.setAttribute('data-lines', String(drawn));
                fig.setAttribute('data-drawn', drawn > 0 ? 'ok' : 'empty');
                return drawn > 0 ? 1 : 0;
              }
              var charts = JSON.parse(document.getElementById('chart-data').textContent);
              var ok = 0;
              charts.forEach(function (c) { ok += draw(c); });
              document.body.setAttribute('data-charts-drawn', String(ok));
            })();
            """;
}
