package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwClass.Algorithm;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of {@link AsyncWaiter}, the waiter of an asynchronous lock: who settles its future
 * when the caller completes it from outside, when the lock was taken first, and when the
 * executor refuses a look; in each case nothing stays locked or queued. (The ladders with
 * asynchronous locks are in {@link WwMutexAsyncTest}.)
 */
class AsyncWaiterTest {
    private final WwClass cls = WwClass.builder("async-waiter").algorithm(Algorithm.WOUND_WAIT)
            .injectBackoff(false).build();

    /** A transferable context, detached from the test thread. */
    private AcquireContext detached() {
        AcquireContext ctx = cls.beginTransferable();
        ctx.detach();
        return ctx;
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

    private static void closeAll(AcquireContext... ctxs) {
        for (AcquireContext c : ctxs) {
            c.unlockAll();
            c.close();
        }
    }

    /** Once the lock is taken, completing the future from outside loses in every form. */
    @Test
    void completingFromOutsideAfterTheLockWasTakenLoses() {
        WwMutex m = new WwMutex(cls);
        AcquireContext ctx = detached();
        CompletableFuture<LockResult> f = m.lockAsync(ctx, new RunQueue());
        assertThat(f.complete(LockResult.BUSY)).isFalse();
        assertThat(f.completeExceptionally(new TimeoutException())).isFalse();
        assertThat(f.cancel(false)).isFalse();
        assertThat(f.join()).isEqualTo(LockResult.ACQUIRED);
        assertThat(m.holderContext()).isSameAs(ctx);
        closeAll(ctx);
    }

    /**
     * complete() from outside withdraws a queued request like cancel: the future has the given
     * value, the waiter left the queue, and the mutex is not handed to it later.
     */
    @Test
    void completeWithdrawsAQueuedRequest() {
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached();
        AcquireContext waiter = detached();
        m.lockAsync(holder, queue).join();
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue);
        assertThat(f.complete(LockResult.BUSY)).isTrue();
        assertThat(f.join()).isEqualTo(LockResult.BUSY);
        assertThat(m.waiterCount()).isZero();
        assertThat(f.cancel(false)).as("settled already").isFalse();
        holder.unlockAll();
        queue.drain();
        assertThat(m.isLocked()).isFalse();
        assertThat(waiter.heldCount()).isZero();
        closeAll(holder, waiter);
    }

