package dev.bufsync.cli.bench;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** How the console, the report and the charts write counts and axis ticks. */
final class Numbers {
    private static final String SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

    private Numbers() {
    }

    /**
     * A count as people read it: powers of ten from 10⁴ up as {@code 10ⁿ}, others with thousands
     * separators ({@code 2,000}); text that is not an integer unchanged.
     *
     * @param text a count
     * @return its display form
     */
    static String count(String text) {
        long n;
        try {
            n = Long.parseLong(text);
        } catch (NumberFormatException e) {
            return text;
        }
        int exponent = 0;
        for (long v = n; v >= 10 && v % 10 == 0; v /= 10) {
            exponent++;
        }
        if (n > 0 && exponent >= 4 && n == pow10(exponent)) {
            StringBuilder sb = new StringBuilder("10");
            for (char c : Integer.toString(exponent).toCharArray()) {
                sb.append(SUPERSCRIPT.charAt(c - '0'));
            }
            return sb.toString();
        }
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static long pow10(int exponent) {
        long p = 1;
        for (int i = 0; i < exponent; i++) {
            p *= 10;
        }
        return p;
    }

    /**
     * An axis tick: at most three significant digits, no trailing zeros, {@code k} and {@code M}
     * for thousands and millions ({@code 0.2}, {@code 50}, {@code 1.5k}, {@code 2M}).
     *
     * @param v the tick's value
     * @return its label
     */
    static String tick(double v) {
        if (v == 0) {
            return "0";
        }
        double a = Math.abs(v);
        if (a >= 1e6) {
            return plain(v / 1e6) + "M";
        }
        if (a >= 1e4) {
            return plain(v / 1e3) + "k";
        }
        return plain(v);
    }

    private static String plain(double v) {
        return new BigDecimal(v).round(new MathContext(3)).stripTrailingZeros().toPlainString();
    }
}
