package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/**
 * Decisions of the wait queue that depend on who runs when, made deterministic with waiters that
 * run only when the test lets them: asynchronous locks whose executor ({@link RunQueue}) holds
 * their looks back until {@link RunQueue#drain()}. A release frees the mutex and schedules the
 * first waiter's look; until the test drains the queue, the mutex stays free for whoever comes.
 */
class WwMutexQueueTest {
    private final WwClass cls = WwClass.builder("queue").injectBackoff(false).build();
    private final RunQueue queue = new RunQueue();

    /** A transferable context, detached so that asynchronous locks may carry it. */
    private AcquireContext detached() {
        return detached(cls);
    }

    /** A transferable context of {@code c}, detached. */
    private static AcquireContext detached(WwClass c) {
        AcquireContext ctx = c.beginTransferable();
        ctx.detach();
        return ctx;
    }

    /** A wait-die class without back-off injection. */
    private static WwClass waitDie(String name) {
        return WwClass.builder(name).algorithm(WwClass.Algorithm.WAIT_DIE).injectBackoff(false).build();
    }

    /** Unlocks everything {@code ctx} holds, from this thread, and detaches it again. */
    private static void release(AcquireContext ctx) {
        ctx.attach();
        ctx.unlockAll();
        ctx.detach();
    }

    private static void close(AcquireContext... contexts) {
        for (AcquireContext c : contexts) {
            c.attach();
            c.unlockAll();
            c.close();
        }
    }

    private static Throwable failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    /**
     * A first waiter that was woken to take the freed mutex and withdraws before it took it passes
     * the mutex on: the next waiter is made the holder at once, so the mutex is never left free
     * with waiters queued and nobody woken.
     */
    @Test
    void aWaiterThatLeavesTheFreedMutexGrantsItToTheNext() {
        WwMutex m = new WwMutex(cls);
        AcquireContext first = detached();
        AcquireContext second = detached();
        m.lock();
        CompletableFuture<LockResult> f1 = m.lockAsync(first, queue);
        CompletableFuture<LockResult> f2 = m.lockAsync(second, queue);
        m.unlock();                                          // frees it, schedules first's look
        assertThat(m.isLocked()).isFalse();
        assertThat(f1.cancel(false)).isTrue();               // first leaves before it looked
        assertThat(m.holderContext()).as("granted to the next waiter").isSameAs(second);
        assertThat(m.waiterCount()).isZero();
        queue.drain();
        assertThat(f1).isCancelled();
        assertThat(f2).isCompletedWithValue(LockResult.ACQUIRED);
        close(first, second);
        assertThat(m.isLocked()).isFalse();
    }

