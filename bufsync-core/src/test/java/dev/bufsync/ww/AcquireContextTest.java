package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link AcquireContext} bookkeeping. */
class AcquireContextTest {

    /**
     * The held list a closed context leaves to its thread's next context is bounded: a pooled
     * thread that once ran a transaction over many mutexes keeps at most a small array per class.
     */
    @Test
    void spareHeldListIsBounded() throws Exception {
        WwClass cls = WwClass.builder("spare").injectBackoff(false).build();
        List<WwMutex> many = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            many.add(new WwMutex(cls));
        }
        try (AcquireContext ctx = cls.begin()) {
            for (WwMutex m : many) {
                m.lock(ctx);
            }
            ctx.unlockAll();
        }
        Object[] spare = cls.threadState().spareHeld;
        assertThat(spare == null ? 0 : spare.length).isLessThanOrEqualTo(256);
        try (AcquireContext small = cls.begin()) {           // a small transaction reuses a small one
            many.get(0).lock(small);
            small.unlockAll();
        }
        assertThat(cls.threadState().spareHeld).isNotNull().hasSizeLessThanOrEqualTo(256);
    }
}
