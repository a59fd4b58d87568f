package dev.bufsync.cli.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the report draws for each benchmark: one or more charts, each with a numeric x axis where
 * the benchmark's parameter is a number (logarithmic when it spans a decade or more), a category
 * axis otherwise, one series of scores with their error per strategy, and for {@code philosophers}
 * the theoretical minimum as a reference. A benchmark with two varying parameters (threads ×
 * mutexes, drivers × buffers) gets one chart per value of the first; results in different units
 * (the memory benchmark's bytes and MB) get one chart per unit. Kept apart from drawing
 * ({@link ChartSvg}) so that tests can check it without a browser.
 */
final class Charts {
    private static final List<String> SOLID_ORDER = List.of("tetrahedron", "cube", "dodecahedron");

    /** How the x axis maps a point. */
    enum XKind {
        /** Numeric, linear. */
        LINEAR,
        /** Numeric, logarithmic: the parameter spans a decade or more. */
        LOG,
        /** One band per label: the parameter is not a number, or there is one point. */
        CATEGORY
    }

    /**
     * One point of a series.
     *
     * @param label the point's x label
     * @param x the x value (NaN on a category axis)
     * @param y the score
     * @param error JMH's 99.9 % half-width, NaN when unknown
     */
    record Point(String label, double x, double y, double error) {
    }

    /**
     * One strategy's points, or the reference line.
     *
     * @param name the strategy's name
     * @param points the points, in x order
     */
    record Series(String name, List<Point> points) {
    }

    /**
     * One chart.
     *
     * @param benchmark the benchmark's name
     * @param caption what the chart shows (the panel's parameter value, if any)
     * @param xTitle the x axis's title
     * @param yTitle the y axis's title (unit and direction)
     * @param xKind how the x axis maps points
     * @param categories the x labels in order (every kind: numeric axes label their points too)
     * @param logY whether the y axis is logarithmic (scores spanning more than 30 ×)
     * @param series one per strategy
     * @param reference the theoretical minimum, or {@code null}
     */
    record Chart(String benchmark, String caption, String xTitle, String yTitle, XKind xKind,
                 List<String> categories, boolean logY, List<Series> series, Series reference) {
    }

    private Charts() {
    }

    /**
     * The charts of a run, grouped by benchmark, in catalog order.
     *
     * @param results the run's results
     * @return each benchmark that has results, with its charts
     */
    static Map<String, List<Chart>> of(List<BenchResult> results) {
        Map<String, List<Chart>> charts = new LinkedHashMap<>();
        for (BenchDef def : Catalog.ALL) {
            List<BenchResult> rs = results.stream().filter(r -> r.benchmark().equals(def.name())).toList();
            if (!rs.isEmpty()) {
                charts.put(def.name(), charts(def, rs));
            }
        }
        return charts;
    }

    private static List<Chart> charts(BenchDef def, List<BenchResult> rs) {
        Map<String, List<BenchResult>> byUnit = new LinkedHashMap<>();
        rs.forEach(r -> byUnit.computeIfAbsent(r.unit(), u -> new ArrayList<>()).add(r));
        List<Chart> charts = new ArrayList<>();
        for (List<BenchResult> group : byUnit.values()) {
            List<String> varying = varying(def, group);
            String panel = varying.size() >= 2 ? varying.get(0) : null;
            String xParam = panel != null ? varying.get(1) : varying.isEmpty() ? null : varying.get(0);
            Map<String, List<BenchResult>> panels = new LinkedHashMap<>();
            group.stream().sorted(Comparator.comparing((BenchResult r) -> panel == null ? "" : r.params().get(panel),
                    Charts::compareLabels)).forEach(r -> panels.computeIfAbsent(
                    panel == null ? "" : r.params().get(panel), k -> new ArrayList<>()).add(r));
            panels.forEach((value, members) -> charts.add(chart(def, members, panel, value, xParam)));
        }
        return charts;
    }

    /**
     * The parameters whose value differs between results, in the catalog's order (threads before
     * mutexes, drivers before buffers; JMH reports them alphabetically).
     */
    private static List<String> varying(BenchDef def, List<BenchResult> rs) {
        Set<String> keys = new LinkedHashSet<>(def.settings().get(RunMode.FULL).params().keySet());
        rs.forEach(r -> keys.addAll(r.params().keySet()));
        return keys.stream().filter(k -> rs.stream().map(r -> String.valueOf(r.params().get(k)))
                .distinct().count() > 1).toList();
    }

    private static Chart chart(BenchDef def, List<BenchResult> rs, String panel, String panelValue,
                               String xParam) {
        java.util.function.Function<BenchResult, String> label = xParam == null || panel == null
                ? BenchResult::axisLabel : r -> r.params().get(xParam);
        List<String> categories = rs.stream().map(label).distinct().sorted(Charts::compareLabels).toList();
        XKind kind = xKind(xParam == null ? List.of() : rs.stream().map(r -> r.params().get(xParam))
                .distinct().toList());
        Set<String> strategies = new LinkedHashSet<>();
        rs.forEach(r -> strategies.add(r.strategy()));
        List<Series> series = new ArrayList<>();
        for (String s : strategies) {
            List<Point> points = new ArrayList<>();
            for (String c : categories) {
                rs.stream().filter(r -> r.strategy().equals(s) && label.apply(r).equals(c)).findFirst()
                        .ifPresent(r -> points.add(new Point(c, x(kind, r, xParam), r.score(), r.scoreError())));
            }
            series.add(new Series(s, points));
        }
        Series reference = null;
        if (def.name().equals("philosophers")) {
            List<Point> minimum = new ArrayList<>();
            for (String c : categories) {
                rs.stream().filter(r -> label.apply(r).equals(c) && !Double.isNaN(r.counter("minimumMs")))
                        .findFirst().ifPresent(r -> minimum.add(new Point(c, x(kind, r, xParam),
                                r.counter("minimumMs"), Double.NaN)));
            }
            reference = new Series("theoretical minimum", minimum);
        }
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (BenchResult r : rs) {
            if (r.score() > 0) {
                min = Math.min(min, r.score());
                max = Math.max(max, r.score());
            }
        }
        String caption = def.name() + (panel == null ? "" : ", " + panel + " = " + panelValue);
        boolean labelIsParam = xParam != null && rs.stream().allMatch(r -> r.axisLabel().equals(r.params().get(xParam)));
        String xTitle = xParam == null || labelIsParam ? def.axisTitle() : xParam;
        String yTitle = rs.get(0).unit() + (def.higherIsBetter() ? ", higher is better" : ", lower is better");
        return new Chart(def.name(), caption, xTitle, yTitle, kind, categories, max / min > 30, series, reference);
    }

    /** Numeric when every value is a number and there are at least two; log when they span ≥ 10 ×. */
    static XKind xKind(List<String> values) {
        if (values.size() < 2) {
            return XKind.CATEGORY;
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (String v : values) {
            double d = number(v);
            if (Double.isNaN(d)) {
                return XKind.CATEGORY;
            }
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        return min > 0 && max / min >= 10 ? XKind.LOG : XKind.LINEAR;
    }

    private static double x(XKind kind, BenchResult r, String xParam) {
        return kind == XKind.CATEGORY ? Double.NaN : number(r.params().get(xParam));
    }

    private static double number(String v) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException | NullPointerException e) {
            return Double.NaN;
        }
    }

    /** Numbers ascending (also "a×b" pairs, by each part), then the solids in the paper's order. */
    static int compareLabels(String a, String b) {
        return LABEL_ORDER.compare(a, b);
    }

    private static final Comparator<String> LABEL_ORDER = Comparator
            .comparingInt((String s) -> SOLID_ORDER.indexOf(s))
            .thenComparing(Charts::numericParts, Charts::compareParts)
            .thenComparing(Comparator.naturalOrder());

    private static double[] numericParts(String label) {
        String[] parts = label.split("×");
        double[] v = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Double.parseDouble(parts[i].replaceAll("[^0-9.]", ""));
            } catch (NumberFormatException e) {
                v[i] = Double.MAX_VALUE;
            }
        }
        return v;
    }

    private static int compareParts(double[] a, double[] b) {
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            int c = Double.compare(a[i], b[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.length, b.length);
    }
}
