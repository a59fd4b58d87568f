package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Unit tests of {@link LockResult}. */
class LockResultTest {

    /** Held after the call: acquired now or before, or upgraded; not when busy or timed out. */
    @Test
    void isHeldOnlyWhenTheContextHoldsTheMutex() {
        assertThat(LockResult.ACQUIRED.isHeld()).isTrue();
        assertThat(LockResult.ALREADY_HELD.isHeld()).isTrue();
        assertThat(LockResult.UPGRADED.isHeld()).isTrue();
        assertThat(LockResult.BUSY.isHeld()).isFalse();
        assertThat(LockResult.TIMED_OUT.isHeld()).isFalse();
    }
}
