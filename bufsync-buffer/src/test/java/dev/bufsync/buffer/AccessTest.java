package dev.bufsync.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.resv.Usage;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link Access}: the usage rule and rights. */
class AccessTest {
    /** A write waits for readers and writers (READ), a read for writers (WRITE): the kernel's usage_rw. */
    @Test
    void awaitedIsTheKernelsUsageRw() {
        assertThat(Access.WRITE.awaited()).isEqualTo(Usage.READ).isEqualTo(Usage.beforeWrite());
        assertThat(Access.READ.awaited()).isEqualTo(Usage.WRITE).isEqualTo(Usage.beforeRead());
        for (Access a : Access.values()) {
            assertThat(Usage.BOOKKEEP.includedIn(a.awaited())).as("%s waits for BOOKKEEP", a).isFalse();
            assertThat(Usage.KERNEL.includedIn(a.awaited())).as("%s waits for KERNEL", a).isTrue();
        }
    }

    /** The fence of an access is added with the matching usage. */
    @Test
    void usageOfAnAccessesFence() {
        assertThat(Access.READ.usage()).isEqualTo(Usage.READ);
        assertThat(Access.WRITE.usage()).isEqualTo(Usage.WRITE);
    }

    /** Write rights allow both accesses; read rights allow reading only. */
    @Test
    void rights() {
        assertThat(Access.WRITE.allows(Access.WRITE)).isTrue();
        assertThat(Access.WRITE.allows(Access.READ)).isTrue();
        assertThat(Access.READ.allows(Access.READ)).isTrue();
        assertThat(Access.READ.allows(Access.WRITE)).isFalse();
    }
}
