package dev.bufsync.cli.torture;

import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.LockResult;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The kernel's test-ww_mutex ladder (kernel/locking/test-ww_mutex.c), scenario for scenario:
 * {@code mutex}, {@code aa}, the four {@code abba} variants, {@code cycle} and the three stress
 * runs. Each runs for the algorithm of the run; the stress runs also check mutual exclusion of
 * every mutex and, through {@link Liveness#checkBackoff}, that no context backs off except for a
 * strictly older one that was live when the lock began.
 *
 * <p>Where the kernel treats a second back-off during resolution as a failure (cycle), this port
 * resolves it like any caller would (back off again), because the second conflict is legitimate
 * under wait-die when the predecessor still holds the relocked mutex for a moment; the scenario
 * still fails if the ring does not resolve.
 */
final class WwLadder {
    private static final String SUITE = "ww";
    private static final long MUTEX_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private WwLadder() {
    }

    /** The scenarios of the {@code ww} suite, in ladder order. */
    static List<Scenario> scenarios() {
        return List.of(
                scenario("mutex", WwLadder::mutex),
                scenario("aa", WwLadder::aa),
                scenario("abba", run -> abba(run, false, false)),
                scenario("abba-resolve", run -> abba(run, false, true)),
                scenario("abba-trylock", run -> abba(run, true, false)),
                scenario("abba-trylock-resolve", run -> abba(run, true, true)),
                scenario("cycle", WwLadder::cycle),
                stress("stress-inorder", run -> stress(run, 16, run.threadCount(), Kind.INORDER)),
                stress("stress-reorder", run -> stress(run, 16, run.threadCount(), Kind.REORDER)),
                stress("stress-mixed", run -> stress(run, 2046, Math.max(3, run.threadCount() * 3 / 2), Kind.MIXED)));
    }

    // ---------------------------------------------------------------- mutex

    private static final int SPIN = 1, TRY = 2, CTX = 4;

    /** test_mutex: for every SPIN/TRY/CTX flag combination, a plain waiter must not get in. */
    private static Scenario.Outcome mutex(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("mutex");
        for (int flags = 0; flags < 8; flags++) {
            WwMutex m = new WwMutex(cls);
            CountDownLatch ready = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            final int f = flags;
            Thread worker = run.newThread("mutex-worker-" + flags, () -> {
                ready.countDown();
                TortureRun.awaitUninterruptibly(go);
                if ((f & TRY) != 0) {
                    while (!m.tryLock()) {
                        Thread.onSpinWait();
                        Thread.yield();
                    }
                } else {
                    m.lock();
                }
                done.countDown();
                m.unlock();
            });
            ready.await();
            AcquireContext ctx = (flags & CTX) != 0 ? cls.begin() : null;
            if (ctx != null) {
                m.lock(ctx);
            } else {
                m.lock();
            }
            go.countDown();
            boolean excluded = true;
            if ((flags & SPIN) != 0) {
                long start = System.nanoTime();
                while (System.nanoTime() - start < MUTEX_WINDOW_NANOS) {
                    if (done.getCount() == 0) {
                        excluded = false;
                        break;
                    }
                    Thread.yield();
                }
            } else {
                excluded = !done.await(MUTEX_WINDOW_NANOS, TimeUnit.NANOSECONDS);
            }
            m.unlock();
            if (ctx != null) {
                ctx.close();
            }
            worker.join();
            run.tick();
            if (!excluded) {
                return Scenario.Outcome.failed(flags, 0, "mutual exclusion failure with flags "
                        + flagNames(flags) + ": the worker got the mutex while it was held");
            }
        }
        return Scenario.Outcome.passed(8, 0);
    }

    private static String flagNames(int flags) {
        List<String> names = new ArrayList<>();
        if ((flags & SPIN) != 0) {
            names.add("SPIN");
        }
        if ((flags & TRY) != 0) {
            names.add("TRY");
        }
        if ((flags & CTX) != 0) {
            names.add("CTX");
        }
        return names.isEmpty() ? "none" : String.join("|", names);
    }

    // ---------------------------------------------------------------- aa

    /** test_aa: relocking with the same context is ALREADY_HELD; trylocks of oneself fail. */
    private static Scenario.Outcome aa(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("aa");
        for (boolean trylock : new boolean[] {false, true}) {
            WwMutex m = new WwMutex(cls);
            String from = trylock ? "trylock" : "lock";
            try (AcquireContext ctx = cls.begin()) {
                LockResult first = trylock ? m.tryLock(ctx) : m.lock(ctx);
                if (first != LockResult.ACQUIRED) {
                    return Scenario.Outcome.failed(0, 0, "initial " + from + " failed: " + first);
                }
                if (m.tryLock()) {
                    return Scenario.Outcome.failed(0, 0, "trylocked itself without context from " + from);
                }
                if (m.tryLock(ctx) != LockResult.ALREADY_HELD) {
                    return Scenario.Outcome.failed(0, 0, "trylocked itself with context from " + from);
                }
                LockResult again = m.lock(ctx);
                if (again != LockResult.ALREADY_HELD) {
                    return Scenario.Outcome.failed(0, 0, "missed ww recursion deadlock: " + again);
                }
                m.unlock();
            }
            run.tick();
        }
        return Scenario.Outcome.passed(2, 0);
    }

    // ---------------------------------------------------------------- abba

    /**
     * test_abba: two threads hold A and B and then ask for the other. Without resolution at least
     * one must be told to back off; with it both must end up with both.
     */
    private static Scenario.Outcome abba(TortureRun run, boolean trylock, boolean resolve) throws Exception {
        WwClass cls = run.newExactClass("abba");
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        CountDownLatch aReady = new CountDownLatch(1);
        CountDownLatch bReady = new CountDownLatch(1);
        Throwable[] workerResult = new Throwable[1];
        String[] workerErr = new String[1];
        Liveness live = new Liveness(run);
        Thread worker = run.newThread("abba-worker", () -> {
            try {
                workerErr[0] = abbaSide(live, cls, b, a, trylock, resolve, bReady, aReady);
            } catch (Throwable t) {
                workerResult[0] = t;
            }
        });
        String mainErr = abbaSide(live, cls, a, b, trylock, resolve, aReady, bReady);
        worker.join();
        run.tick();
        if (workerResult[0] != null) {
            throw new IllegalStateException("worker failed", workerResult[0]);
        }
        if (resolve) {
            if (mainErr != null || workerErr[0] != null) {
                return Scenario.Outcome.failed(1, run.backoffs(), "failed to resolve ABBA deadlock, A err="
                        + mainErr + ", B err=" + workerErr[0]);
            }
        } else if (!"backoff".equals(mainErr) && !"backoff".equals(workerErr[0])) {
            return Scenario.Outcome.failed(1, run.backoffs(), "missed ABBA deadlock, A err=" + mainErr
                    + ", B err=" + workerErr[0]);
        }
        return Scenario.Outcome.passed(1, run.backoffs());
    }

    /** One side of ABBA: take {@code mine}, then ask for {@code theirs}; returns null or "backoff". */
    private static String abbaSide(Liveness live, WwClass cls, WwMutex mine, WwMutex theirs,
                                   boolean trylock, boolean resolve, CountDownLatch myReady,
                                   CountDownLatch theirReady) throws InterruptedException {
        AcquireContext ctx = cls.begin();
        try {
            if (trylock) {
                if (mine.tryLock(ctx) != LockResult.ACQUIRED) {
                    return "initial trylock failed";
                }
            } else {
                lockFirst(mine, ctx);
            }
            if (!mine.isHeldBy(ctx)) {
                return "the mutex does not record its context";
            }
            myReady.countDown();
            theirReady.await();
            String err = null;
            long began = live.now();
            try {
                theirs.lock(ctx);
            } catch (BackoffException e) {
                live.checkBackoff(e, began);
                err = "backoff";
                if (resolve) {
                    mine.unlock();
                    theirs.lockSlow(ctx);
                    began = live.now();
                    try {
                        mine.lock(ctx);
                        err = null;
                    } catch (BackoffException again) {
                        live.checkBackoff(again, began);
                    }
                }
            }
            ctx.unlockAll();
            return err;
        } finally {
            live.close(ctx);
        }
    }

    // ---------------------------------------------------------------- cycle

    /** test_cycle: rings of n = 2 .. max(8, cores + 1) threads; every ring must resolve. */
    private static Scenario.Outcome cycle(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("cycle");
        int maxRing = Math.max(8, Runtime.getRuntime().availableProcessors() + 1);
        long rings = 0;
        Liveness live = new Liveness(run);
        for (int n = 2; n <= maxRing; n++) {
            String err = ring(run, live, cls, n);
            run.tick();
            if (err != null) {
                return Scenario.Outcome.failed(rings, run.backoffs(), "ring of " + n + ": " + err);
            }
            rings++;
        }
        return Scenario.Outcome.passed(rings, run.backoffs());
    }

    private static String ring(TortureRun run, Liveness live, WwClass cls, int n) throws InterruptedException {
        List<WwMutex> locks = new ArrayList<>();
        List<CountDownLatch> signals = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            locks.add(new WwMutex(cls));
            signals.add(new CountDownLatch(1));
        }
        AtomicReferenceArray<String> results = new AtomicReferenceArray<>(n);
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            final int me = i;
            workers.add(run.newThread("cycle-" + n + "-" + i, () -> {
                WwMutex own = locks.get(me);
                WwMutex next = locks.get((me + 1) % n);
                try {
                    AcquireContext ctx = cls.begin();
                    try {
                        lockFirst(own, ctx);
                        signals.get(me).countDown();
                        TortureRun.awaitUninterruptibly(signals.get((me + 1) % n));
                        lockAllResolving(live, ctx, List.of(own, next));
                        if (!own.isHeldBy(ctx) || !next.isHeldBy(ctx)) {
                            results.set(me, "worker " + me + " does not hold both mutexes");
                        }
                        ctx.unlockAll();
                    } finally {
                        live.close(ctx);
                    }
                } catch (RuntimeException e) {
                    results.set(me, e.toString());
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        for (int i = 0; i < n; i++) {
            if (results.get(i) != null) {
                return results.get(i);
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- stress

    private enum Kind { INORDER, REORDER, MIXED }

    /**
     * stress(): workers lock their own random order of all mutexes (in-order workers resolve with
     * "method 1", reorder workers with "method 2" by moving the contended mutex to the front),
     * hold them 1-2 ms, and unlock, until the time is up; mixed adds workers that lock one random
     * mutex without a context.
     */
    private static Scenario.Outcome stress(TortureRun run, int nlocks, int nthreads, Kind kind) throws Exception {
        WwClass cls = run.newClass("stress");
        List<WwMutex> locks = new ArrayList<>();
        for (int i = 0; i < nlocks; i++) {
            locks.add(new WwMutex(cls));
        }
        Map<WwMutex, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < nlocks; i++) {
            index.put(locks.get(i), i);
        }
        AtomicIntegerArray inside = new AtomicIntegerArray(nlocks);
        LongAdder transactions = new LongAdder();
        Liveness live = new Liveness(run);
        long start = System.nanoTime();
        for (int t = 0; t < nthreads; t++) {
            int role = kind == Kind.MIXED ? t % 3 : kind == Kind.INORDER ? 0 : 1;
            run.newThread("stress-" + t, () -> {
                try {
                    while (!run.expired(start) && run.failure() == null) {
                        switch (role) {
                            case 0 -> inorderTransaction(run, live, cls, locks, index, inside);
                            case 1 -> reorderTransaction(run, live, cls, locks, index, inside);
                            default -> singleLock(run, locks, index, inside);
                        }
                        transactions.increment();
                        run.tick();
                    }
                } catch (Throwable e) {
                    run.fail("stress worker failed: " + e);
                }
            });
        }
        run.joinAll();
        return run.stressOutcome(transactions.sum());
    }

    /** stress_inorder_work: lock all in a fixed random order; on back-off drop all, slow-lock, retry. */
    private static void inorderTransaction(TortureRun run, Liveness live, WwClass cls, List<WwMutex> locks,
                                           Map<WwMutex, Integer> index, AtomicIntegerArray inside) {
        List<WwMutex> order = shuffled(locks);
        AcquireContext ctx = cls.begin();
        try {
            lockAllResolving(live, ctx, order);
            ctx.acquireDone();
            critical(run, index, order, inside);
            ctx.unlockAll();
        } finally {
            live.close(ctx);
        }
    }

    /** stress_reorder_work: on back-off unlock, slow-lock and move the contended mutex to the front. */
    private static void reorderTransaction(TortureRun run, Liveness live, WwClass cls, List<WwMutex> locks,
                                           Map<WwMutex, Integer> index, AtomicIntegerArray inside) {
        List<WwMutex> order = shuffled(locks);
        AcquireContext ctx = cls.begin();
        try {
            int i = 0;
            while (i < order.size()) {
                long began = live.now();
                try {
                    order.get(i).lock(ctx);
                    i++;
                } catch (BackoffException e) {
                    live.checkBackoff(e, began);
                    ctx.unlockAll();
                    WwMutex contended = order.remove(i);
                    contended.lockSlow(ctx);
                    order.add(0, contended);
                    i = 1;
                }
            }
            critical(run, index, order, inside);
            ctx.unlockAll();
        } finally {
            live.close(ctx);
        }
    }

    /** stress_one_work: one random mutex, no context. */
    private static void singleLock(TortureRun run, List<WwMutex> locks, Map<WwMutex, Integer> index,
                                   AtomicIntegerArray inside) {
        WwMutex m = locks.get(ThreadLocalRandom.current().nextInt(locks.size()));
        m.lock();
        critical(run, index, List.of(m), inside);
        m.unlock();
    }

    /** Checks exclusion of every held mutex across a 1-2 ms hold (the kernel's dummy_load). */
    private static void critical(TortureRun run, Map<WwMutex, Integer> index, List<WwMutex> held,
                                 AtomicIntegerArray inside) {
        int[] idx = new int[held.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = index.get(held.get(i));
            if (inside.getAndIncrement(idx[i]) != 0) {
                run.fail("mutual exclusion failure on mutex " + idx[i]);
            }
        }
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(1000 + ThreadLocalRandom.current().nextInt(1000)));
        for (int i : idx) {
            inside.decrementAndGet(i);
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Locks every mutex of {@code order} ("method 3"): on a back-off, unlock all, slow-lock the
     * contended one, and go round again; ALREADY_HELD marks the slow-locked one.
     */
    static void lockAllResolving(Liveness live, AcquireContext ctx, List<WwMutex> order) {
        for (;;) {
            long began = 0;
            try {
                for (WwMutex m : order) {
                    began = live.now();
                    m.lock(ctx);
                }
                return;
            } catch (BackoffException e) {
                live.checkBackoff(e, began);
                ctx.unlockAll();
                e.mutex().lockSlow(ctx);
            }
        }
    }

    /** The first lock of a context: it never backs off. */
    private static void lockFirst(WwMutex m, AcquireContext ctx) {
        try {
            m.lock(ctx);
        } catch (BackoffException e) {
            throw new IllegalStateException("the first lock of a context backed off: " + e.getMessage(), e);
        }
    }

    /**
     * The contexts of one class that have closed, for the exact back-off check: unless injected,
     * a back-off must name a strictly older context that was still live when the lock call began.
     * Every context of the class is closed through {@link #close}, which stamps the close from a
     * clock after {@code close()} returned; a lock reads the clock before it starts. A named
     * context whose close stamp is not later than that reading had closed before the lock began,
     * so the check never blames a context that closed during the lock (it may miss one that closed
     * within nanoseconds of the lock's start, whose stamp is not yet recorded).
     */
    static final class Liveness {
        private final TortureRun run;
        private final AtomicLong clock = new AtomicLong();
        private final Map<Long, Long> closedAt = new ConcurrentHashMap<>();

        Liveness(TortureRun run) {
            this.run = run;
        }

        /** The clock, read before a lock call. */
        long now() {
            return clock.get();
        }

        /** Closes {@code ctx} and records when. */
        void close(AcquireContext ctx) {
            ctx.close();
            closedAt.put(ctx.stamp(), clock.incrementAndGet());
        }

        /** Counts and checks a back-off of a lock that began at {@code began} (see the class). */
        void checkBackoff(BackoffException e, long began) {
            run.checkBackoff(e);
            Long closed = closedAt.get(e.olderStamp());
            if (e.reason() != BackoffException.Reason.INJECTED && e.reason() != BackoffException.Reason.POLITE
                    && closed != null && closed <= began) {
                run.fail("context #" + e.stamp() + " backed off (" + e.reason() + ") for context #"
                        + e.olderStamp() + ", which had closed before the lock began");
            }
        }
    }

    private static List<WwMutex> shuffled(List<WwMutex> locks) {
        List<WwMutex> order = new ArrayList<>(locks);
        Collections.shuffle(order, ThreadLocalRandom.current());
        return order;
    }

    private static Scenario scenario(String name, Scenario.Body body) {
        return Scenario.of(SUITE, name, true, false, body);
    }

    private static Scenario stress(String name, Scenario.Body body) {
        return Scenario.of(SUITE, name, true, true, body);
    }
}
