package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.bufsync.ww.WwClass.Algorithm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The asynchronous locks ({@link WwMutex#lockAsync}, {@link WwMutex#lockSlowAsync}) in the style
 * of the kernel's test-ww_mutex ladder: ABBA, a cycle and stress with back-off injection, for both
 * algorithms, where every transaction is a chain of futures. The ABBA and cycle runs happen on
 * the test thread alone ({@link RunQueue}): a lock that parked a thread would hang them.
 * Cancellation, completion from outside and a refusing executor must leave nothing locked.
 */
class WwMutexAsyncTest {
    private static final Duration SAFETY_NET = Duration.ofSeconds(60);

    private static WwClass wwClass(Algorithm algorithm, boolean inject) {
        return WwClass.builder("async-" + algorithm).algorithm(algorithm).injectBackoff(inject).build();
    }

    /** A transferable context, detached from the test thread so that any thread may carry it. */
    static AcquireContext detached(WwClass cls) {
        AcquireContext ctx = cls.beginTransferable();
        ctx.detach();
        return ctx;
    }

    static <T> T done(CompletableFuture<T> f) {
        assertThat(f).isDone();
        return f.join();
    }

    static Throwable failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        try {
            f.join();
            throw new AssertionError("not failed");
        } catch (CompletionException e) {
            return e.getCause();
        }
    }

    /** Closing a transaction at the end of its chain; what it held is released. */
    private static CompletableFuture<Void> closing(CompletableFuture<Void> locked, AcquireContext ctx) {
        return locked.thenRun(() -> {
            ctx.unlockAll();
            ctx.close();
        });
    }

    private static void assertFree(WwMutex... ms) {
        for (WwMutex m : ms) {
            assertThat(m.isLocked()).as("%s locked", m).isFalse();
            assertThat(m.waiterCount()).as("%s waiters", m).isZero();
        }
    }

    /**
     * The done-when of the feature: two transactions lock A,B and B,A, each holding its first
     * mutex when it asks for its second; the younger backs off, waits for its contended mutex
     * asynchronously, and both complete, with every step on the test thread.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaCompletesOnOneThread(Algorithm algorithm) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(algorithm, false);
            WwMutex a = new WwMutex(cls);
            WwMutex b = new WwMutex(cls);
            RunQueue queue = new RunQueue();
            AcquireContext older = detached(cls);
            AcquireContext younger = detached(cls);
            assertThat(done(a.lockAsync(older, queue))).isEqualTo(LockResult.ACQUIRED);
            assertThat(done(b.lockAsync(younger, queue))).isEqualTo(LockResult.ACQUIRED);

            AtomicInteger backoffs = new AtomicInteger();
            CompletableFuture<Void> first = closing(AsyncLoop.lockAll(older, List.of(a, b), queue,
                    backoffs::incrementAndGet), older);
            CompletableFuture<Void> second = closing(AsyncLoop.lockAll(younger, List.of(b, a), queue,
                    backoffs::incrementAndGet), younger);
            assertThat(first).isNotDone();               // queued on B, no thread parked for it
            queue.drain();

            done(first);
            done(second);
            assertThat(backoffs).hasValue(1);            // the younger, once; the older never
            assertThat(younger.backoffs()).isEqualTo(1);
            assertThat(older.backoffs()).isZero();
            assertThat(queue.ran()).isPositive();        // hand-offs went through the executor
            assertFree(a, b);
        });
    }

    /**
     * ABBA with an executor that runs each task at once, in the thread that submits it: the
     * younger's unlock hands B to the older, whose whole remaining chain (lock, unlock, close)
     * then runs inside that unlock, on the test thread.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaWithADirectExecutor(Algorithm algorithm) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(algorithm, false);
            WwMutex a = new WwMutex(cls);
            WwMutex b = new WwMutex(cls);
            java.util.concurrent.Executor direct = Runnable::run;
            AcquireContext older = detached(cls);
            AcquireContext younger = detached(cls);
            done(a.lockAsync(older, direct));
            done(b.lockAsync(younger, direct));
            CompletableFuture<Void> first = closing(AsyncLoop.lockAll(older, List.of(a, b), direct, () -> { }), older);
            CompletableFuture<Void> second = closing(AsyncLoop.lockAll(younger, List.of(b, a), direct, () -> { }), younger);
            done(first);
            done(second);
            assertThat(younger.backoffs()).isEqualTo(1);
            assertFree(a, b);
        });
    }

    /**
     * A before-unlock hook that throws while a cancel releases the mutex handed over: the mutex
     * is released all the same and cancel throws the hook's throwable, after cancelling.
     */
    @Test
    void cancelRethrowsAThrowingHookAfterReleasing() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        IllegalStateException hookFailure = new IllegalStateException("hook");
        AcquireContext[] releasing = new AcquireContext[1];
        WwMutex m = new WwMutex(cls, () -> {
            if (releasing[0] != null) {
                throw hookFailure;
            }
        });
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached(cls);
        AcquireContext waiter = detached(cls);
        AcquireContext barger = detached(cls);
        done(m.lockAsync(holder, queue));
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue);
        holder.unlockAll();
        done(m.lockAsync(barger, queue));
        queue.drain();                                   // overtaken: the next release hands over
        barger.unlockAll();
        assertThat(m.holderContext()).isSameAs(waiter);
        releasing[0] = waiter;
        assertThatThrownBy(() -> f.cancel(false)).isSameAs(hookFailure);
        assertThat(f).isCancelled();
        assertThat(waiter.heldCount()).isZero();
        releasing[0] = null;
        queue.drain();
        assertFree(m);
        for (AcquireContext c : List.of(holder, waiter, barger)) {
            c.close();
        }
    }

    /** The kernel's test_cycle, asynchronously: n transactions each hold one mutex and want the next. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void cycleResolvesOnOneThread(Algorithm algorithm) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            int n = 5;
            WwClass cls = wwClass(algorithm, false);
            List<WwMutex> ms = new ArrayList<>();
            List<AcquireContext> ctxs = new ArrayList<>();
            RunQueue queue = new RunQueue();
            for (int i = 0; i < n; i++) {
                ms.add(new WwMutex(cls));
                ctxs.add(detached(cls));
                done(ms.get(i).lockAsync(ctxs.get(i), queue));
            }
            List<CompletableFuture<Void>> all = new ArrayList<>();
            AtomicInteger backoffs = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                List<WwMutex> order = List.of(ms.get(i), ms.get((i + 1) % n));
                all.add(closing(AsyncLoop.lockAll(ctxs.get(i), order, queue, backoffs::incrementAndGet),
                        ctxs.get(i)));
            }
            queue.drain();
            for (CompletableFuture<Void> f : all) {
                done(f);
            }
            assertThat(backoffs).hasPositiveValue();
            assertThat(ctxs.get(0).backoffs()).isZero();  // the oldest never backs off
            assertFree(ms.toArray(WwMutex[]::new));
        });
    }

    /**
     * Many transactions over few mutexes, with back-off injection, all on the test thread: every
     * one completes, each holds its whole set exclusively when its chain says so.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void stressWithInjectionOnOneThread(Algorithm algorithm) {
        assertTimeoutPreemptively(SAFETY_NET, () -> {
            WwClass cls = wwClass(algorithm, true);
            List<WwMutex> ms = mutexes(cls, 8);
            RunQueue queue = new RunQueue();
            AtomicReferenceArray<AcquireContext> inside = new AtomicReferenceArray<>(ms.size());
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < 200; t++) {
                all.add(transaction(cls, ms, queue, inside));
                if (t % 7 == 0) {
                    queue.drain();                       // some finish while others start
                }
            }
            queue.drain();
            for (CompletableFuture<Void> f : all) {
                done(f);
            }
            assertThat(cls.stats().injected()).isPositive();
            assertFree(ms.toArray(WwMutex[]::new));
        });
    }

    /** The same with a thread pool: real concurrency between the chains and the hand-offs. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void stressWithInjectionOnAPool(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm, true);
        List<WwMutex> ms = mutexes(cls, 16);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            AtomicReferenceArray<AcquireContext> inside = new AtomicReferenceArray<>(ms.size());
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int t = 0; t < 400; t++) {
                all.add(CompletableFuture.supplyAsync(() -> transaction(cls, ms, pool, inside), pool)
                        .thenCompose(f -> f));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(SAFETY_NET.toSeconds(), TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(cls.stats().injected()).isPositive();
        assertFree(ms.toArray(WwMutex[]::new));
    }

    private static List<WwMutex> mutexes(WwClass cls, int n) {
        List<WwMutex> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ms.add(new WwMutex(cls));
        }
        return ms;
    }

    /**
     * One transaction over 4 distinct random mutexes in random order; once all are held it marks
     * each as its own in {@code inside} (failing if another transaction is there), then leaves.
     */
    private static CompletableFuture<Void> transaction(WwClass cls, List<WwMutex> ms, java.util.concurrent.Executor executor,
            AtomicReferenceArray<AcquireContext> inside) {
        List<Integer> picks = new ArrayList<>();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (picks.size() < 4) {
            int i = random.nextInt(ms.size());
            if (!picks.contains(i)) {
                picks.add(i);
            }
        }
        List<WwMutex> order = picks.stream().map(ms::get).toList();
        AcquireContext ctx = detached(cls);
        return AsyncLoop.lockAll(ctx, order, executor, () -> { }).thenRun(() -> {
            for (int i : picks) {
                if (!inside.compareAndSet(i, null, ctx)) {
                    throw new AssertionError("mutex " + i + " held by " + inside.get(i) + " and " + ctx);
                }
            }
            for (int i : picks) {
                inside.set(i, null);
            }
            ctx.unlockAll();
            ctx.close();
        });
    }

    /** Cancelled while queued: the waiter leaves the queue, the context is usable, nothing is held. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void cancelWhileQueuedLeavesTheQueue(Algorithm algorithm) {
        WwClass cls = wwClass(algorithm, false);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached(cls);
        AcquireContext waiter = detached(cls);
        done(m.lockAsync(holder, queue));
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue);
        assertThat(m.waiterCount()).isEqualTo(1);
        assertThatThrownBy(waiter::attach).isInstanceOf(WwMisuseException.class)
                .extracting(e -> ((WwMisuseException) e).rule()).isEqualTo(WwMisuseException.Rule.CONCURRENT_USE);

        assertThat(f.cancel(false)).isTrue();
        assertThat(f).isCancelled();
        assertThat(m.waiterCount()).isZero();
        assertThat(waiter.heldCount()).isZero();
        holder.unlockAll();
        assertThat(m.isLocked()).isFalse();              // not handed to the cancelled request
        waiter.attach();                                  // detached again: usable
        waiter.close();
        holder.close();
        queue.drain();
        assertFree(m);
    }

    /**
     * The race of cancellation with hand-off, made deterministic: the mutex is handed to the
     * asynchronous waiter (it was overtaken once by a barger, so the barger's release hands
     * over), and its completion waits in the executor; a cancel then must release the mutex,
     * which goes on to the next waiter.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void cancelAfterHandOffReleasesTheMutex(Algorithm algorithm) {
        WwClass cls = wwClass(algorithm, false);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached(cls);
        AcquireContext first = detached(cls);
        AcquireContext second = detached(cls);
        AcquireContext barger = detached(cls);
        done(m.lockAsync(holder, queue));
        CompletableFuture<LockResult> f1 = m.lockAsync(first, queue);
        CompletableFuture<LockResult> f2 = m.lockAsync(second, queue);
        holder.unlockAll();                              // frees it, wakes first to take it
        assertThat(done(m.lockAsync(barger, queue))).isEqualTo(LockResult.ACQUIRED);
        queue.drain();                                   // first finds it taken: hand-off next
        assertThat(f1).isNotDone();
        barger.unlockAll();                              // hands it to first
        assertThat(queue.pending()).isEqualTo(1);        // first's completion, held back
        assertThat(m.holderContext()).isSameAs(first);   // handed over before it ran
        assertThat(f1).isNotDone();

        assertThat(f1.cancel(false)).isTrue();
        assertThat(first.heldCount()).isZero();
        assertThat(m.isLocked()).isFalse();              // released; second woken to take it
        queue.drain();                                   // first's stale look does nothing
        assertThat(f1).isCancelled();
        assertThat(done(f2)).isEqualTo(LockResult.ACQUIRED);
        second.unlockAll();
        for (AcquireContext c : List.of(holder, first, second, barger)) {
            c.close();
        }
        assertFree(m);
    }

    /** Once the lock is taken, cancel loses: the future completes with the lock held. */
    @Test
    void cancelAfterCompletionLoses() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        WwMutex m = new WwMutex(cls);
        AcquireContext ctx = detached(cls);
        CompletableFuture<LockResult> f = m.lockAsync(ctx, new RunQueue());
        assertThat(f.cancel(false)).isFalse();
        assertThat(done(f)).isEqualTo(LockResult.ACQUIRED);
        assertThat(m.holderContext()).isSameAs(ctx);
        ctx.unlockAll();
        ctx.close();
    }

    /** A timeout (completeExceptionally from outside, as orTimeout does) withdraws like cancel. */
    @Test
    void completingFromOutsideWithdraws() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached(cls);
        AcquireContext waiter = detached(cls);
        done(m.lockAsync(holder, queue));
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue);
        assertThat(f.completeExceptionally(new TimeoutException("test"))).isTrue();
        assertThat(failure(f)).isInstanceOf(TimeoutException.class);
        assertThat(m.waiterCount()).isZero();
        holder.unlockAll();
        assertFree(m);
        holder.close();
        waiter.close();
    }

    /** orTimeout bounds an asynchronous wait: the request is withdrawn when the time runs out. */
    @Test
    void orTimeoutWithdraws() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE, false);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext holder = detached(cls);
        AcquireContext waiter = detached(cls);
        done(m.lockAsync(holder, queue));
        CompletableFuture<LockResult> f = m.lockAsync(waiter, queue).orTimeout(20, TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> f.get(SAFETY_NET.toSeconds(), TimeUnit.SECONDS))
                .hasCauseInstanceOf(TimeoutException.class);
        assertThat(m.waiterCount()).isZero();            // withdrawn by the timeout
        assertThat(m.holderContext()).isSameAs(holder);
        waiter.attach();                                  // detached again: usable
        waiter.close();
        holder.unlockAll();
        holder.close();
        queue.drain();
        assertFree(m);
    }

    /** An executor that refuses the completion: the future fails with the refusal, nothing stays locked. */
    @Test
    void refusingExecutorLeavesNothingLocked() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        WwMutex m = new WwMutex(cls);
        AcquireContext holder = detached(cls);
        AcquireContext waiter = detached(cls);
        done(m.lockAsync(holder, new RunQueue()));
        CompletableFuture<LockResult> f = m.lockAsync(waiter, task -> {
            throw new RejectedExecutionException("shut down");
        });
        holder.unlockAll();                              // hands over, then the executor refuses
        assertThat(failure(f)).isInstanceOf(RejectedExecutionException.class);
        assertThat(waiter.heldCount()).isZero();
        assertFree(m);
        holder.close();
        waiter.close();
    }

    /**
     * Wound-wait: a younger transaction queued asynchronously elsewhere is wounded by an older one
     * that waits for a mutex it holds; its pending lock fails with the back-off at once, instead
     * of waiting for the third holder.
     */
    @Test
    void woundReachesAQueuedAsyncWaiter() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex c = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        AcquireContext older = detached(cls);
        AcquireContext younger = detached(cls);
        AcquireContext third = detached(cls);
        done(a.lockAsync(older, queue));
        done(b.lockAsync(younger, queue));
        done(c.lockAsync(third, queue));
        CompletableFuture<LockResult> youngerWaits = c.lockAsync(younger, queue);
        CompletableFuture<LockResult> olderWaits = b.lockAsync(older, queue);
        queue.drain();
        assertThat(failure(youngerWaits)).isInstanceOfSatisfying(BackoffException.class, e -> {
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(older.stamp());
        });
        assertThat(olderWaits).isNotDone();
        younger.unlockAll();
        queue.drain();
        assertThat(done(olderWaits)).isEqualTo(LockResult.ACQUIRED);
        for (AcquireContext ctx : List.of(older, younger, third)) {
            ctx.unlockAll();
            ctx.close();
        }
        assertFree(a, b, c);
    }

    /** The rules of a lock apply; a thread-bound context cannot lock asynchronously. */
    @Test
    void misuse() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        try (AcquireContext bound = cls.begin()) {
            assertThatThrownBy(() -> m.lockAsync(bound, queue)).isInstanceOf(WwMisuseException.class)
                    .hasMessageContaining("beginTransferable");
        }
        AcquireContext ctx = detached(cls);
        assertThatThrownBy(() -> m.lockSlowAsync(ctx, queue)).isInstanceOf(WwMisuseException.class)
                .extracting(e -> ((WwMisuseException) e).rule()).isEqualTo(WwMisuseException.Rule.SLOW_WITHOUT_BACKOFF);
        ctx.attach();                                    // a failed check left it detached
        ctx.detach();
        ctx.acquireDone();
        assertThatThrownBy(() -> m.lockAsync(ctx, queue)).isInstanceOf(WwMisuseException.class)
                .extracting(e -> ((WwMisuseException) e).rule()).isEqualTo(WwMisuseException.Rule.LOCK_AFTER_DONE);
        ctx.close();
        assertFree(m);
    }

    /** A transaction that moves to a virtual thread midway: async lock, then sync locks there. */
    @Test
    void asyncThenSyncOnAnotherThread() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT, false);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        AcquireContext ctx = detached(cls);
        try (ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Thread> carrier = a.lockAsync(ctx, vts).thenApplyAsync(held -> {
                ctx.attach();
                try {
                    b.lock(ctx);
                } catch (BackoffException e) {
                    throw new AssertionError(e);
                }
                assertThat(a.owner()).isSameAs(Thread.currentThread());  // dumps show the carrier
                ctx.unlockAll();
                ctx.close();
                return Thread.currentThread();
            }, vts);
            assertThat(carrier.get(SAFETY_NET.toSeconds(), TimeUnit.SECONDS).isVirtual()).isTrue();
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
        assertFree(a, b);
    }
}
