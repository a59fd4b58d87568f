package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Unit tests of {@link WwStats}. */
class WwStatsTest {

    /** minus subtracts field by field, each from its own field. */
    @Test
    void minusSubtractsEachField() {
        WwStats later = new WwStats(10, 20, 30, 40, 50, 60, 70);
        WwStats earlier = new WwStats(1, 2, 3, 4, 5, 6, 7);
        assertThat(later.minus(earlier)).isEqualTo(new WwStats(9, 18, 27, 36, 45, 54, 63));
    }
}