    /**
     * Wound-wait: a context that barges in checks every context waiter, not only the first: an
     * older waiter that holds nothing cannot wound, but an older one behind it that holds locks
     * does.
     */
    @Test
    void aBargerIsWoundedByAnOlderLockHolderBehindAnOlderWaiterThatHoldsNothing() {
        WwMutex m = new WwMutex(cls);
        WwMutex x = new WwMutex(cls);
        AcquireContext holdsNothing = detached();
        AcquireContext holdsLocks = detached();
        assertThat(x.lockAsync(holdsLocks, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        m.lock();
        CompletableFuture<LockResult> f1 = m.lockAsync(holdsNothing, queue);
        CompletableFuture<LockResult> f2 = m.lockAsync(holdsLocks, queue);
        m.unlock();                                          // frees it for the first waiter
        try (AcquireContext barger = cls.begin()) {
            assertThat(m.tryLock(barger)).isEqualTo(LockResult.ACQUIRED);
            assertThat(barger.isWounded()).isTrue();
            assertThat(cls.stats().wounds()).isOne();
            barger.unlockAll();
        }
        queue.drain();
        assertThat(f1).isCompletedWithValue(LockResult.ACQUIRED);
        release(holdsNothing);
        queue.drain();
        assertThat(f2).isCompletedWithValue(LockResult.ACQUIRED);
        close(holdsNothing, holdsLocks);
        assertThat(m.isLocked()).isFalse();
    }

    /**
     * Wound-wait: an asynchronous lock by a context that was wounded while it was not queued
     * backs off at once, naming its wounder, without queueing; a lock that must wait counts as
     * contended, and a lock of a mutex the context holds is ALREADY_HELD.
     */
    @Test
    void aWoundedContextsAsynchronousLockBacksOffWithoutQueueing() {
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex busy = new WwMutex(cls);
        AcquireContext older = detached();
        AcquireContext younger = detached();
        assertThat(b.lockAsync(older, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        assertThat(a.lockAsync(younger, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        assertThat(a.lockAsync(younger, queue)).isCompletedWithValue(LockResult.ALREADY_HELD);
        CompletableFuture<LockResult> olderWaits = a.lockAsync(older, queue);   // wounds younger
        assertThat(cls.stats().contended()).isOne();
        assertThat(younger.isWounded()).isTrue();
        busy.lock();
        CompletableFuture<LockResult> youngerLocks = busy.lockAsync(younger, queue);
        assertThat(failure(youngerLocks)).isInstanceOfSatisfying(BackoffException.class, e -> {
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(older.stamp());
            assertThat(e.mutex()).isSameAs(busy);
        });
        assertThat(busy.waiterCount()).isZero();
        assertThat(cls.stats().contended()).as("the wounded lock never queued").isOne();
        busy.unlock();
        release(younger);
        queue.drain();
        assertThat(olderWaits).isCompletedWithValue(LockResult.ACQUIRED);
        close(older, younger);
        assertThat(a.isLocked() || b.isLocked() || busy.isLocked()).isFalse();
    }

    /**
     * Wait-die: a context that holds nothing never dies, even when it looks while an older context
     * holds the mutex: the first waiter, freed to take it, finds it taken by an older barger and
     * waits on for the hand-off.
     */
    @Test
    void waitDieAWaiterThatHoldsNothingDoesNotDieForAnOlderBarger() {
        WwClass waitDie = waitDie("queue-wait-die");
        WwMutex m = new WwMutex(waitDie);
        AcquireContext older = detached(waitDie);
        AcquireContext younger = detached(waitDie);
        m.lock();
        CompletableFuture<LockResult> f = m.lockAsync(younger, queue);
        m.unlock();                                          // frees it, schedules younger's look
        assertThat(m.lockAsync(older, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        assertThat(queue.drain()).isOne();                   // younger looks: taken, so hand-off next
        assertThat(f).isNotDone();
        release(older);
        assertThat(m.holderContext()).isSameAs(younger);
        queue.drain();
        assertThat(f).isCompletedWithValue(LockResult.ACQUIRED);
        close(older, younger);
        assertThat(m.isLocked()).isFalse();
    }

    /**
     * Wait-die: an older context that holds locks queues ahead of a younger one that holds locks
     * and waits. The younger is asked to look at once and dies when it looks; until then it is
     * queued behind the older one, marked to look, which is the queue's invariant 2 (checked at
     * every release of the queue bit when assertions are on, as in these tests). Without the ask,
     * the younger would wait holding its lock behind an older waiter.
     */
    @Test
    void waitDieAnOlderLockHolderQueuedAheadMakesAYoungerLockHolderDie() {
        WwClass waitDie = waitDie("queue-wait-die-ahead");
        WwMutex m = new WwMutex(waitDie);
        AcquireContext older = detached(waitDie);
        AcquireContext younger = detached(waitDie);
        AcquireContext youngest = detached(waitDie);
        assertThat(m.lockAsync(youngest, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        assertThat(new WwMutex(waitDie).lockAsync(younger, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        CompletableFuture<LockResult> youngerWaits = m.lockAsync(younger, queue);   // older than holder: waits
        assertThat(new WwMutex(waitDie).lockAsync(older, queue)).isCompletedWithValue(LockResult.ACQUIRED);
        CompletableFuture<LockResult> olderWaits = m.lockAsync(older, queue);       // queues ahead of younger
        assertThat(youngerWaits).isNotDone();
        assertThat(m.waiterCount()).isEqualTo(2);
        assertThat(queue.drain()).isOne();                   // younger's look, asked for by the enqueue
        assertThat(failure(youngerWaits)).isInstanceOfSatisfying(BackoffException.class,
                e -> assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED));
        assertThat(m.waiterCount()).isOne();
        release(youngest);
        queue.drain();
        assertThat(olderWaits).isCompletedWithValue(LockResult.ACQUIRED);
        close(older, younger, youngest);
        assertThat(m.isLocked()).isFalse();
    }
}
