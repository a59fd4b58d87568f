package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.cli.RepositoryFiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The report's content, from made-up results: static SVG charts without any script, numeric axes
 * (log where the parameter spans a decade), error bars, bars for single points, the targets of
 * what ran only, the load average in words with a warning when it exceeded the cores.
 */
class HtmlReportTest {

    private static BenchResult r(String bench, String strategy, double score, double error, String unit,
                                 String... params) {
        Map<String, String> p = new LinkedHashMap<>();
        for (int i = 0; i < params.length; i += 2) {
            p.put(params[i], params[i + 1]);
        }
        return new BenchResult(bench, p, strategy, score, error, unit, false, Map.of(), List.of(score));
    }

    private static List<BenchResult> results() {
        List<BenchResult> rs = new ArrayList<>();
        for (String d : List.of("1", "2", "5", "20")) {
            rs.add(r("lock-all", "ordered", 16 * Double.parseDouble(d), 0.5, "ns/op", "d", d));
            rs.add(r("lock-all", "wound-wait", 60 + 20 * Double.parseDouble(d), 3, "ns/op", "d", d));
        }
        rs.add(r("uncontended", "reentrant-lock", 15, 0.2, "ns/op"));
        rs.add(r("uncontended", "wound-wait", 17, 0.4, "ns/op"));
        rs.add(r("memory", "ww-mutex", 32, Double.NaN, "bytes", "object", "mutex"));
        rs.add(r("memory", "reservation", 64.5, Double.NaN, "MB", "object", "reservations", "reservations", "1000000"));
        return rs;
    }

    private static String page(Map<String, Object> load) {
        List<BenchResult> rs = results();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("modeNote", "full mode");
        summary.put("machine", "test");
        summary.put("startedAt", "now");
        summary.put("durationSeconds", 1);
        summary.put("loadAverage", load);
        return HtmlReport.page(summary, rs, BenchCommand.ratios(rs), Targets.judge(rs, RunMode.FULL));
    }

