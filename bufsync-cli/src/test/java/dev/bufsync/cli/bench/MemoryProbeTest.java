package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.bench.Footprint;
import org.junit.jupiter.api.Test;

/** Quick mode's extrapolated footprint is the measured one, not an estimate. */
class MemoryProbeTest {

    @Test
    void extrapolationFromASampleIsExact() {
        assertThat(MemoryProbe.extrapolated(2_000, 8_000)).isEqualTo((double) Footprint.reservationsBytes(8_000));
    }
}
