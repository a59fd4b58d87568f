package dev.bufsync.bench;

import java.util.SplittableRandom;

/**
 * Draws keys 0 … n-1 with a Zipfian distribution of skew θ: key k has probability proportional
 * to 1/(k+1)^θ, so θ = 0 is uniform and key 0 is the hottest. This is the generator of YCSB and
 * of DBx1000's YCSB workload (Gray et al., "Quickly Generating Billion-Record Synthetic Databases",
 * SIGMOD 1994), with the same closed-form inversion: exact for the two hottest keys, an
 * approximation for the others (about 20 % high at the third key for θ = 0.9, closer further out).
 * Keeping DBx1000's generator keeps θ meaning what it meant in the paper's workloads.
 *
 * <p>Usage: make one per table and θ (it computes ζ(n, θ), which takes O(n)); each thread draws
 * with its own {@link SplittableRandom}. Thread-safe: immutable.
 *
 * <p><b>Caveats.</b> θ must be in [0, 1): the inversion's exponent 1/(1-θ) is undefined at 1.
 * Like DBx1000, the keys are not scrambled, so hot keys are adjacent.
 */
public final class Zipf {
    /*
     * Overview.
     *
     * With ζ(m, θ) = Σ_{i=1..m} 1/i^θ, α = 1/(1-θ) and
     * η = (1 - (2/n)^(1-θ)) / (1 - ζ(2, θ)/ζ(n, θ)), a uniform u in [0, 1) maps to rank
     * 1 if u·ζ(n) < 1, rank 2 if u·ζ(n) < 1 + 0.5^θ, else 1 + ⌊n·(η·u - η + 1)^α⌋. Ranks are
     * 1-based; keys are rank - 1.
     */

    private final int n;
    private final double theta;
    private final double zetaN;
    private final double alpha;
    private final double eta;
    private final double halfPowTheta;

    /**
     * A generator over {@code n} keys.
     *
     * @param n the number of keys, at least 2
     * @param theta the skew, 0 ≤ θ < 1
     */
    public Zipf(int n, double theta) {
        if (n < 2 || !(theta >= 0 && theta < 1)) {
            throw new IllegalArgumentException("need n >= 2 and 0 <= theta < 1, got n=" + n
                    + ", theta=" + theta);
        }
        this.n = n;
        this.theta = theta;
        this.zetaN = zeta(n, theta);
        this.alpha = 1 / (1 - theta);
        this.eta = (1 - Math.pow(2.0 / n, 1 - theta)) / (1 - zeta(2, theta) / zetaN);
        this.halfPowTheta = Math.pow(0.5, theta);
    }

    /**
     * ζ(m, θ) = Σ_{i=1..m} 1/i^θ.
     *
     * @param m the number of terms
     * @param theta the exponent
     * @return the sum
     */
    public static double zeta(int m, double theta) {
        double sum = 0;
        for (int i = 1; i <= m; i++) {
            sum += 1 / Math.pow(i, theta);
        }
        return sum;
    }

    /**
     * The probability of key {@code k} under the exact distribution (for tests and reports).
     *
     * @param k a key, 0 … n-1
     * @return 1/((k+1)^θ · ζ(n, θ))
     */
    public double probability(int k) {
        return 1 / (Math.pow(k + 1, theta) * zetaN);
    }

    /**
     * Draws a key.
     *
     * @param random the caller's random source
     * @return a key in 0 … n-1
     */
    public int next(SplittableRandom random) {
        double u = random.nextDouble();
        double uz = u * zetaN;
        if (uz < 1) {
            return 0;
        }
        if (uz < 1 + halfPowTheta) {
            return 1;
        }
        long rank = 1 + (long) (n * Math.pow(eta * u - eta + 1, alpha));
        return (int) Math.min(rank - 1, n - 1);
    }

    /**
     * The number of keys.
     *
     * @return n
     */
    public int size() {
        return n;
    }
}
