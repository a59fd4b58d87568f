package dev.bufsync.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.resv.Reservation;
import org.junit.jupiter.api.Test;

/** The scale benchmark's round, outside JMH, with small parameters. */
class ScaleBenchmarkTest {

    private static ScaleBenchmark small(String strategy) {
        ScaleBenchmark b = new ScaleBenchmark();
        b.strategy = strategy;
        b.reservations = 50;
        b.virtualThreads = 200;
        b.platformThreads = 8;
        b.transactions = 2_000;
        b.locks = 4;
        b.setUp();
        return b;
    }

    /**
     * Both strategies run every transaction of a round over a small, hot pool (contention and
     * back-offs guaranteed), and the pool is unlocked afterwards.
     */
    @Test
    void roundsCompleteOnBothKindsOfThread() throws InterruptedException {
        for (String s : new String[] {"platform", "virtual"}) {
            ScaleBenchmark b = small(s);
            assertThat(b.round()).isEqualTo(2_000);
            assertThat(b.round()).isEqualTo(2_000);
            assertThat(lockedAfter(b)).as(s).isZero();
        }
    }

    /**
     * Lock sets are distinct reservations even when every set must take the whole pool: a
     * duplicate would make Exec throw and the round fail.
     */
    @Test
    void lockSetsHaveNoDuplicates() throws InterruptedException {
        ScaleBenchmark b = small("virtual");
        b.reservations = 4;
        b.setUp();
        assertThat(b.round()).isEqualTo(2_000);
    }

    /** An unknown strategy is refused at set-up. */
    @Test
    void unknownStrategyIsRefused() {
        ScaleBenchmark b = new ScaleBenchmark();
        b.strategy = "fibers";
        b.reservations = 1;
        b.transactions = 1;
        b.locks = 1;
        assertThatThrownBy(b::setUp).hasMessageContaining("virtual or platform");
    }

    private static int lockedAfter(ScaleBenchmark b) {
        int locked = 0;
        for (Reservation r : b.pool()) {
            if (r.mutex().tryLock()) {
                r.mutex().unlock();
            } else {
                locked++;
            }
        }
        return locked;
    }
}