    private static Map<String, Object> load(String before, String after, Object warning) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("before", before);
        m.put("after", after);
        m.put("cores", 2);
        m.put("warning", warning);
        return m;
    }

    private static String figure(String html, String bench) {
        Matcher m = Pattern.compile("<figure class=\"chart\" id=\"chart-" + bench + "\">(.*?)</figure>",
                Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("figure of " + bench).isTrue();
        return m.group(1);
    }

    /** Charts are inline SVG in the page as written; the page has no script at all. */
    @Test
    void chartsAreStaticSvgWithoutScript() {
        String html = page(load("0.5 0.4 0.3", "0.6 0.5 0.4", null));
        assertThat(html).doesNotContain("<script").contains("<svg xmlns=\"http://www.w3.org/2000/svg\"");
        for (String bench : List.of("lock-all", "uncontended", "memory")) {
            assertThat(figure(html, bench)).contains("<svg").contains("</svg>");
        }
    }

    /** d = 1 … 20 spans a decade: a log axis from 1 to 20 with ticks 1, 2, 5, 10, 20, lines with points and error bars. */
    @Test
    void numericLogAxisWithErrorBars() {
        String lockAll = figure(page(load("", "", null)), "lock-all");
        assertThat(lockAll).contains("(log scale)");
        List<String> ticks = new ArrayList<>();
        Matcher m = Pattern.compile("<text class=\"x-tick\"[^>]*>([^<]*)</text>").matcher(lockAll);
        while (m.find()) {
            ticks.add(m.group(1));
        }
        assertThat(ticks).containsExactly("1", "2", "5", "10", "20");
        assertThat(lockAll).contains("<polyline class=\"series\" data-series=\"wound-wait\"");
        assertThat(count(lockAll, "<circle class=\"point\"")).isEqualTo(8);
        assertThat(count(lockAll, "<path class=\"error\"")).isEqualTo(8);
    }

    /**
     * Two varying parameters give one chart per value of the first in the catalog's order (JMH
     * reports them alphabetically), each captioned visibly, with the second on the x axis.
     */
    @Test
    void twoParametersGiveOneChartPerValueOfTheFirst() {
        List<BenchResult> rs = new ArrayList<>();
        for (String t : List.of("2", "8")) {
            for (String m : List.of("2", "8")) {
                rs.add(r("folly-grid", "ordered", 100, 5, "ns/op", "mutexes", m, "threads", t));
                rs.add(r("folly-grid", "wound-wait", 300, 5, "ns/op", "mutexes", m, "threads", t));
            }
        }
        List<Charts.Chart> charts = Charts.of(rs).get("folly-grid");
        assertThat(charts).extracting(Charts.Chart::caption)
                .containsExactly("folly-grid, threads = 2", "folly-grid, threads = 8");
        assertThat(charts).extracting(Charts.Chart::xTitle).containsOnly("mutexes");
        assertThat(charts.get(0).xKind()).isEqualTo(Charts.XKind.LINEAR);
        assertThat(ChartSvg.render(charts.get(1))).contains(">folly-grid, threads = 8</text>");
    }

    /**
     * Tables mix numbers and solids: a category axis in the paper's order, grouped bars, and the
     * theoretical minimum as a dashed mark per table.
     */
    @Test
    void philosophersAreGroupedBarsWithTheMinimum() {
        List<BenchResult> rs = new ArrayList<>();
        for (String table : List.of("cube", "5", "dodecahedron")) {
            for (String strategy : List.of("ordered", "wound-wait")) {
                rs.add(new BenchResult("philosophers", Map.of("table", table, "eatMillis", "60"), strategy, 200, 10,
                        "ms/op", false, Map.of("minimumMs", 150.0), List.of(200.0)));
            }
        }
        Charts.Chart c = Charts.of(rs).get("philosophers").get(0);
        assertThat(c.xKind()).isEqualTo(Charts.XKind.CATEGORY);
        assertThat(c.categories()).containsExactly("5", "cube", "dodecahedron");
        String svg = ChartSvg.render(c);
        assertThat(count(svg, "<rect class=\"bar\"")).isEqualTo(6);
        assertThat(count(svg, "<line class=\"reference\"")).isEqualTo(3);
        assertThat(svg).contains("theoretical minimum").doesNotContain("<polyline");
    }

    /** One point per strategy is drawn as bars (with error bars), not as a flat line. */
    @Test
    void singlePointsAreBars() {
        String html = page(load("", "", null));
        String uncontended = figure(html, "uncontended");
        assertThat(uncontended).doesNotContain("<polyline");
        assertThat(count(uncontended, "<rect class=\"bar\"")).isEqualTo(2);
        assertThat(count(uncontended, "<path class=\"error\"")).isEqualTo(2);
        String memory = figure(html, "memory");
        assertThat(count(memory, "<svg")).as("one chart per unit").isEqualTo(2);
        assertThat(memory).doesNotContain("<polyline").doesNotContain("class=\"error\"");
    }

    /** The targets table lists what ran; "10⁶" is written as a power; no reference to files users lack. */
    @Test
    void targetsLimitedToWhatRan() {
        String html = page(load("", "", null));
        assertThat(html).contains("≤ 1.5 × d plain ReentrantLocks").contains("a WwMutex ≤ 32 bytes")
                .contains("10⁶ reservations without fences ≤ 150 MB")
                .doesNotContain("folly-grid").doesNotContain("CompletableFuture").doesNotContain("scheduler")
                .doesNotContain("10^6");
        RepositoryFiles.assertNamesOnlyOwnDocs(html);
    }

    /** The load average reads as numbers, not a Java map; above the core count a visible warning shows. */
    @Test
    void loadAverageIsReadableAndWarns() {
        String quiet = page(load("0.50 0.40 0.30", "0.60 0.50 0.40", null));
        assertThat(quiet).contains("load average (1, 5, 15 min): 0.50, 0.40, 0.30 before the run;"
                + " 0.60, 0.50, 0.40 after; 2 cores").doesNotContain("{before=").doesNotContain("class=\"warning\"");
        String warning = BenchCommand.busyWarning("9.00 5.00 3.00", "after the run");
        assertThat(warning).contains("9.00").contains("exceeds the");
        String busy = page(load("1.0 1.0 1.0", "9.00 5.00 3.00", warning));
        assertThat(busy).contains("<p class=\"warning\" role=\"alert\">" + HtmlReport.esc(warning) + "</p>");
        assertThat(BenchCommand.busyWarning("0.10 0.10 0.10", "after the run")).isNull();
        assertThat(BenchCommand.busyWarning("", "after the run")).isNull();
    }

    private static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
