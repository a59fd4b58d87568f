package dev.bufsync.cli.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The data of one chart per benchmark, as the report's script draws it: the x labels in order,
 * one series of scores per strategy, and for {@code philosophers} the theoretical minimum as a
 * reference line. Kept apart from the HTML so that tests can check it without a browser.
 */
final class Charts {
    private static final List<String> SOLID_ORDER = List.of("tetrahedron", "cube", "dodecahedron");

    private Charts() {
    }

    /**
     * Builds the charts of a run, one per benchmark that has results, in catalog order.
     *
     * @param results the run's results
     * @return chart specifications for the page's script
     */
    static List<Map<String, Object>> of(List<BenchResult> results) {
        List<Map<String, Object>> charts = new ArrayList<>();
        for (BenchDef def : Catalog.ALL) {
            List<BenchResult> rs = results.stream().filter(r -> r.benchmark().equals(def.name())).toList();
            if (!rs.isEmpty()) {
                charts.add(chart(def, rs));
            }
        }
        return charts;
    }

    private static Map<String, Object> chart(BenchDef def, List<BenchResult> rs) {
        List<String> xs = rs.stream().map(BenchResult::axisLabel).distinct()
                .sorted(Charts::compareLabels).toList();
        Set<String> strategies = new LinkedHashSet<>();
        rs.forEach(r -> strategies.add(r.strategy()));
        List<Map<String, Object>> series = new ArrayList<>();
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (String s : strategies) {
            List<Double> values = new ArrayList<>();
            for (String x : xs) {
                BenchResult r = rs.stream().filter(q -> q.strategy().equals(s) && q.axisLabel().equals(x))
                        .findFirst().orElse(null);
                values.add(r == null ? null : r.score());
                if (r != null && r.score() > 0) {
                    min = Math.min(min, r.score());
                    max = Math.max(max, r.score());
                }
            }
            series.add(Map.of("name", s, "values", values));
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("benchmark", def.name());
        c.put("xTitle", def.axisTitle());
        c.put("yTitle", rs.get(0).unit() + (def.higherIsBetter() ? " (higher is better)" : " (lower is better)"));
        c.put("xs", xs);
        c.put("series", series);
        if (def.name().equals("philosophers")) {
            List<Double> minimum = new ArrayList<>();
            for (String x : xs) {
                minimum.add(rs.stream().filter(q -> q.axisLabel().equals(x)).findFirst()
                        .map(q -> q.counter("minimumMs")).orElse(null));
            }
            c.put("reference", Map.of("name", "theoretical minimum", "values", minimum));
        }
        c.put("log", max / min > 30);
        return c;
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
