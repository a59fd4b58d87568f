package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The bound on barging, with a first waiter that is woken but never runs until the test says so:
 * an asynchronous lock whose executor ({@link RunQueue}) holds its look back. A release frees the
 * mutex for the woken first waiter and a running thread may take it first; the release hands the
 * mutex to the waiter once it has been overtaken for {@link WwMutex#handoffAfterNanos} since its
 * first wake-up, or, once it ran and found the mutex taken, at the very next release.
 */
class WwMutexHandOffTest {
    private long savedBound;
    private final WwClass cls = WwClass.builder("barging").injectBackoff(false).build();
    private final WwMutex m = new WwMutex(cls);
    private final RunQueue queue = new RunQueue();
    private final AcquireContext waiter = cls.beginTransferable();

    @BeforeEach
    void saveBound() {
        savedBound = QueuedMutex.handoffAfterNanos;
        waiter.detach();
    }

    @AfterEach
    void restoreBound() {
        QueuedMutex.handoffAfterNanos = savedBound;
    }

    /** Queues the asynchronous waiter behind this thread's plain hold of {@code m}. */
    private CompletableFuture<LockResult> queueWaiter() {
        m.lock();
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue);
        assertThat(m.waiterCount()).isOne();
        return f;
    }

    /** Ends the test: the waiter's look completes its lock, which it then lets go. */
    private void finish(CompletableFuture<LockResult> f) {
        queue.drain();
        assertThat(f).isCompletedWithValue(LockResult.ACQUIRED);
        waiter.attach();
        waiter.unlockAll();
        waiter.close();
        assertThat(m.isLocked()).isFalse();
        assertThat(m.waiterCount()).isZero();
    }

    /**
     * A woken waiter that never runs is overtaken until the bound has passed since its first
     * wake-up (not since the latest: the releases in between do not restart it), and not after:
     * then a release hands the mutex over and the relock fails.
     */
    @Test
    void aWaiterThatDoesNotRunGetsTheMutexOnceTheBoundHasPassed() {
        QueuedMutex.handoffAfterNanos = TimeUnit.MILLISECONDS.toNanos(100);
        CompletableFuture<LockResult> f = queueWaiter();
        long start = System.nanoTime();
        long giveUp = start + TimeUnit.SECONDS.toNanos(20);        // a safety net, never reached
        int overtaken = 0;
        while (System.nanoTime() - giveUp < 0) {
            m.unlock();
            if (!m.tryLock()) {
                break;
            }
            overtaken++;
        }
        long elapsed = System.nanoTime() - start;
        assertThat(m.holderContext()).as("handed to the waiter before it ran").isSameAs(waiter);
        assertThat(f).isNotDone();
        assertThat(overtaken).isPositive();
        assertThat(elapsed).as("overtaken for the bound").isGreaterThanOrEqualTo(QueuedMutex.handoffAfterNanos);
        assertThat(elapsed).as("handed over once the bound passed").isLessThan(TimeUnit.SECONDS.toNanos(20));
        finish(f);
    }

    /** Without a time bound, a woken waiter that does not run is overtaken as often as a thread relocks. */
    @Test
    void aWaiterThatDoesNotRunIsOvertakenWithoutATimeBound() {
        QueuedMutex.handoffAfterNanos = Long.MAX_VALUE;
        CompletableFuture<LockResult> f = queueWaiter();
        for (int i = 0; i < 1000; i++) {
            m.unlock();
            assertThat(m.tryLock()).as("relock %d", i).isTrue();
        }
        assertThat(m).hasToString(m.describe() + "[held by " + Thread.currentThread().getName()
                + " without a context, waiters=[#" + waiter.stamp() + " on async]]");
        m.unlock();
        finish(f);
    }

    /**
     * Once the waiter ran and found the mutex taken, it is marked for hand-off (toString shows
     * it), and the next release makes it the holder before it runs again.
     */
    @Test
    void aWaiterThatRanAndFoundTheMutexTakenGetsItAtTheNextRelease() {
        QueuedMutex.handoffAfterNanos = Long.MAX_VALUE;
        CompletableFuture<LockResult> f = queueWaiter();
        m.unlock();
        assertThat(m.tryLock()).isTrue();
        assertThat(queue.drain()).isOne();                           // its look: taken, so hand-off next
        assertThat(m).hasToString(m.describe() + "[held by " + Thread.currentThread().getName()
                + " without a context, waiters=[#" + waiter.stamp() + " on async (hand-off)]]");
        m.unlock();
        assertThat(m.holderContext()).isSameAs(waiter);
        assertThat(m.tryLock()).isFalse();
        assertThat(f).isNotDone();
        finish(f);
    }
}
