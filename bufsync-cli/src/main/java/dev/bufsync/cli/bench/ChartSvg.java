package dev.bufsync.cli.bench;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws a {@link Charts.Chart} as static inline SVG, readable without JavaScript: numeric axes
 * with ticks at 1, 2 and 5 times a power of ten (decades, thinned, on a log axis), a line with
 * points per strategy on a numeric x axis, grouped bars on a category axis (so a single point is a
 * bar, never a flat line), an error bar from JMH's 99.9 % half-width on every point that has one,
 * and a {@code <title>} per point with its value, which browsers show on hover.
 */
final class ChartSvg {
    static final int W = 720;
    static final int H = 340;
    private static final int L = 72;
    private static final int R = 170;
    private static final int T = 30;
    private static final int B = 56;
    private static final int INSET = 14;
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
        "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};

    private ChartSvg() {
    }

    /**
     * The chart as an {@code <svg>} element.
     *
     * @param c the chart
     * @return SVG markup
     */
    static String render(Charts.Chart c) {
        List<Double> ys = new ArrayList<>();
        for (Charts.Series s : all(c)) {
            for (Charts.Point p : s.points()) {
                ys.add(p.y());
                if (Double.isFinite(p.error())) {
                    ys.add(p.y() + p.error());
                    if (p.y() - p.error() > 0) {
                        ys.add(p.y() - p.error());
                    }
                }
            }
        }
        Scale y = c.logY() ? Scale.log(ys, H - B, T, false) : Scale.linearFromZero(ys, H - B, T);
        StringBuilder svg = new StringBuilder(4096);
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" role=\"img\" aria-label=\"").append(HtmlReport.esc(c.caption())).append("\">")
                .append("<title>").append(HtmlReport.esc(c.caption())).append("</title>")
                .append(text(L, 18, "start", 13, c.caption(), "caption"));
        for (double t : y.ticks()) {
            double py = y.at(t);
            svg.append(line(L, py, W - R, py, "#e5e5e5", "grid"));
            svg.append(text(L - 6, py + 4, "end", 11, Numbers.tick(t), null));
        }
        svg.append(line(L, T, L, H - B, "#333", "axis")).append(line(L, H - B, W - R, H - B, "#333", "axis"));
        svg.append(text((L + W - R) / 2.0, H - 14, "middle", 12, c.xTitle()
                + (c.xKind() == Charts.XKind.LOG ? " (log scale)" : ""), "x-title"));
        double my = T + (H - T - B) / 2.0;
        svg.append("<text class=\"y-title\" x=\"16\" y=\"").append(f(my)).append("\" font-size=\"12\"")
                .append(" text-anchor=\"middle\" transform=\"rotate(-90 16 ").append(f(my)).append(")\">")
                .append(HtmlReport.esc(c.yTitle() + (c.logY() ? " (log scale)" : ""))).append("</text>");
        if (c.xKind() == Charts.XKind.CATEGORY) {
            bars(svg, c, y);
        } else {
            lines(svg, c, y);
        }
        legend(svg, c);
        return svg.append("</svg>").toString();
    }

    private static List<Charts.Series> all(Charts.Chart c) {
        List<Charts.Series> all = new ArrayList<>(c.series());
        if (c.reference() != null) {
            all.add(c.reference());
        }
        return all;
    }

    private static void lines(StringBuilder svg, Charts.Chart c, Scale y) {
        List<Double> xs = new ArrayList<>();
        all(c).forEach(s -> s.points().forEach(p -> xs.add(p.x())));
        boolean integers = xs.stream().allMatch(v -> v == Math.rint(v));
        Scale x = c.xKind() == Charts.XKind.LOG ? Scale.log(xs, L + INSET, W - R - INSET, true)
                : Scale.linear(xs, L + INSET, W - R - INSET, integers);
        for (double t : x.ticks()) {
            double px = x.at(t);
            svg.append(line(px, H - B, px, H - B + 5, "#333", "tick"));
            svg.append(text(px, H - B + 18, "middle", 11, Numbers.tick(t), "x-tick"));
        }
        int k = 0;
        for (Charts.Series s : all(c)) {
            boolean reference = s == c.reference();
            String color = reference ? "#000" : COLORS[k++ % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (Charts.Point p : s.points()) {
                pts.append(pts.isEmpty() ? "" : " ").append(f(x.at(p.x()))).append(',').append(f(y.at(p.y())));
            }
            if (s.points().size() > 1) {
                svg.append("<polyline class=\"series\" data-series=\"").append(HtmlReport.esc(s.name()))
                        .append("\" points=\"").append(pts).append("\" fill=\"none\" stroke=\"").append(color)
                        .append("\" stroke-width=\"").append(reference ? "1.5\" stroke-dasharray=\"6 4" : "2")
                        .append("\"/>");
            }
            for (Charts.Point p : s.points()) {
                double px = x.at(p.x());
                errorBar(svg, px, p, y, color);
                if (!reference) {
                    svg.append("<circle class=\"point\" cx=\"").append(f(px)).append("\" cy=\"").append(f(y.at(p.y())))
                            .append("\" r=\"3\" fill=\"").append(color).append("\">").append(pointTitle(c, s, p))
                            .append("</circle>");
                } else if (s.points().size() == 1) {
                    svg.append(line(px - 10, y.at(p.y()), px + 10, y.at(p.y()), "#000", "reference"));
                }
            }
        }
    }

    private static void bars(StringBuilder svg, Charts.Chart c, Scale y) {
        int n = c.categories().size();
        double band = (W - L - R) / (double) n;
        int m = Math.max(1, c.series().size());
        double barWidth = Math.min(48, band * 0.8 / m);
        double base = y.at(y.ticks().get(0));
        for (int i = 0; i < n; i++) {
            double cx = L + band * (i + 0.5);
            svg.append(text(cx, H - B + 18, "middle", 11, c.categories().get(i), "x-tick"));
        }
        for (int k = 0; k < c.series().size(); k++) {
            Charts.Series s = c.series().get(k);
            String color = COLORS[k % COLORS.length];
            for (Charts.Point p : s.points()) {
                int i = c.categories().indexOf(p.label());
                double x0 = L + band * (i + 0.5) - barWidth * m / 2 + barWidth * k;
                double top = y.at(p.y());
                svg.append("<rect class=\"bar\" data-series=\"").append(HtmlReport.esc(s.name())).append("\" x=\"")
                        .append(f(x0 + 1)).append("\" y=\"").append(f(top)).append("\" width=\"")
                        .append(f(barWidth - 2)).append("\" height=\"").append(f(Math.max(0.5, base - top)))
                        .append("\" fill=\"").append(color).append("\">").append(pointTitle(c, s, p)).append("</rect>");
                errorBar(svg, x0 + barWidth / 2, p, y, "#333");
            }
        }
        if (c.reference() != null) {
            for (Charts.Point p : c.reference().points()) {
                int i = c.categories().indexOf(p.label());
                double py = y.at(p.y());
                svg.append("<line class=\"reference\" x1=\"").append(f(L + band * i + 2)).append("\" y1=\"").append(f(py))
                        .append("\" x2=\"").append(f(L + band * (i + 1) - 2)).append("\" y2=\"").append(f(py))
                        .append("\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>");
            }
        }
    }

    private static void errorBar(StringBuilder svg, double px, Charts.Point p, Scale y, String color) {
        if (!Double.isFinite(p.error()) || p.error() <= 0) {
            return;
        }
        double lo = y.at(y.clamp(p.y() - p.error()));
        double hi = y.at(p.y() + p.error());
        svg.append("<path class=\"error\" d=\"M").append(f(px)).append(',').append(f(lo)).append('V').append(f(hi))
                .append("M").append(f(px - 4)).append(',').append(f(lo)).append('h').append("8")
                .append("M").append(f(px - 4)).append(',').append(f(hi)).append('h').append("8")
                .append("\" stroke=\"").append(color).append("\" stroke-width=\"1.2\" fill=\"none\"/>");
    }

    private static String pointTitle(Charts.Chart c, Charts.Series s, Charts.Point p) {
        String unit = c.yTitle().substring(0, c.yTitle().indexOf(','));
        return "<title>" + HtmlReport.esc(s.name() + " at " + p.label() + ": " + BenchCommand.number(p.y())
                + (Double.isFinite(p.error()) ? " ± " + BenchCommand.number(p.error()) : "") + " " + unit)
                + "</title>";
    }

    private static void legend(StringBuilder svg, Charts.Chart c) {
        int k = 0;
        for (Charts.Series s : all(c)) {
            boolean reference = s == c.reference();
            String color = reference ? "#000" : COLORS[k % COLORS.length];
            double ly = T + 12 + 18 * k;
            svg.append("<line x1=\"").append(W - R + 14).append("\" y1=\"").append(f(ly - 4)).append("\" x2=\"")
                    .append(W - R + 34).append("\" y2=\"").append(f(ly - 4)).append("\" stroke=\"").append(color)
                    .append("\" stroke-width=\"").append(reference ? "1.5\" stroke-dasharray=\"6 4" : "4").append("\"/>");
            svg.append(text(W - R + 40, ly, "start", 11, s.name(), "legend"));
            k++;
        }
    }

    private static String line(double x1, double y1, double x2, double y2, String color, String cls) {
        return "<line class=\"" + cls + "\" x1=\"" + f(x1) + "\" y1=\"" + f(y1) + "\" x2=\"" + f(x2) + "\" y2=\""
                + f(y2) + "\" stroke=\"" + color + "\"/>";
    }

    private static String text(double x, double y, String anchor, int size, String s, String cls) {
        return "<text" + (cls == null ? "" : " class=\"" + cls + "\"") + " x=\"" + f(x) + "\" y=\"" + f(y)
                + "\" text-anchor=\"" + anchor + "\" font-size=\"" + size + "\">" + HtmlReport.esc(s) + "</text>";
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /**
     * A mapping from values to pixels with its ticks.
     *
     * @param lo the lowest value of the domain
     * @param hi the highest
     * @param from the pixel of {@code lo}
     * @param to the pixel of {@code hi}
     * @param log whether the mapping is logarithmic
     * @param ticks the tick values, ascending
     */
    record Scale(double lo, double hi, double from, double to, boolean log, List<Double> ticks) {

        double at(double v) {
            double t = log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
                    : (v - lo) / (hi - lo);
            return from + (to - from) * t;
        }

        double clamp(double v) {
            return Math.max(v, lo);
        }

        /** From 0 to the first tick at or above the largest value, ticks at 1, 2 or 5 × 10ⁿ. */
        static Scale linearFromZero(List<Double> values, double from, double to) {
            double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(1);
            if (!(max > 0)) {
                max = 1;
            }
            double step = niceStep(max / 5);
            double hi = Math.ceil(max / step - 1e-9) * step;
            return new Scale(0, hi, from, to, false, ticks(0, hi, step));
        }

        /** Around the values, ticks at 1, 2 or 5 × 10ⁿ, at least 1 apart for integer parameters. */
        static Scale linear(List<Double> values, double from, double to, boolean integers) {
            double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
            double max = values.stream().mapToDouble(Double::doubleValue).max().orElse(1);
            if (max == min) {
                max = min + 1;
            }
            double step = niceStep((max - min) / 5);
            if (integers) {
                step = Math.max(1, step);
            }
            double lo = Math.floor(min / step + 1e-9) * step;
            double hi = Math.ceil(max / step - 1e-9) * step;
            return new Scale(lo, hi, from, to, false, ticks(lo, hi, step));
        }

        /**
         * Logarithmic: ticks at each decade, and at 2 and 5 × when there are few decades. A tight
         * scale (an x axis of parameter values) spans exactly the values and keeps the ticks
         * within them; otherwise (a y axis, whose bars need a floor) it spans whole decades.
         */
        static Scale log(List<Double> values, double from, double to, boolean tight) {
            double min = values.stream().filter(v -> v > 0).mapToDouble(Double::doubleValue).min().orElse(1);
            double max = values.stream().filter(v -> v > 0).mapToDouble(Double::doubleValue).max().orElse(10);
            int a = (int) Math.floor(Math.log10(min) + 1e-9);
            int b = (int) Math.ceil(Math.log10(max) - 1e-9);
            if (b <= a) {
                b = a + 1;
            }
            double lo = tight && max > min ? min : Math.pow(10, a);
            double hi = tight && max > min ? max : Math.pow(10, b);
            List<Double> ticks = new ArrayList<>();
            for (int e = a; e <= b; e++) {
                double p = Math.pow(10, e);
                for (double m : b - a <= 2 ? new double[] {1, 2, 5} : new double[] {1}) {
                    double t = round(m * p);
                    if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) {
                        ticks.add(t);
                    }
                }
            }
            return new Scale(lo, hi, from, to, true, ticks);
        }

        static double niceStep(double rough) {
            if (!(rough > 0)) {
                return 1;
            }
            double mag = Math.pow(10, Math.floor(Math.log10(rough)));
            double n = rough / mag;
            double nice = n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10;
            return nice * mag;
        }

        private static List<Double> ticks(double lo, double hi, double step) {
            List<Double> t = new ArrayList<>();
            for (int i = 0; lo + i * step <= hi + step * 1e-6; i++) {
                t.add(round(lo + i * step));
            }
            return t;
        }

        private static double round(double v) {
            return new BigDecimal(v).round(new MathContext(6)).doubleValue();
        }
    }
}
