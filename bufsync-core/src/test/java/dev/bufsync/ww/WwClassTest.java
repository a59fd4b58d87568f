package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwClass.Algorithm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link WwClass}: its options, its stamps and its counters. */
class WwClassTest {

    /** The factories and the builder keep the name, the algorithm and the injection option. */
    @Test
    void keepsItsOptions() {
        WwClass ww = WwClass.woundWait("ww");
        WwClass wd = WwClass.waitDie("wd");
        WwClass injecting = WwClass.builder("inj").algorithm(Algorithm.WAIT_DIE).injectBackoff(true).build();
        assertThat(ww.name()).isEqualTo("ww");
        assertThat(ww.algorithm()).isEqualTo(Algorithm.WOUND_WAIT);
        assertThat(ww.policy()).isSameAs(ConflictPolicy.WOUND_WAIT);
        assertThat(wd.algorithm()).isEqualTo(Algorithm.WAIT_DIE);
        assertThat(wd.policy()).isSameAs(ConflictPolicy.WAIT_DIE);
        assertThat(injecting.injectsBackoff()).isTrue();
        assertThat(WwClass.builder("plain").injectBackoff(false).build().injectsBackoff()).isFalse();
        assertThat(WwClass.builder("default").build().algorithm()).isEqualTo(Algorithm.WOUND_WAIT);
    }

    /** toString names the class, its algorithm and, only when on, back-off injection. */
    @Test
    void toStringNamesTheOptions() {
        assertThat(WwClass.builder("gpu").injectBackoff(false).build()).hasToString("WwClass[gpu, WOUND_WAIT]");
        assertThat(WwClass.builder("gpu").algorithm(Algorithm.WAIT_DIE).injectBackoff(true).build())
                .hasToString("WwClass[gpu, WAIT_DIE, inject-backoff]");
    }

    /** A missing name or algorithm is rejected at once, naming the parameter. */
    @Test
    void nullOptionsAreRejected() {
        assertThatThrownBy(() -> WwClass.builder(null)).isInstanceOf(NullPointerException.class).hasMessage("name");
        assertThatThrownBy(() -> WwClass.builder("x").algorithm(null))
                .isInstanceOf(NullPointerException.class).hasMessage("algorithm");
    }

    /** One thread's stamps are consecutive from the first stamp; stats count the contexts begun. */
    @Test
    void stampsAreConsecutiveAndCounted() {
        WwClass cls = WwClass.builder("stamps").firstStamp(40).injectBackoff(false).build();
        assertThat(cls.stats().contexts()).isZero();
        long first;
        try (AcquireContext a = cls.begin()) {
            first = a.stamp();
            assertThat(a.wwClass()).isSameAs(cls);
            assertThat(a.owner()).isSameAs(Thread.currentThread());
        }
        try (AcquireContext b = cls.begin()) {
            assertThat(first).isEqualTo(40);
            assertThat(b.stamp()).isEqualTo(41);
        }
        assertThat(cls.stats().contexts()).isEqualTo(2);
    }

    /**
     * A thread takes its stamps in blocks that double at each refill, up to 64: two threads
     * beginning contexts in turn each get runs of consecutive stamps of 1, 2, 4, … 64, 64 stamps,
     * interleaved, every stamp unique; every context is counted.
     */
    @Test
    void threadsTakeStampsInBlocksThatDoubleUpTo64() throws Exception {
        WwClass cls = WwClass.builder("blocks").firstStamp(0).injectBackoff(false).build();
        int rounds = 300;
        long[][] stamps = new long[2][rounds];
        try (Actor a = new Actor("a"); Actor b = new Actor("b")) {
            Actor[] actors = {a, b};
            for (int i = 0; i < rounds; i++) {
                for (int t = 0; t < 2; t++) {
                    stamps[t][i] = actors[t].call(() -> {
                        try (AcquireContext ctx = cls.begin()) {
                            return ctx.stamp();
                        }
                    });
                }
            }
        }
        assertThat(runs(stamps[0])).startsWith(1, 2, 4, 8, 16, 32, 64, 64).containsOnly(1, 2, 4, 8, 16, 32, 64)
                .isEqualTo(runs(stamps[1]));
        assertThat(stamps[0][0]).isZero();
        assertThat(stamps[1][0]).isOne();
        assertThat(stamps[0][1]).as("a's second block, taken after b's first").isEqualTo(2);
        assertThat(LongStream.concat(Arrays.stream(stamps[0]), Arrays.stream(stamps[1])).distinct().count()).isEqualTo(2L * rounds);
        assertThat(cls.stats().contexts()).isEqualTo(2L * rounds);
    }

    /** The lengths of the runs of consecutive values in {@code stamps}, which increase. */
    private static List<Integer> runs(long[] stamps) {
        List<Integer> runs = new ArrayList<>();
        int run = 1;
        for (int i = 1; i < stamps.length; i++) {
            assertThat(stamps[i]).isGreaterThan(stamps[i - 1]);
            if (stamps[i] == stamps[i - 1] + 1) {
                run++;
            } else {
                runs.add(run);
                run = 1;
            }
        }
        return runs;                                  // the last, possibly partial, run left out
    }

    /** isOlder is a strict order by signed difference: not reflexive, and it wraps. */
    @Test
    void isOlderIsStrictAndWrapSafe() {
        assertThat(WwClass.isOlder(1, 2)).isTrue();
        assertThat(WwClass.isOlder(2, 1)).isFalse();
        assertThat(WwClass.isOlder(5, 5)).isFalse();
        assertThat(WwClass.isOlder(Long.MAX_VALUE, Long.MIN_VALUE)).isTrue();
        assertThat(WwClass.isOlder(Long.MIN_VALUE, Long.MAX_VALUE)).isFalse();
    }
}
