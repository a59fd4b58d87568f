package dev.bufsync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The memory benchmark's measurements: sizes JOL reports, not constants. */
class FootprintTest {

    /** A mutex has a header and fields; a ReentrantLock counts its Sync too, so it is larger than a bare header. */
    @Test
    void objectSizesArePlausible() {
        assertThat(Footprint.wwMutexBytes()).isBetween(16L, 256L).matches(b -> b % 8 == 0, "8-byte aligned");
        assertThat(Footprint.reentrantLockBytes()).isGreaterThan(32L);
    }

    /** The footprint grows with the count (each reservation brings its own mutex) and excludes the shared class. */
    @Test
    void reservationFootprintScalesWithTheCount() {
        long one = Footprint.reservationsBytes(1);
        long thousand = Footprint.reservationsBytes(1_000);
        assertThat(one).isGreaterThan(Footprint.wwMutexBytes());
        long perReservation = (thousand - one) / 999;
        assertThat(perReservation).isGreaterThanOrEqualTo(Footprint.wwMutexBytes() + 16);
        assertThat(thousand).isLessThan(1_000 * (perReservation + 8) + one);
        assertThatThrownBy(() -> Footprint.reservationsBytes(0)).hasMessageContaining("≥ 1");
    }
}
