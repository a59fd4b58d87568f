package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The decisions of {@link ConflictPolicy} that depend on ages alone; the queue-reading decisions
 * are exercised through the mutex ({@code WwMutexTest}, {@code WwMutexQueueTest}).
 */
class ConflictPolicyTest {
    private final WwClass cls = WwClass.builder("policy").injectBackoff(false).build();

    /** A context of stamp {@code stamp}, made directly: the decisions read only its age and flags. */
    private AcquireContext aged(long stamp) {
        return new AcquireContext(cls, stamp, new WwClass.ThreadState(cls), false);
    }

    /**
     * A spinner only spins when it would merely wait: under wound-wait for an older holder (a
     * younger one it must wound at once), under wait-die for a younger holder (for an older one it
     * must die at once).
     */
    @Test
    void aSpinnerWaitsOnlyWhereItsAlgorithmLetsItWait() {
        AcquireContext older = aged(1);
        AcquireContext younger = aged(2);
        for (ConflictPolicy policy : List.of(ConflictPolicy.WOUND_WAIT, ConflictPolicy.WAIT_DIE)) {
            boolean woundWait = policy == ConflictPolicy.WOUND_WAIT;
            assertThat(policy.waitsFor(younger, older)).as("younger for older").isEqualTo(woundWait);
            assertThat(policy.waitsFor(older, younger)).as("older for younger").isEqualTo(!woundWait);
        }
    }

    /** Wound-wait does not spin on while the spinner itself has been wounded. */
    @Test
    void aWoundedSpinnerStopsWaitingUnderWoundWait() {
        AcquireContext older = aged(1);
        AcquireContext younger = aged(2);
        younger.wound();
        assertThat(ConflictPolicy.WOUND_WAIT.waitsFor(younger, older)).isFalse();
    }

    /** Wait-die is never wounded, whatever the flag says; wound-wait holding nothing neither. */
    @Test
    void onlyALockHoldingWoundWaitContextIsWoundedNow() {
        AcquireContext ctx = aged(1);
        ctx.wound();
        assertThat(ConflictPolicy.WAIT_DIE.woundedNow(ctx)).isFalse();
        assertThat(ConflictPolicy.WOUND_WAIT.woundedNow(ctx)).as("holds nothing").isFalse();
        assertThat(ctx.isWounded()).as("the hint stays for a later lock").isTrue();
    }
}