    /** Cancelling twice: both report the future cancelled, as CompletableFuture's cancel does. */
    @Test
    void cancellingTwiceReportsCancelledTwice() {
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached();
        AcquireContext waiter = detached();
        m.lockAsync(holder, queue).join();
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue);
        assertThat(f.cancel(false)).isTrue();
        assertThat(f.cancel(false)).isTrue();
        assertThat(f).isCancelled();
        closeAll(holder, waiter);
    }

    /**
     * A mutex handed to a waiter whose withdrawal (complete or completeExceptionally from
     * outside) then releases it, while its before-unlock hook throws: released all the same, and
     * the withdrawing call throws the hook's throwable after settling the future.
     */
    @Test
    void withdrawalFromOutsideRethrowsAThrowingHookAfterReleasing() {
        IllegalStateException hookFailure = new IllegalStateException("hook");
        TimeoutException timeout = new TimeoutException("test");
        for (Function<CompletableFuture<LockResult>, Boolean> withdrawal : List.<Function<CompletableFuture<LockResult>, Boolean>>of(
                f -> f.complete(LockResult.BUSY), f -> f.completeExceptionally(timeout))) {
            boolean[] failing = new boolean[1];
            WwMutex m = new WwMutex(cls, () -> {
                if (failing[0]) {
                    throw hookFailure;
                }
            });
            RunQueue queue = new RunQueue();
            AcquireContext holder = detached();
            AcquireContext waiter = detached();
            AcquireContext barger = detached();
            CompletableFuture<LockResult> f = overtaken(m, holder, waiter, barger, queue, queue);
            barger.unlockAll();                          // hands over; the completion waits in the queue
            assertThat(m.holderContext()).isSameAs(waiter);
            failing[0] = true;
            assertThatThrownBy(() -> withdrawal.apply(f)).isSameAs(hookFailure);
            failing[0] = false;
            assertThat(f).isDone();
            assertThat(f.isCompletedExceptionally() ? failure(f) : f.join()).isIn(LockResult.BUSY, timeout);
            assertThat(m.isLocked()).isFalse();
            assertThat(waiter.heldCount()).isZero();
            queue.drain();
            closeAll(holder, waiter, barger);
        }
    }

    /**
     * Queues {@code waiter}'s asynchronous lock of {@code m} (looks on {@code executor}, which
     * {@code queue} runs) behind {@code holder}, and lets {@code barger} overtake it once; the
     * barger's release will hand the mutex over.
     */
    private static CompletableFuture<LockResult> overtaken(WwMutex m, AcquireContext holder, AcquireContext waiter,
            AcquireContext barger, Executor executor, RunQueue queue) {
        m.lockAsync(holder, queue).join();
        CompletableFuture<LockResult> f = m.lockAsync(waiter, executor);
        holder.unlockAll();
        m.lockAsync(barger, queue).join();
        queue.drain();                                   // overtaken: the next release hands over
        assertThat(f).isNotDone();
        return f;
    }

    /**
     * An executor that refuses the hand-off's look while the release of the mutex fails in its
     * before-unlock hook: the future fails with the refusal, which carries the hook's throwable
     * as suppressed, and the mutex is released.
     */
    @Test
    void refusalCarriesAFailedReleaseAsSuppressed() {
        IllegalStateException hookFailure = new IllegalStateException("hook");
        RejectedExecutionException refusal = new RejectedExecutionException("shut down");
        boolean[] refusing = new boolean[1];
        int[] releases = new int[1];
        WwMutex m = new WwMutex(cls, () -> {
            if (refusing[0] && ++releases[0] == 2) {       // the barger's release, then the waiter's
                throw hookFailure;
            }
        });
        RunQueue queue = new RunQueue();
        Executor executor = task -> {
            if (refusing[0]) {
                throw refusal;
            }
            queue.execute(task);
        };
        AcquireContext holder = detached();
        AcquireContext waiter = detached();
        AcquireContext barger = detached();
        CompletableFuture<LockResult> f = overtaken(m, holder, waiter, barger, executor, queue);
        refusing[0] = true;
        barger.unlockAll();                              // hands over; the look is refused
        assertThat(failure(f)).isSameAs(refusal);
        assertThat(refusal.getSuppressed()).containsExactly(hookFailure);
        assertThat(m.isLocked()).isFalse();
        assertThat(waiter.heldCount()).isZero();
        refusing[0] = false;
        closeAll(holder, waiter, barger);
    }

    /**
     * A refused look of a request that was not handed the mutex withdraws it too: here the
     * executor lets another transaction take the freed mutex before it refuses, and the waiter
     * leaves the queue instead of waiting on with a future nobody will complete.
     */
    @Test
    void refusedLookWithdrawsAWaiterThatWasNotHandedTheMutex() {
        WwMutex m = new WwMutex(cls);
        RejectedExecutionException refusal = new RejectedExecutionException("shut down");
        AcquireContext holder = detached();
        AcquireContext waiter = detached();
        AcquireContext barger = detached();
        m.lockAsync(holder, new RunQueue()).join();
        CompletableFuture<LockResult>[] bargerLock = new CompletableFuture[1];
        Executor refusing = task -> {
            if (bargerLock[0] == null) {
                bargerLock[0] = m.lockAsync(barger, new RunQueue());   // the freed mutex is taken
            }
            throw refusal;
        };
        CompletableFuture<LockResult> f = m.lockAsync(waiter, refusing);
        holder.unlockAll();                              // frees it and wakes the waiter to take it
        assertThat(bargerLock[0].join()).isEqualTo(LockResult.ACQUIRED);
        assertThat(failure(f)).isSameAs(refusal);
        assertThat(m.waiterCount()).as("withdrawn").isZero();
        assertThat(m.holderContext()).isSameAs(barger);
        closeAll(holder, waiter, barger);
        assertThat(m.isLocked()).isFalse();
    }
}
