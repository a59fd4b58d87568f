package dev.bufsync.ww;

import static dev.bufsync.ww.WwMutexAsyncTest.detached;
import static dev.bufsync.ww.WwMutexAsyncTest.done;
import static dev.bufsync.ww.WwMutexAsyncTest.failure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.bufsync.ww.WwClass.Algorithm;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The races of {@link AsyncWaiter}, made deterministic: a wake that comes while a look runs, a
 * caller that completes the future while a look runs (below it on its own stack, or in another
 * thread, or after the runner claimed the future), and the failures a withdrawal must report.
 * A look runs foreign code only where it hands other woken waiters to their executors, so the
 * tests stop a look there with a gate: an executor that acts when it is handed a task.
 */
class AsyncWaiterTest {
    private static final Duration SAFETY_NET = Duration.ofSeconds(60);
    private static final VarHandle RUN;

    static {
        try {
            RUN = MethodHandles.privateLookupIn(AsyncWaiter.class, MethodHandles.lookup())
                    .findVarHandle(AsyncWaiter.class, "run", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The run state of {@code w} (AsyncWaiter.IDLE ... DONE). */
    private static int runState(AsyncWaiter w) {
        return (int) RUN.getVolatile(w);
    }

    private static WwClass wwClass(Algorithm algorithm) {
        return WwClass.builder("async-waiter-" + algorithm).algorithm(algorithm).injectBackoff(false).build();
    }


    private static void endAll(AcquireContext... ctxs) {
        for (AcquireContext c : ctxs) {
            c.unlockAll();
            c.close();
        }
    }

    private static void assertFree(WwMutex... ms) {
        for (WwMutex m : ms) {
            assertThat(m.isLocked()).as("%s locked", m).isFalse();
            assertThat(m.waiterCount()).as("%s waiters", m).isZero();
        }
    }

    /** The three ways to complete a lock's future from outside; each withdraws the request. */
    enum Completion {
        CANCEL {
            @Override
            boolean apply(CompletableFuture<LockResult> f) {
                return f.cancel(false);
            }
        },
        COMPLETE {
            @Override
            boolean apply(CompletableFuture<LockResult> f) {
                return f.complete(LockResult.BUSY);
            }
        },
        COMPLETE_EXCEPTIONALLY {
            @Override
            boolean apply(CompletableFuture<LockResult> f) {
                return f.completeExceptionally(new TimeoutException("test"));
            }
        };

        abstract boolean apply(CompletableFuture<LockResult> f);

        /** The future completed by this completion, not by the lock. */
        void assertCompletedBy(CompletableFuture<LockResult> f) {
            switch (this) {
                case CANCEL -> assertThat(f).isCancelled();
                case COMPLETE -> assertThat(done(f)).isEqualTo(LockResult.BUSY);
                case COMPLETE_EXCEPTIONALLY -> assertThat(failure(f)).isInstanceOf(TimeoutException.class);
            }
        }
    }

    /**
     * The look stopped in a gate: x (wounded by o, which waits for x's mutex a) looks, leaves
     * m's queue and grants m to z; handing z's look to its executor runs {@code inGate} in the
     * middle of x's look. Stamps: o, p, x, z, h, oldest first; p holds c.
     */
    private static final class Stopped {
        final WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        final WwMutex a = new WwMutex(cls);
        final WwMutex b = new WwMutex(cls);
        final WwMutex c = new WwMutex(cls);
        final WwMutex m = new WwMutex(cls);
        final RunQueue queue = new RunQueue();
        final AcquireContext o = detached(cls);
        final AcquireContext p = detached(cls);
        final AcquireContext x = detached(cls);
        final AcquireContext z = detached(cls);
        final AcquireContext h = detached(cls);
        final List<Runnable> gated = new ArrayList<>();
        final CompletableFuture<LockResult> fx;
        final CompletableFuture<LockResult> fz;
        final CompletableFuture<LockResult> fo;
        final AsyncWaiter xw;

        Stopped(Runnable inGate) {
            done(b.lockAsync(o, queue));
            done(c.lockAsync(p, queue));
            done(a.lockAsync(x, queue));
            done(m.lockAsync(h, queue));
            fx = m.lockAsync(x, queue);
            xw = x.asyncWaiter;
            fz = m.lockAsync(z, task -> {
                gated.add(task);
                inGate.run();
            });
            h.unlockAll();                               // frees m: x, the first, is to take it
            fo = a.lockAsync(o, queue);                  // wounds x, which holds a
            assertThat(fx).isNotDone();
            assertThat(fo).isNotDone();
        }

        /** Lets z take m, o then a; ends everything and checks that nothing stayed locked. */
        void finish() {
            assertThat(gated).hasSize(1);
            gated.get(0).run();
            assertThat(done(fz)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.holderContext()).isSameAs(z);
            x.unlockAll();                               // a goes to o
            queue.drain();
            assertThat(done(fo)).isEqualTo(LockResult.ACQUIRED);
            o.unlockAll();                               // and on to p, if p asked for it
            queue.drain();
            endAll(o, p, x, z, h);
            queue.drain();
            assertFree(a, b, c, m);
        }
    }

    /**
     * A cancel that runs below the look on the look's own stack (here in the executor the look
     * hands another waiter to; a direct executor is the usual case) returns at once, cancelled,
     * and the look below it ends the request: x leaves the queue, keeps only a, is detached.
     * With {@code wokenFirst}, a wound has asked x to look again before the cancel came.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cancelBelowItsOwnLookReturnsAndTheLookEndsTheRequest(boolean wokenFirst) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            Stopped[] s = new Stopped[1];
            boolean[] cancelled = new boolean[1];
            CompletableFuture<?>[] pWaits = new CompletableFuture<?>[1];
            int[] stateInGate = new int[1];
            s[0] = new Stopped(() -> {
                if (wokenFirst) {
                    pWaits[0] = s[0].a.lockAsync(s[0].p, s[0].queue);   // wounds x again: look again
                }
                stateInGate[0] = runState(s[0].xw);
                cancelled[0] = s[0].fx.cancel(false);
            });
            Stopped t = s[0];
            t.queue.drain();                             // x looks; the gate cancels it meanwhile
            assertThat(stateInGate[0]).isEqualTo(wokenFirst ? AsyncWaiter.RERUN : AsyncWaiter.RUNNING);
            assertThat(cancelled[0]).isTrue();
            assertThat(t.fx).isCancelled();
            assertThat(runState(t.xw)).isEqualTo(AsyncWaiter.DONE);
            assertThat(t.x.heldCount()).isEqualTo(1);    // a only
            t.x.attach();                                // detached
            t.x.detach();
            t.finish();
            if (wokenFirst) {
                assertThat(pWaits[0]).isDone();
            }
        });
    }

    /**
     * A cancel in another thread while the look runs waits for the look to end: it returns with
     * the request ended and the context detached, never while the look is still going.
     */
    @Test
    void cancelWhileALookRunsInAnotherThreadWaitsForIt() throws Exception {
        CountDownLatch inGate = new CountDownLatch(1);
        CountDownLatch open = new CountDownLatch(1);
        Stopped t = new Stopped(() -> {
            inGate.countDown();
            try {
                open.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        try (Actor looker = new Actor("looker"); Actor canceller = new Actor("canceller")) {
            Future<Integer> look = looker.start(t.queue::drain);
            assertThat(inGate.await(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            Future<Boolean> cancelling = canceller.start(() -> {
                boolean cancelled = t.fx.cancel(false);
                t.x.attach();                            // the look has ended: detached
                t.x.detach();
                return cancelled;
            });
            Actor.await("the cancel claims the future and asks the look to end it",
                    () -> runState(t.xw) == AsyncWaiter.RERUN);
            assertThatThrownBy(() -> cancelling.get(100, TimeUnit.MILLISECONDS))
                    .as("cancel returned while the look runs").isInstanceOf(TimeoutException.class);
            open.countDown();
            assertThat(cancelling.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            look.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        }
        assertThat(t.fx).isCancelled();
        assertThat(runState(t.xw)).isEqualTo(AsyncWaiter.DONE);
        assertThat(t.x.heldCount()).isEqualTo(1);
        t.finish();
    }

    /**
     * A wake during the caller's first run (in lockAsync) is not lost: x queues behind h, which
     * it wounds; h's look runs at once (direct executor), backs off and its next stage unlocks
     * m, all inside x's lockAsync; x must look again and take m.
     */
    @Test
    void aWakeDuringTheFirstRunIsNotLost() {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(Algorithm.WOUND_WAIT);
            WwMutex a = new WwMutex(cls);
            WwMutex m = new WwMutex(cls);
            WwMutex n = new WwMutex(cls);
            RunQueue queue = new RunQueue();
            AcquireContext x = detached(cls);
            AcquireContext h = detached(cls);
            AcquireContext k = detached(cls);
            done(a.lockAsync(x, queue));
            done(m.lockAsync(h, queue));
            done(n.lockAsync(k, queue));
            CompletableFuture<LockResult> fh = n.lockAsync(h, Runnable::run);
            CompletableFuture<Void> hBacksOff = fh.handle((r, e) -> {
                h.unlockAll();                           // lets m go while x is still in lockAsync
                return null;
            });
            CompletableFuture<LockResult> fx = m.lockAsync(x, queue);
            assertThat(failure(fh)).isInstanceOf(BackoffException.class);
            done(hBacksOff);
            queue.drain();
            assertThat(done(fx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.holderContext()).isSameAs(x);
            endAll(x, h, k);
            queue.drain();
            assertFree(a, m, n);
        });
    }

    /**
     * The runner claimed the future (x took m) and, before it completes it, a back-off injection
     * unlocks m again, whose before-unlock hook completes the future from outside: the outside
     * completion loses (returns {@code false}) and the future fails with the injected back-off.
     */
    @ParameterizedTest
    @EnumSource(Completion.class)
    void completingAfterTheRunnerClaimedLoses(Completion completion) throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        List<Boolean> results = new ArrayList<>();
        @SuppressWarnings("unchecked")
        CompletableFuture<LockResult>[] fx = new CompletableFuture[1];
        boolean[] armed = new boolean[1];
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex m = new WwMutex(cls, () -> {
            if (armed[0]) {
                results.add(completion.apply(fx[0]));
            }
        });
        RunQueue queue = new RunQueue();
        AcquireContext h = detached(cls);
        AcquireContext x = cls.beginTransferable();
        x.injectBackoff(true);
        a.lock(x);
        for (long i = x.stamp() & 0xf; i > 0; i--) {   // count the injection down to the next lock
            b.lock(x);
            b.unlock();
        }
        x.detach();
        done(m.lockAsync(h, queue));
        fx[0] = m.lockAsync(x, queue);
        h.unlockAll();
        armed[0] = true;
        queue.drain();                                   // x takes m: injected back-off, m unlocked
        armed[0] = false;
        assertThat(results).containsExactly(false);
        assertThat(failure(fx[0])).isInstanceOfSatisfying(BackoffException.class,
                e -> assertThat(e.reason()).isEqualTo(BackoffException.Reason.INJECTED));
        assertThat(x.heldCount()).isEqualTo(1);          // a only
        endAll(x, h);
        assertFree(a, b, m);
    }

    /**
     * Completed from outside while queued: the completion wins and reports it; later
     * completions lose, and a second cancel still says the future is cancelled.
     */
    @ParameterizedTest
    @EnumSource(Completion.class)
    void theFirstCompletionFromOutsideWins(Completion completion) {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext h = detached(cls);
        AcquireContext x = detached(cls);
        done(m.lockAsync(h, queue));
        CompletableFuture<LockResult> fx = m.lockAsync(x, queue);
        assertThat(completion.apply(fx)).isTrue();
        completion.assertCompletedBy(fx);
        assertThat(m.waiterCount()).isZero();
        assertThat(fx.complete(LockResult.ACQUIRED)).isFalse();
        assertThat(fx.completeExceptionally(new IllegalStateException())).isFalse();
        assertThat(fx.cancel(false)).isEqualTo(completion == Completion.CANCEL);
        completion.assertCompletedBy(fx);
        endAll(h, x);
        queue.drain();
        assertFree(m);
    }

    /** After the lock completed, every completion from outside loses and changes nothing. */
    @Test
    void completionsAfterTheLockLose() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        AcquireContext x = detached(cls);
        CompletableFuture<LockResult> fx = m.lockAsync(x, new RunQueue());
        for (Completion c : Completion.values()) {
            assertThat(c.apply(fx)).as("%s", c).isFalse();
        }
        assertThat(done(fx)).isEqualTo(LockResult.ACQUIRED);
        assertThat(m.holderContext()).isSameAs(x);
        endAll(x);
        assertFree(m);
    }

    /**
     * m was handed to x (overtaken once by a barger, so the barger's release hands over), and
     * x's look waits in the executor. Returns x's future; {@code hook[0]} is armed by the caller.
     */
    private record HandedOver(WwMutex m, RunQueue queue, AcquireContext h, AcquireContext x,
            AcquireContext barger, CompletableFuture<LockResult> fx) {
        static HandedOver to(WwClass cls, Runnable hook, Executor xExecutor, RunQueue queue) {
            WwMutex m = new WwMutex(cls, hook);
            AcquireContext h = detached(cls);
            AcquireContext x = detached(cls);
            AcquireContext barger = detached(cls);
            done(m.lockAsync(h, queue));
            CompletableFuture<LockResult> fx = m.lockAsync(x, xExecutor);
            h.unlockAll();                               // frees m: x is to take it
            done(m.lockAsync(barger, queue));
            queue.drain();                               // x finds it taken: hand-off next
            return new HandedOver(m, queue, h, x, barger, fx);
        }
    }

    /**
     * A before-unlock hook that throws while a completion from outside releases the mutex handed
     * over: the mutex is released all the same, and the completion throws the hook's throwable
     * after completing the future.
     */
    @ParameterizedTest
    @EnumSource(Completion.class)
    void aCompletionFromOutsideRethrowsAThrowingHook(Completion completion) {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        IllegalStateException hookFailure = new IllegalStateException("hook");
        boolean[] armed = new boolean[1];
        RunQueue queue = new RunQueue();
        HandedOver s = HandedOver.to(cls, () -> {
            if (armed[0]) {
                throw hookFailure;
            }
        }, queue, queue);
        s.barger().unlockAll();                          // hands m to x
        assertThat(s.m().holderContext()).isSameAs(s.x());
        armed[0] = true;
        assertThatThrownBy(() -> completion.apply(s.fx())).isSameAs(hookFailure);
        armed[0] = false;
        completion.assertCompletedBy(s.fx());
        assertThat(s.x().heldCount()).isZero();
        queue.drain();
        endAll(s.h(), s.x(), s.barger());
        assertFree(s.m());
    }

    /**
     * The executor refuses the look of a waiter that was handed the mutex, and the mutex's hook
     * throws as the refusing thread releases it: the future fails with the refusal, which carries
     * the hook's throwable as suppressed; nothing stays locked.
     */
    @Test
    void aRefusalCarriesTheFailureOfTheRelease() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        IllegalStateException hookFailure = new IllegalStateException("hook");
        RejectedExecutionException refusal = new RejectedExecutionException("shut down");
        AcquireContext[] throwFor = new AcquireContext[1];
        boolean[] refuse = new boolean[1];
        RunQueue queue = new RunQueue();
        WwMutex[] m = new WwMutex[1];
        HandedOver s = HandedOver.to(cls, () -> {
            if (throwFor[0] != null && m[0].holderContext() == throwFor[0]) {
                throw hookFailure;
            }
        }, task -> {
            if (refuse[0]) {
                throw refusal;
            }
            queue.execute(task);
        }, queue);
        m[0] = s.m();
        refuse[0] = true;
        throwFor[0] = s.x();
        s.barger().unlockAll();                          // hands m to x; the refusal releases it
        assertThat(failure(s.fx())).isSameAs(refusal);
        assertThat(refusal.getSuppressed()).containsExactly(hookFailure);
        assertThat(s.x().heldCount()).isZero();
        throwFor[0] = null;
        queue.drain();
        endAll(s.h(), s.x(), s.barger());
        assertFree(s.m());
    }

    /**
     * A wake during the first run, and the executor refuses the look it schedules: the refusing
     * thread withdraws the request even though the mutex was taken meanwhile by a barger (a look
     * that still waited would leave the request queued, its future never completed).
     */
    @Test
    void aRefusedLookLeavesTheQueueEvenIfTheMutexWasTaken() {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(Algorithm.WOUND_WAIT);
            WwMutex a = new WwMutex(cls);
            WwMutex m = new WwMutex(cls);
            WwMutex n = new WwMutex(cls);
            RunQueue queue = new RunQueue();
            AcquireContext x = detached(cls);
            AcquireContext h = detached(cls);
            AcquireContext k = detached(cls);
            AcquireContext barger = detached(cls);
            done(a.lockAsync(x, queue));
            done(m.lockAsync(h, queue));
            done(n.lockAsync(k, queue));
            CompletableFuture<LockResult> fh = n.lockAsync(h, Runnable::run);
            CompletableFuture<LockResult> taken = fh.handle((r, e) -> {
                h.unlockAll();                           // wakes x, still in lockAsync
                return m.lockAsync(barger, queue).join();
            });
            RejectedExecutionException refusal = new RejectedExecutionException("shut down");
            CompletableFuture<LockResult> fx = m.lockAsync(x, task -> {
                throw refusal;
            });
            assertThat(done(taken)).isEqualTo(LockResult.ACQUIRED);
            assertThat(failure(fx)).isSameAs(refusal);
            assertThat(m.waiterCount()).isZero();
            assertThat(m.holderContext()).isSameAs(barger);
            assertThat(x.heldCount()).isEqualTo(1);      // a only
            endAll(x, h, k, barger);
            queue.drain();
            assertFree(a, m, n);
        });
    }

    /**
     * The future is completed behind the request's back (obtrude, from the before-unlock hook
     * that the withdrawal's release runs): the completion from outside reports that it did not
     * complete it.
     */
    @ParameterizedTest
    @EnumSource(Completion.class)
    void aCompletionFromOutsideReportsAnObtrudedResult(Completion completion) {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        @SuppressWarnings("unchecked")
        CompletableFuture<LockResult>[] obtrude = new CompletableFuture[1];
        RunQueue queue = new RunQueue();
        HandedOver s = HandedOver.to(cls, () -> {
            if (obtrude[0] != null) {
                obtrude[0].obtrudeValue(LockResult.ALREADY_HELD);
            }
        }, queue, queue);
        s.barger().unlockAll();                          // hands m to x
        obtrude[0] = s.fx();
        assertThat(completion.apply(s.fx())).isFalse();
        obtrude[0] = null;
        assertThat(done(s.fx())).isEqualTo(LockResult.ALREADY_HELD);
        assertThat(s.x().heldCount()).isZero();
        queue.drain();
        endAll(s.h(), s.x(), s.barger());
        assertFree(s.m());
    }

    /**
     * A look that throws (in production: out of memory while completing the future) ends the
     * request's looks, so a cancel that comes later returns at once instead of waiting for a look
     * that will never end. The throwing look is simulated with a waiter without a context.
     */
    @Test
    void aCancelAfterALookThrewReturnsAtOnce() {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwMutex m = new WwMutex(wwClass(Algorithm.WOUND_WAIT));
            AsyncWaiter w = new AsyncWaiter(m, null, new RunQueue(), false);
            RUN.setVolatile(w, AsyncWaiter.SCHEDULED);
            assertThatThrownBy(w::run).isInstanceOf(NullPointerException.class);
            assertThat(runState(w)).isEqualTo(AsyncWaiter.DONE);
            assertThat(w.future.cancel(false)).isTrue();
            assertThat(w.future).isCancelled();
            assertFree(m);
        });
    }
}
