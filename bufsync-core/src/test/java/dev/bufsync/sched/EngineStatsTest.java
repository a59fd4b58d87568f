package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EngineStatsTest {

    /** The fences pending are those created and not signalled yet. */
    @Test
    void fencesPendingIsCreatedLessSignalled() {
        EngineStats stats = new EngineStats(3, 1, 0, 0, 0, 1, 1, 6, 2, 0);
        assertThat(stats.fencesPending()).isEqualTo(4);
    }
}
