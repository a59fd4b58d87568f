package dev.bufsync.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Zipf generator draws the distribution it claims. */
class ZipfTest {
    private static final int DRAWS = 400_000;

    /** θ = 0 is uniform: every key of a small table comes up about equally often. */
    @Test
    void thetaZeroIsUniform() {
        int n = 20;
        long[] counts = draw(new Zipf(n, 0), DRAWS);
        for (long c : counts) {
            assertThat((double) c / DRAWS).isCloseTo(1.0 / n, org.assertj.core.data.Offset.offset(0.004));
        }
    }

    /**
     * At θ = 0.9 the two hottest keys, which the inversion treats exactly, come up with probability
     * 1/((k+1)^θ ζ(n, θ)); the rest follows Gray's closed-form approximation, which this test holds
     * to within 20 % per key for the next keys and 0.01 for the share of the whole tail.
     */
    @Test
    void skewedFrequenciesMatchTheDistribution() {
        Zipf zipf = new Zipf(1_000_000, 0.9);
        long[] counts = draw(zipf, DRAWS);
        for (int k = 2; k < 6; k++) {
            double expected = zipf.probability(k);
            assertThat((double) counts[k] / DRAWS).as("key %d", k)
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(expected * 0.2));
        }
        for (int k = 0; k < 2; k++) {
            double expected = zipf.probability(k);
            assertThat((double) counts[k] / DRAWS).as("key %d", k)
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(expected * 0.05));
        }
        // the whole tail beyond the first 1000 keys, against the exact sum
        double tail = 0;
        for (int k = 1000; k < zipf.size(); k++) {
            tail += zipf.probability(k);
        }
        long drawnTail = 0;
        for (int k = 1000; k < counts.length; k++) {
            drawnTail += counts[k];
        }
        assertThat((double) drawnTail / DRAWS).isCloseTo(tail, org.assertj.core.data.Offset.offset(0.01));
    }

    /** Skew concentrates accesses: the hottest key's share grows with θ. */
    @Test
    void hotKeyShareGrowsWithTheta() {
        double previous = 0;
        for (double theta : new double[] {0, 0.6, 0.8, 0.9}) {
            double p = new Zipf(1_000_000, theta).probability(0);
            assertThat(p).isGreaterThan(previous);
            previous = p;
        }
        assertThat(previous).isBetween(0.03, 0.04);     // about 1/ζ(10^6, 0.9) ≈ 1/29.9
    }

    /** θ outside [0, 1) and tables of fewer than two keys are refused. */
    @Test
    void badArgumentsAreRefused() {
        assertThatThrownBy(() -> new Zipf(100, 1.0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Zipf(100, -0.1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Zipf(1, 0.5)).isInstanceOf(IllegalArgumentException.class);
    }

    private static long[] draw(Zipf zipf, int draws) {
        SplittableRandom random = new SplittableRandom(1);
        long[] counts = new long[zipf.size()];
        for (int i = 0; i < draws; i++) {
            counts[zipf.next(random)]++;
        }
        return counts;
    }
}
