package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwClass.Algorithm;
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

    /** Stamps are handed out one by one from the first stamp; stats count the contexts begun. */
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
