package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Unit tests of {@link Fence} and {@link Signaller}: ports of the kernel's {@code st-dma-fence.c}
 * (one test per kernel test), then callbacks, waits, deadlines, ordering and interop.
 */
class FenceTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private static Signaller mock() {
        return FenceContext.create("mock").next();
    }

    @AfterEach
    void restoreHandlers() {
        Fences.setCallbackExceptionHandler(null);
    }

    // ------------------------------------------------------------ st-dma-fence.c

    /** The kernel's sanitycheck: a fence can be created, given a callback, and signalled. */
    @Test
    void sanitycheck() {
        Signaller s = mock();
        assertThat(s.fence().addCallback(f -> { })).isTrue();
        s.signal();
        assertThat(s.fence().isSignaled()).isTrue();
    }

    /** The kernel's test_signaling: pending at creation, signalled by the first signal, the second fails. */
    @Test
    void testSignaling() {
        Signaller s = mock();
        Fence f = s.fence();
        assertThat(f.isSignaled()).isFalse();
        assertThat(s.trySignal()).isTrue();
        assertThat(f.isSignaled()).isTrue();
        assertThat(s.trySignal()).isFalse();
    }

    /** The kernel's test_add_callback: a callback added to a pending fence runs on signal. */
    @Test
    void testAddCallback() {
        Signaller s = mock();
        AtomicReference<Fence> seen = new AtomicReference<>();
        assertThat(s.fence().addCallback(seen::set)).isTrue();
        assertThat(seen).hasNullValue();
        s.signal();
        assertThat(seen).hasValue(s.fence());
    }

    /** The kernel's test_late_add_callback: adding to a signalled fence fails and the callback never runs. */
    @Test
    void testLateAddCallback() {
        Signaller s = mock();
        s.signal();
        AtomicInteger runs = new AtomicInteger();
        assertThat(s.fence().addCallback(f -> runs.incrementAndGet())).isFalse();
        assertThat(s.fence().addCallback(f -> runs.incrementAndGet(), Runnable::run)).isFalse();
        assertThat(runs).hasValue(0);
    }

    /** The kernel's test_rm_callback: a removed callback does not run. */
    @Test
    void testRmCallback() {
        Signaller s = mock();
        AtomicInteger runs = new AtomicInteger();
        FenceCallback cb = f -> runs.incrementAndGet();
        assertThat(s.fence().addCallback(cb)).isTrue();
        assertThat(s.fence().removeCallback(cb)).isTrue();
        s.signal();
        assertThat(runs).hasValue(0);
    }

    /** The kernel's test_late_rm_callback: removing a callback after the signal reports false. */
    @Test
    void testLateRmCallback() {
        Signaller s = mock();
        AtomicInteger runs = new AtomicInteger();
        FenceCallback cb = f -> runs.incrementAndGet();
        assertThat(s.fence().addCallback(cb)).isTrue();
        s.signal();
        assertThat(s.fence().removeCallback(cb)).isFalse();
        assertThat(runs).hasValue(1);
    }

    /** The kernel's test_status: status is pending before the signal and signalled after. */
    @Test
    void testStatus() {
        Signaller s = mock();
        assertThat(s.fence().status()).isEqualTo(Fence.Status.PENDING);
        s.signal();
        assertThat(s.fence().status()).isEqualTo(Fence.Status.SIGNALED);
        assertThat(s.fence().error()).isNull();
    }

    /** The kernel's test_error: an error set before the signal is invisible until the signal. */
    @Test
    void testError() {
        Signaller s = mock();
        IOException eio = new IOException("EIO");
        s.setError(eio);
        assertThat(s.fence().status()).isEqualTo(Fence.Status.PENDING);
        assertThat(s.fence().error()).isNull();
        s.signal();
        assertThat(s.fence().status()).isEqualTo(Fence.Status.FAILED);
        assertThat(s.fence().error()).isSameAs(eio);
    }

    /** The kernel's test_wait: a zero-timeout wait reports pending before the signal and done after. */
    @Test
    void testWait() throws InterruptedException {
        Signaller s = mock();
        assertThat(s.fence().await(Duration.ZERO)).isFalse();
        s.signal();
        assertThat(s.fence().await(Duration.ZERO)).isTrue();
    }

    /** The kernel's test_wait_timeout: a short wait times out; a longer one sees a timer's signal. */
    @Test
    void testWaitTimeout() throws Exception {
        Signaller s = mock();
        long start = System.nanoTime();
        assertThat(s.fence().await(Duration.ofMillis(1))).isFalse();
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1));
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            timer.schedule((Runnable) s::signal, 1, TimeUnit.MILLISECONDS);
            assertThat(s.fence().await(PATIENCE)).isTrue();
        } finally {
            timer.shutdownNow();
        }
    }

    /** The kernel's test_stub: the stub is always signalled (64 times over). */
    @Test
    void testStub() {
        for (int i = 0; i < 64; i++) {
            Fence stub = Fences.stub();
            assertThat(stub.isSignaled()).isTrue();
            assertThat(stub.status()).isEqualTo(Fence.Status.SIGNALED);
            assertThat(stub.context()).isZero();
            assertThat(stub).isSameAs(Fences.stub());
        }
    }

    /**
     * The kernel's race_signal_callback: two threads each publish their own fence, add a callback to
     * the other's and signal their own (before or after adding); a callback that was added must
     * always run, exactly once.
     */
    @Test
    void raceSignalCallback() throws Exception {
        for (boolean signalBeforeAdd : new boolean[] {true, false}) {
            AtomicReferenceArray<Fence> published = new AtomicReferenceArray<>(2);
            CyclicBarrier start = new CyclicBarrier(2);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<long[]>> results = new ArrayList<>();
                for (int id = 0; id < 2; id++) {
                    int me = id;
                    results.add(pool.submit(() -> raceLoop(me, published, signalBeforeAdd, start)));
                }
                long passes = 0;
                for (Future<long[]> r : results) {
                    long[] passesMisses = r.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                    passes += passesMisses[0];
                }
                assertThat(passes).isPositive();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * One thread of raceSignalCallback: 150 ms of passes, counted from when both threads run (a
     * deadline set before the pool's threads existed could pass before either ran on a loaded
     * machine), and at least one pass; returns {passes, misses}.
     */
    private static long[] raceLoop(int me, AtomicReferenceArray<Fence> published, boolean signalBeforeAdd,
            CyclicBarrier start) throws Exception {
        FenceContext context = FenceContext.create("race-" + me);
        start.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(150);
        long passes = 0;
        long misses = 0;
        do {
            Signaller own = context.next();
            published.set(me, own.fence());
            Fence peer;
            do {
                peer = published.get(1 - me);
            } while (peer == null && System.nanoTime() - deadline < 0);
            if (signalBeforeAdd) {
                own.signal();
            }
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch ran = new CountDownLatch(1);
            boolean added = peer != null && peer.addCallback(f -> {
                runs.incrementAndGet();
                ran.countDown();
            });
            if (!signalBeforeAdd) {
                own.signal();
            }
            if (added) {
                assertThat(peer.await(PATIENCE)).isTrue();
                assertThat(ran.await(PATIENCE.toSeconds(), TimeUnit.SECONDS))
                        .as("callback not seen on thread %d, pass %d", me, passes).isTrue();
                assertThat(runs).hasValue(1);
            } else {
                misses++;
                assertThat(runs).hasValue(0);
            }
            published.set(me, null);
            passes++;
        } while (System.nanoTime() - deadline < 0);
        return new long[] {passes, misses};
    }

    // ------------------------------------------------------------ signalling misuse

    /** A second signal throws IllegalStateException naming the fence and changes nothing. */
    @Test
    void doubleSignal_IllegalStateException() {
        Signaller s = mock();
        s.signal();
        long ts = s.fence().timestamp();
        assertThatThrownBy(s::signal).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("signal on an already signaled fence").hasMessageContaining("mock#");
        assertThatThrownBy(() -> s.signal(new IOException())).isExactlyInstanceOf(IllegalStateException.class);
        assertThat(s.trySignal(new IOException())).isFalse();
        assertThat(s.fence().error()).isNull();
        assertThat(s.fence().timestamp()).isEqualTo(ts);
    }

    /** Setting an error after the signal throws IllegalStateException and the error is dropped. */
    @Test
    void errorAfterSignal_IllegalStateException() {
        Signaller s = mock();
        s.signal();
        assertThatThrownBy(() -> s.setError(new IOException())).isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("setError on an already signaled fence");
        assertThat(s.fence().status()).isEqualTo(Fence.Status.SIGNALED);
        assertThat(s.fence().error()).isNull();
    }

    /** An explicit error overrides one set earlier; of several set, the last wins. */
    @Test
    void explicitErrorOverridesSetError() {
        Signaller a = mock();
        IOException first = new IOException("first");
        IOException last = new IOException("last");
        a.setError(first);
        a.setError(last);
        a.signal();
        assertThat(a.fence().error()).isSameAs(last);

        Signaller b = mock();
        IllegalStateException explicit = new IllegalStateException("explicit");
        b.setError(first);
        b.signal(explicit);
        assertThat(b.fence().error()).isSameAs(explicit);
    }

    /** Callbacks and waiters registered before and after setError all run, and see the error. */
    @Test
    void registrationsAroundSetErrorAllRun() {
        Signaller s = mock();
        List<Throwable> seen = new ArrayList<>();
        IOException eio = new IOException("EIO");
        s.fence().addCallback(f -> seen.add(f.error()));
        s.setError(eio);
        s.fence().addCallback(f -> seen.add(f.error()));
        s.signal();
        assertThat(seen).containsExactly(eio, eio);
    }

    /** A null error is a NullPointerException, and nothing changes. */
    @Test
    void nullError_NullPointerException() {
        Signaller s = mock();
        assertThatThrownBy(() -> s.signal(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> s.trySignal(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> s.setError(null)).isInstanceOf(NullPointerException.class);
        assertThat(s.fence().isSignaled()).isFalse();
        s.signal();
    }

    /** A fence records when it signalled, in nanoTime units; 0 while pending. */
    @Test
    void timestampIsSignalTime() {
        Signaller s = mock();
        assertThat(s.fence().timestamp()).isZero();
        long before = System.nanoTime();
        s.signal();
        long after = System.nanoTime();
        assertThat(s.fence().timestamp() - before).isNotNegative();
        assertThat(after - s.fence().timestamp()).isNotNegative();
        assertThat(Fences.signaledAt(42L).timestamp()).isEqualTo(42L);
        assertThat(Fences.signaledAt(42L)).isNotSameAs(Fences.stub());
    }

    // ------------------------------------------------------------ callbacks

    /** Callbacks run on the signalling thread, in the order added, each exactly once. */
    @Test
    void callbacksRunInOrderOnSignallingThread() {
        Signaller s = mock();
        List<String> log = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int n = i;
            s.fence().addCallback(f -> log.add(n + "@" + Thread.currentThread().getName()));
        }
        s.signal();
        String me = Thread.currentThread().getName();
        assertThat(log).containsExactly("0@" + me, "1@" + me, "2@" + me, "3@" + me, "4@" + me);
    }

    /** A callback that throws stops neither the others nor the signal, and reaches the handler. */
    @Test
    void throwingCallbackReachesHandler() {
        List<Object> reported = new CopyOnWriteArrayList<>();
        Fences.setCallbackExceptionHandler((f, t) -> reported.add(List.of(f, t)));
        Signaller s = mock();
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicInteger after = new AtomicInteger();
        s.fence().addCallback(f -> {
            throw boom;
        });
        s.fence().addCallback(f -> after.incrementAndGet());
        s.signal();
        assertThat(after).hasValue(1);
        assertThat(reported).containsExactly(List.of(s.fence(), boom));
    }

    /** A handler that itself throws does not escape signal() either. */
    @Test
    void throwingHandlerIsContained() {
        Fences.setCallbackExceptionHandler((f, t) -> {
            throw new IllegalStateException("handler");
        });
        Signaller s = mock();
        AtomicInteger after = new AtomicInteger();
        s.fence().addCallback(f -> {
            throw new IllegalStateException("callback");
        });
        s.fence().addCallback(f -> after.incrementAndGet());
        s.signal();
        assertThat(after).hasValue(1);
    }

    /**
     * Whatever escapes a registration - an Error from the callback exception handler, then an
     * Error from a java.util.logging handler while the failure is logged - stops neither the fire
     * loop nor the signal: signal() returns, the later callback runs, and a thread parked in
     * await() behind the failing callback wakes.
     */
    @Test
    void fireLoopContinuesPastErrorsOfTheReporter() throws Exception {
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger("dev.bufsync.fence");
        java.util.logging.Handler throwing = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                throw new Error("log handler");
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        boolean parents = jul.getUseParentHandlers();
        jul.addHandler(throwing);
        jul.setUseParentHandlers(false);
        try {
            Fences.setCallbackExceptionHandler((f, t) -> {
                throw new StackOverflowError("handler");
            });
            Signaller s = mock();
            s.fence().addCallback(f -> {
                throw new StackOverflowError("callback");
            });
            CompletableFuture<Boolean> woke = new CompletableFuture<>();
            Thread waiter = Thread.ofPlatform().daemon().start(() -> {
                try {
                    s.fence().await();
                    woke.complete(true);
                } catch (Throwable t) {
                    woke.completeExceptionally(t);
                }
            });
            awaitParked(waiter);
            AtomicInteger after = new AtomicInteger();
            s.fence().addCallback(f -> after.incrementAndGet());
            s.signal();
            assertThat(s.fence().status()).isEqualTo(Fence.Status.SIGNALED);
            assertThat(after).hasValue(1);
            assertThat(woke.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } finally {
            jul.removeHandler(throwing);
            jul.setUseParentHandlers(parents);
        }
    }

    /** An Error thrown by an inline callback is reported, and the callbacks after it still run. */
    @Test
    void callbackErrorsAreReportedAndContained() {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Fences.setCallbackExceptionHandler((f, t) -> reported.add(t));
        Signaller s = mock();
        AssertionError error = new AssertionError("callback");
        AtomicInteger after = new AtomicInteger();
        s.fence().addCallback(f -> {
            throw error;
        });
        s.fence().addCallback(f -> after.incrementAndGet());
        s.signal();
        assertThat(after).hasValue(1);
        assertThat(reported).containsExactly(error);
    }

    /**
     * whenSignaled registers on a pending fence (the callback runs on the signalling thread) and
     * runs the callback at once, on the caller's thread, on a signalled fence; what it throws goes
     * to the handler, never to the caller.
     */
    @Test
    void whenSignaledRunsOnceEitherWay() throws Exception {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Fences.setCallbackExceptionHandler((f, t) -> reported.add(t));
        Signaller s = mock();
        List<Thread> ranOn = new CopyOnWriteArrayList<>();
        s.fence().whenSignaled(f -> ranOn.add(Thread.currentThread()));
        assertThat(ranOn).isEmpty();
        Thread signaller = Thread.ofPlatform().start(s::signal);
        signaller.join();
        assertThat(ranOn).containsExactly(signaller);
        s.fence().whenSignaled(f -> ranOn.add(Thread.currentThread()));
        assertThat(ranOn).containsExactly(signaller, Thread.currentThread());
        IllegalStateException boom = new IllegalStateException("late callback");
        s.fence().whenSignaled(f -> {
            throw boom;
        });
        assertThat(reported).containsExactly(boom);
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "when-signaled"));
        try {
            CompletableFuture<String> onExecutor = new CompletableFuture<>();
            s.fence().whenSignaled(f -> onExecutor.complete(Thread.currentThread().getName()), executor);
            assertThat(onExecutor.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("when-signaled");
        } finally {
            executor.shutdownNow();
        }
        s.fence().whenSignaled(f -> { }, r -> {
            throw new java.util.concurrent.RejectedExecutionException("full");
        });
        assertThat(reported).hasSize(2).last().isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    }

    /** A callback registered by whenSignaled on a pending fence can be removed like any other. */
    @Test
    void whenSignaledRegistrationCanBeRemoved() {
        Signaller s = mock();
        AtomicInteger ran = new AtomicInteger();
        FenceCallback callback = f -> ran.incrementAndGet();
        s.fence().whenSignaled(callback);
        assertThat(s.fence().removeCallback(callback)).isTrue();
        s.signal();
        assertThat(ran).hasValue(0);
    }

    /** awaitSuccess returns for a fence signalled without error and throws the error of a failed one. */
    @Test
    void awaitSuccessThrowsTheFenceError() throws Exception {
        Signaller ok = mock();
        Signaller bad = mock();
        assertThat(ok.fence().awaitSuccess(Duration.ZERO)).isFalse();
        ok.signal();
        ok.fence().awaitSuccess();
        assertThat(ok.fence().awaitSuccess(Duration.ZERO)).isTrue();
        IOException eio = new IOException("EIO");
        bad.signal(eio);
        assertThatThrownBy(() -> bad.fence().awaitSuccess()).isExactlyInstanceOf(ExecutionException.class)
                .hasCause(eio).hasMessageContaining("mock#" + bad.fence().context());
        assertThatThrownBy(() -> bad.fence().awaitSuccess(Duration.ofSeconds(1)))
                .isExactlyInstanceOf(ExecutionException.class).hasCause(eio);
        assertThatThrownBy(() -> bad.fence().awaitSuccess(Duration.ofNanos(-1)))
                .isExactlyInstanceOf(IllegalArgumentException.class);
    }

    /** The executor variant hands the callback to the executor, which runs it once. */
    @Test
    void executorCallbackRunsOnExecutor() throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "fence-executor"));
        try {
            Signaller s = mock();
            CompletableFuture<String> ranOn = new CompletableFuture<>();
            assertThat(s.fence().addCallback(f -> ranOn.complete(Thread.currentThread().getName()), executor)).isTrue();
            s.signal();
            assertThat(ranOn.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("fence-executor");
        } finally {
            executor.shutdownNow();
        }
    }

    /** A rejecting executor, and a callback throwing on the executor, both reach the handler. */
    @Test
    void executorFailuresReachHandler() {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Fences.setCallbackExceptionHandler((f, t) -> reported.add(t));
        Signaller s = mock();
        IllegalStateException boom = new IllegalStateException("boom");
        s.fence().addCallback(f -> { }, r -> {
            throw new java.util.concurrent.RejectedExecutionException("full");
        });
        s.fence().addCallback(f -> {
            throw boom;
        }, Runnable::run);
        s.signal();
        assertThat(reported).hasSize(2);
        assertThat(reported.get(0)).isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
        assertThat(reported.get(1)).isSameAs(boom);
    }

    /** The lone callback, held inline without a node, still goes to the handler when it throws. */
    @Test
    void throwingLoneCallbackReachesHandler() {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        Fences.setCallbackExceptionHandler((f, t) -> reported.add(t));
        Signaller s = mock();
        IllegalStateException boom = new IllegalStateException("boom");
        assertThat(s.fence().addCallback(f -> {
            throw boom;
        })).isTrue();
        s.signal();
        assertThat(s.fence().status()).isEqualTo(Fence.Status.SIGNALED);
        assertThat(reported).containsExactly(boom);
    }

    /** A callback that is also a Throwable: the fence stays pending, and it runs once. */
    static final class ThrowableCallback extends RuntimeException implements FenceCallback {
        final AtomicInteger runs = new AtomicInteger();

        ThrowableCallback() {
            super("a callback, not an error");
        }

        @Override
        public void onSignal(Fence fence) {
            runs.incrementAndGet();
        }
    }

    /**
     * A callback that is a Throwable is never mistaken for the fence's error (the lone callback
     * shares the state word with the outcome).
     */
    @Test
    void callbackThatIsAThrowableIsNotAnError() {
        Signaller s = mock();
        ThrowableCallback cb = new ThrowableCallback();
        assertThat(s.fence().addCallback(cb)).isTrue();
        assertThat(s.fence().isSignaled()).isFalse();
        assertThat(s.fence().error()).isNull();
        assertThat(s.fence().removeCallback(cb)).isTrue();
        assertThat(s.fence().addCallback(cb)).isTrue();
        s.signal();
        assertThat(s.fence().status()).isEqualTo(Fence.Status.SIGNALED);
        assertThat(cb.runs).hasValue(1);
    }

    /** Removing a "callback" that is the fence's own error does not undo the signal. */
    @Test
    void removingTheErrorAsACallbackDoesNotUnsignal() {
        Signaller s = mock();
        ThrowableCallback error = new ThrowableCallback();
        s.signal(error);
        assertThat(s.fence().removeCallback(error)).isFalse();
        assertThat(s.fence().status()).isEqualTo(Fence.Status.FAILED);
        assertThat(s.fence().error()).isSameAs(error);
        assertThat(error.runs).hasValue(0);
    }

    /** The inline callback moves under later registrations and still runs first, once. */
    @Test
    void firstCallbackRunsFirstAfterOthersJoin() {
        Signaller s = mock();
        List<String> log = new ArrayList<>();
        FenceCallback first = f -> log.add("first");
        s.fence().addCallback(first);
        s.fence().addCallback(f -> log.add("second"), Runnable::run);
        s.fence().setDeadline(1L);
        s.setError(new IOException("EIO"));
        assertThat(s.fence().isSignaled()).isFalse();
        s.signal();
        assertThat(log).containsExactly("first", "second");
        assertThat(s.fence().error()).isInstanceOf(IOException.class);
        assertThat(s.fence().removeCallback(first)).isFalse();
    }

    /**
     * A waiter that returns from a signalled wait wakes the others: here the signalling thread is
     * held in a callback before it can wake the container's waiters, and only a timed waiter,
     * which wakes by itself, can release the two untimed ones.
     */
    @Test
    void wokenWaiterWakesTheOthers() throws Exception {
        assertHelpWakesTheWaiters(true, all -> {
            while (!all.await(Duration.ofMillis(10))) {
                Thread.onSpinWait();
            }
        });
    }

    /** A wait that begins after the signal, untimed, returns at once and wakes the waiters still parked. */
    @Test
    void untimedWaitOnASignalledFenceWakesTheOthers() throws Exception {
        assertHelpWakesTheWaiters(false, Fence::await);
    }

    /** A timed wait that begins after the signal returns true at once and wakes the waiters still parked. */
    @Test
    void timedWaitOnASignalledFenceWakesTheOthers() throws Exception {
        assertHelpWakesTheWaiters(false, all -> assertThat(all.await(PATIENCE)).isTrue());
    }

    /** A wait on a fence, by a thread that may help wake the others. */
    @FunctionalInterface
    private interface Help {
        void run(Fence all) throws Exception;
    }

    /**
     * Parks two untimed waiters on an all-of array, then signals its member on a thread that a
     * callback holds before it can wake the array's waiters, and asserts that {@code help} wakes
     * them meanwhile. {@code help} runs on a thread of its own started before the signal if
     * {@code startedBeforeSignal}, otherwise on this thread once the array has signalled.
     */
    private static void assertHelpWakesTheWaiters(boolean startedBeforeSignal, Help help) throws Exception {
        Signaller member = mock();
        FenceArray all = FenceArray.allOf(member.fence());      // its member node runs first
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        member.fence().addCallback(f -> {
            holding.countDown();
            awaitQuietly(release);
        });
        List<Thread> untimed = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            untimed.add(Thread.ofPlatform().start(() -> awaitQuietly(all)));
        }
        for (Thread t : untimed) {
            awaitParkedOn(t, all);
        }
        AtomicReference<Throwable> helpFailed = new AtomicReference<>();
        Thread helper = startedBeforeSignal ? Thread.ofPlatform().start(() -> {
            try {
                help.run(all);
            } catch (Throwable t) {
                helpFailed.set(t);
            }
        }) : null;
        Thread signaller = Thread.ofPlatform().start(member::signal);
        try {
            assertThat(holding.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(all.isSignaled()).isTrue();
            if (helper == null) {
                help.run(all);
            }
            for (Thread t : untimed) {
                t.join(Duration.ofSeconds(20));
                assertThat(t.isAlive()).as("woken while the signaller is still held").isFalse();
            }
        } finally {
            release.countDown();
            signaller.join();
            if (helper != null) {
                helper.join();
            }
        }
        assertThat(helpFailed.get()).isNull();
    }

    /**
     * A waiter keeps its FIFO place among the callbacks: woken after those registered before it
     * ran, before those registered after it run (a waiter ahead of every callback is woken first).
     */
    @Test
    void waitersAreWokenInTheirTurn() {
        Signaller s = mock();
        Fence f = s.fence();
        Fence.WaiterNode leading = new Fence.WaiterNode(Thread.ofPlatform().unstarted(() -> { }));
        Fence.WaiterNode middle = new Fence.WaiterNode(Thread.ofPlatform().unstarted(() -> { }));
        List<String> seen = new ArrayList<>();
        assertThat(f.push(leading)).isTrue();
        f.addCallback(x -> seen.add("first: leading " + state(leading) + ", middle " + state(middle)));
        assertThat(f.push(middle)).isTrue();
        f.addCallback(x -> seen.add("second: middle " + state(middle)));
        s.signal();
        assertThat(seen).containsExactly("first: leading woken, middle parked", "second: middle woken");
    }

    private static String state(Fence.WaiterNode w) {
        return w.isLive() ? "parked" : "woken";
    }

    /** Waits until {@code t} is parked on {@code blocker}; fails after 20 s (a safety net). */
    private static void awaitParkedOn(Thread t, Object blocker) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (LockSupport.getBlocker(t) != blocker) {
            assertThat(System.nanoTime() - deadline).as(t + " parked on " + blocker).isNegative();
            Thread.onSpinWait();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(Fence fence) {
        try {
            fence.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** removeCallback removes one registration of the callback, and only a pending one. */
    @Test
    void removeCallbackRemovesOneRegistration() {
        Signaller s = mock();
        AtomicInteger runs = new AtomicInteger();
        FenceCallback cb = f -> runs.incrementAndGet();
        FenceCallback other = f -> runs.addAndGet(100);
        s.fence().addCallback(cb);
        s.fence().addCallback(other);
        s.fence().addCallback(cb);
        assertThat(s.fence().removeCallback(cb)).isTrue();
        assertThat(s.fence().removeCallback(f -> { })).isFalse();
        s.signal();
        assertThat(runs).hasValue(101);
    }

    /**
     * A removed callback is unlinked at once, also from below a live registration: the pending
     * fence does not keep it (and what it captures) reachable.
     */
    @Test
    void removedCallbackIsReleased() {
        Signaller s = mock();
        AtomicInteger runs = new AtomicInteger();
        s.fence().addCallback(f -> runs.incrementAndGet());                // inline, then moved below
        WeakReference<FenceCallback> removed = addAndRemoveCapturingCallback(s.fence());
        assertCollected(removed, "the removed callback");
        s.signal();
        assertThat(runs).as("the first callback").hasValue(1);
    }

    /** Adds a callback that captures a fresh object, then one more above it, and removes the first. */
    private static WeakReference<FenceCallback> addAndRemoveCapturingCallback(Fence fence) {
        Object captured = new Object();
        FenceCallback cb = f -> captured.hashCode();
        fence.addCallback(cb);
        fence.addCallback(f -> { }, Runnable::run);                     // a live registration above it
        assertThat(fence.removeCallback(cb)).isTrue();
        return new WeakReference<>(cb);
    }

    /**
     * Asserts that {@code ref} is cleared once the garbage collector has run (a few times at
     * most): nothing strongly reachable keeps its referent.
     */
    static void assertCollected(WeakReference<?> ref, String what) {
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
        }
        assertThat(ref.get()).as("%s is still reachable", what).isNull();
    }

    // ------------------------------------------------------------ waiting

    /**
     * A wait that timed out leaves nothing registered: the pending fence does not keep the
     * thread that waited reachable.
     */
    @Test
    void timedOutWaitLeavesNoWaiterBehind() throws Exception {
        Signaller s = mock();
        assertCollected(waitedOnce(() -> assertThat(s.fence().await(Duration.ofMillis(1))).isFalse()),
                "the thread whose wait timed out");
        assertThat(s.fence().isSignaled()).isFalse();
        s.signal();
    }

    /** Runs {@code wait} on a new thread, joins it, and returns a weak reference to the finished thread. */
    static WeakReference<Thread> waitedOnce(Waiting wait) throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                wait.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join(PATIENCE);
        assertThat(t.isAlive()).isFalse();
        assertThat(failure.get()).isNull();
        return new WeakReference<>(t);
    }

    /**
     * A timed waiter that is interrupted after the fence signalled, while the signalling thread
     * is still busy with a callback registered before it (so that its turn to be woken has not
     * come), returns {@code true}: the signal came first. The interrupt status stays set.
     */
    @Test
    void waiterInterruptedAfterTheSignalBeforeItsTurnReportsTheSignal() throws Exception {
        Signaller s = mock();
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        s.fence().addCallback(f -> {
            holding.countDown();
            awaitQuietly(release);
        });
        CompletableFuture<String> outcome = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().start(() -> {
            try {
                boolean signalled = s.fence().await(PATIENCE);
                outcome.complete(signalled + ", interrupted " + Thread.currentThread().isInterrupted());
            } catch (Throwable t) {
                outcome.completeExceptionally(t);
            }
        });
        awaitParkedOn(waiter, s.fence());
        Thread signaller = Thread.ofPlatform().start(s::signal);
        try {
            assertThat(holding.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(s.fence().isSignaled()).isTrue();
            waiter.interrupt();
            assertThat(outcome.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("true, interrupted true");
        } finally {
            release.countDown();
            signaller.join();
            waiter.join();
        }
    }

    /** A negative timeout is an IllegalArgumentException, even on a signalled fence. */
    @Test
    void negativeTimeout_IllegalArgumentException() {
        Signaller s = mock();
        assertThatThrownBy(() -> s.fence().await(Duration.ofNanos(-1))).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("negative timeout");
        s.signal();
        assertThatThrownBy(() -> s.fence().await(Duration.ofMillis(-5))).isExactlyInstanceOf(IllegalArgumentException.class);
    }

    /** A thread parked in await() wakes when another signals, and sees the signaller's prior writes. */
    @Test
    void awaitWakesOnSignal() throws Exception {
        Signaller s = mock();
        int[] payload = new int[1];
        CompletableFuture<Integer> seen = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().daemon().start(() -> {
            try {
                s.fence().await();
                seen.complete(payload[0]);
            } catch (Throwable t) {
                seen.completeExceptionally(t);
            }
        });
        awaitParked(waiter);
        payload[0] = 42;
        s.signal();
        assertThat(seen.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(42);
    }

    /** A thread blocked in await() is released by Thread.interrupt with InterruptedException. */
    @Test
    void awaitIsInterruptible() throws Exception {
        Signaller s = mock();
        Signaller other = mock();
        assertInterruptible(() -> s.fence().await());
        assertInterruptible(() -> s.fence().await(Duration.ofDays(1)));
        assertInterruptible(() -> Fences.awaitAny(List.of(s.fence(), other.fence())));
        assertInterruptible(() -> Fences.awaitAll(List.of(Fences.stub(), s.fence())));
        s.signal();
        other.signal();
    }

    /** Runs {@code waiting} on a thread, interrupts it once it is parked, expects InterruptedException. */
    private static void assertInterruptible(Waiting waiting) throws Exception {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().daemon().start(() -> {
            try {
                waiting.run();
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        awaitParked(t);
        t.interrupt();
        assertThat(outcome.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        t.join();
    }

    /** Waits (bounded) until {@code t} is parked. */
    static void awaitParked(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            assertThat(t.getState()).as("thread ended instead of parking").isNotEqualTo(Thread.State.TERMINATED);
            assertThat(System.nanoTime() - deadline).as("thread never parked").isNegative();
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** A wait that blocks. */
    @FunctionalInterface
    interface Waiting {
        void run() throws Exception;
    }

    /** An interrupted thread waiting on a signalled fence returns at once and stays interrupted. */
    @Test
    void awaitSignaledIgnoresInterrupt() throws InterruptedException {
        Signaller s = mock();
        s.signal();
        Thread.currentThread().interrupt();
        try {
            s.fence().await();
            assertThat(s.fence().await(Duration.ofSeconds(1))).isTrue();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    /** Many virtual threads waiting on fences all wake when the fences signal. */
    @Test
    void virtualThreadWaitersAllWake() throws Exception {
        List<Signaller> signallers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            signallers.add(mock());
        }
        int waiters = 2_000;
        CountDownLatch started = new CountDownLatch(waiters);
        CountDownLatch woke = new CountDownLatch(waiters);
        ExecutorService vts = Executors.newVirtualThreadPerTaskExecutor();
        try {
            for (int i = 0; i < waiters; i++) {
                Fence f = signallers.get(i % signallers.size()).fence();
                vts.submit(() -> {
                    started.countDown();
                    f.await();
                    woke.countDown();
                    return null;
                });
            }
            assertThat(started.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(woke.getCount()).isEqualTo(waiters);
            signallers.forEach(Signaller::signal);
            assertThat(woke.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } finally {
            vts.shutdownNow();
        }
    }

    // ------------------------------------------------------------ deadlines

    /** The soonest deadline wins and the producer reads it; a signalled fence ignores hints. */
    @Test
    void soonestDeadlineWins() {
        Signaller s = mock();
        assertThat(s.deadline()).isEmpty();
        long now = System.nanoTime();
        s.fence().setDeadline(now + 1_000);
        s.fence().setDeadline(now + 5_000);
        assertThat(s.deadline()).hasValue(now + 1_000);
        s.fence().setDeadline(now + 10);
        assertThat(s.deadline()).hasValue(now + 10);
        s.signal();
        s.fence().setDeadline(now);
        assertThat(s.deadline()).hasValue(now + 10);
    }

    /** A deadline of exactly 0 (the internal "none") is kept, moved by one nanosecond. */
    @Test
    void zeroDeadlineIsKept() {
        Signaller s = mock();
        s.fence().setDeadline(0L);
        assertThat(s.deadline()).hasValue(1L);
        s.signal();
    }

    // ------------------------------------------------------------ ordering

    /** isLater and later order fences of one context by sequence number. */
    @Test
    void isLaterOrdersOneContext() {
        FenceContext ctx = FenceContext.create("ordered");
        Signaller first = ctx.next();
        Signaller second = ctx.next();
        Fence one = first.fence();
        Fence two = second.fence();
        assertThat(two.seqno()).isEqualTo(one.seqno() + 1);
        assertThat(two.isLater(one)).isTrue();
        assertThat(one.isLater(two)).isFalse();
        assertThat(one.isLater(one)).isFalse();
        assertThat(Fence.later(one, two)).isSameAs(two);
        assertThat(Fence.later(two, one)).isSameAs(two);
        assertThat(Fence.later(one, one)).isSameAs(one);
        first.signal();
        second.signal();
    }

    /** Ordering fences of different contexts is an IllegalArgumentException. */
    @Test
    void isLaterAcrossContexts_IllegalArgumentException() {
        Signaller a = mock();
        Signaller b = mock();
        assertThatThrownBy(() -> a.fence().isLater(b.fence())).isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("different contexts");
        assertThatThrownBy(() -> Fence.later(a.fence(), b.fence())).isExactlyInstanceOf(IllegalArgumentException.class);
        a.signal();
        b.signal();
    }

    /** Contexts get increasing ids from 1; their fences increasing sequence numbers from 1. */
    @Test
    void contextsAndSequenceNumbers() {
        FenceContext a = FenceContext.create("a");
        FenceContext b = FenceContext.create("b");
        assertThat(a.id()).isPositive();
        assertThat(b.id()).isGreaterThan(a.id());
        List<Signaller> issued = List.of(a.next(), a.next(), b.next());
        assertThat(issued.get(0).fence().context()).isEqualTo(a.id());
        assertThat(issued.get(0).fence().seqno()).isEqualTo(1);
        assertThat(issued.get(1).fence().seqno()).isEqualTo(2);
        assertThat(issued.get(2).fence().seqno()).isEqualTo(1);
        issued.forEach(Signaller::signal);
        assertThat(a.name()).isEqualTo("a");
        assertThat(a).hasToString("FenceContext[a#" + a.id() + "]");
    }

    /** toString names the timeline, context, sequence number, status and error. */
    @Test
    void toStringIsReadable() {
        FenceContext ctx = FenceContext.create("gpu");
        Signaller s = ctx.next();
        assertThat(s.fence()).hasToString("Fence[gpu#" + ctx.id() + ":1 PENDING]");
        s.signal(new IOException("lost"));
        assertThat(s.fence()).hasToString("Fence[gpu#" + ctx.id() + ":1 FAILED java.io.IOException: lost]");
        assertThat(s.toString()).startsWith("Signaller[Fence[gpu#");
        assertThat(Fences.stub()).hasToString("Fence[stub#0:0 SIGNALED]");
    }

    // ------------------------------------------------------------ interop

    /** toCompletableFuture completes normally on success and exceptionally with the fence's error. */
    @Test
    void toCompletableFutureMirrorsOutcome() throws Exception {
        Signaller ok = mock();
        CompletableFuture<Void> okFuture = ok.fence().toCompletableFuture();
        assertThat(okFuture).isNotDone();
        ok.signal();
        assertThat(okFuture).isCompleted();

        Signaller bad = mock();
        IOException eio = new IOException("EIO");
        bad.signal(eio);
        CompletableFuture<Void> badFuture = bad.fence().toCompletableFuture();
        assertThatThrownBy(badFuture::get).isInstanceOf(ExecutionException.class).hasCause(eio);
        badFuture.cancel(true);
        assertThat(bad.fence().error()).isSameAs(eio);
    }

    /** from(CompletionStage) signals on completion, with the stage's exception (unwrapped) as error. */
    @Test
    void fromCompletionStageMirrorsOutcome() {
        CompletableFuture<String> ok = new CompletableFuture<>();
        Fence okFence = Fence.from(ok);
        assertThat(okFence.isSignaled()).isFalse();
        ok.complete("done");
        assertThat(okFence.status()).isEqualTo(Fence.Status.SIGNALED);

        IOException eio = new IOException("EIO");
        CompletableFuture<String> failed = new CompletableFuture<>();
        Fence viaDependent = Fence.from(failed.thenApply(v -> v));
        failed.completeExceptionally(eio);
        assertThat(viaDependent.error()).isSameAs(eio);

        CompletableFuture<String> cancelled = new CompletableFuture<>();
        Fence cancelledFence = Fence.from(cancelled);
        cancelled.cancel(false);
        assertThat(cancelledFence.error()).isInstanceOf(java.util.concurrent.CancellationException.class);

        assertThat(Fence.from(CompletableFuture.completedFuture(1)).isSignaled()).isTrue();
        assertThat(Fence.from(okFence.toCompletableFuture()).context()).isNotEqualTo(okFence.context());
    }

    /** The internal state markers name themselves, for debuggers and heap dumps. */
    @Test
    void markersNameThemselves() {
        assertThat(Fence.SUCCESS).hasToString("SUCCESS");
        assertThat(Fence.COMPLETING).hasToString("COMPLETING");
    }

    /** A zero timeout polls: with the thread interrupted it returns false and leaves the status set. */
    @Test
    void zeroTimeoutPollIgnoresInterrupt() throws Exception {
        Signaller s = mock();
        Thread.currentThread().interrupt();
        try {
            assertThat(s.fence().await(Duration.ZERO)).isFalse();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
            s.signal();
        }
    }

    /** The untimed awaitSuccess waits for the signal: its thread parks on the fence until then. */
    @Test
    void awaitSuccessWaitsForTheSignal() throws Exception {
        Signaller s = mock();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().daemon().start(() -> {
            try {
                s.fence().awaitSuccess();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        awaitParkedOn(waiter, s.fence());
        assertThat(done).isNotDone();
        s.signal();
        done.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }
}
