package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Axis scales and tick labels: 1, 2 or 5 × 10ⁿ, whole decades on log axes, no 16.7 or 33.4. */
class ChartSvgTest {

    @Test
    void linearTicksAreRoundNumbersFromZero() {
        ChartSvg.Scale s = ChartSvg.Scale.linearFromZero(List.of(12.0, 83.5), 300, 20);
        assertThat(s.ticks()).containsExactly(0.0, 20.0, 40.0, 60.0, 80.0, 100.0);
        assertThat(s.at(0)).isEqualTo(300.0);
        assertThat(s.at(100)).isEqualTo(20.0);
    }

    @Test
    void integerParametersGetIntegerTicks() {
        assertThat(ChartSvg.Scale.linear(List.of(2.0, 4.0), 0, 100, true).ticks()).containsExactly(2.0, 3.0, 4.0);
        assertThat(ChartSvg.Scale.linear(List.of(0.0, 0.6, 0.8, 0.9), 0, 100, false).ticks())
                .containsExactly(0.0, 0.2, 0.4, 0.6, 0.8, 1.0);
    }

    @Test
    void logTicksAreDecadesThinnedWhenMany() {
        assertThat(ChartSvg.Scale.log(List.of(1.0, 64.0), 0, 100, false).ticks())
                .containsExactly(1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0);
        assertThat(ChartSvg.Scale.log(List.of(3.0, 4.0e5), 0, 100, false).ticks())
                .containsExactly(1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6);
    }

    /** An x axis of parameter values spans exactly them: d = 1 … 20 ends at 20, not at 100. */
    @Test
    void tightLogAxisEndsAtTheValues() {
        ChartSvg.Scale x = ChartSvg.Scale.log(List.of(1.0, 2.0, 5.0, 20.0), 0, 100, true);
        assertThat(x.ticks()).containsExactly(1.0, 2.0, 5.0, 10.0, 20.0);
        assertThat(x.at(1)).isEqualTo(0.0);
        assertThat(x.at(20)).isEqualTo(100.0);
        assertThat(ChartSvg.Scale.log(List.of(1.0, 64.0), 0, 100, true).ticks())
                .containsExactly(1.0, 2.0, 5.0, 10.0, 20.0, 50.0);
    }

    @Test
    void xAxisKindFollowsTheParameter() {
        assertThat(Charts.xKind(List.of("1", "2", "20"))).isEqualTo(Charts.XKind.LOG);
        assertThat(Charts.xKind(List.of("2", "4", "8"))).isEqualTo(Charts.XKind.LINEAR);
        assertThat(Charts.xKind(List.of("0", "0.9"))).isEqualTo(Charts.XKind.LINEAR);
        assertThat(Charts.xKind(List.of("5", "cube"))).isEqualTo(Charts.XKind.CATEGORY);
        assertThat(Charts.xKind(List.of("5"))).isEqualTo(Charts.XKind.CATEGORY);
    }

    @Test
    void numbersReadAsPeopleWriteThem() {
        assertThat(Numbers.count("1000000")).isEqualTo("10⁶");
        assertThat(Numbers.count("100000")).isEqualTo("10⁵");
        assertThat(Numbers.count("2000")).isEqualTo("2,000");
        assertThat(Numbers.count("100")).isEqualTo("100");
        assertThat(Numbers.count("cube")).isEqualTo("cube");
        assertThat(Numbers.tick(0.2)).isEqualTo("0.2");
        assertThat(Numbers.tick(50)).isEqualTo("50");
        assertThat(Numbers.tick(1500)).isEqualTo("1500");
        assertThat(Numbers.tick(20000)).isEqualTo("20k");
        assertThat(Numbers.tick(2.5e6)).isEqualTo("2.5M");
    }
}
