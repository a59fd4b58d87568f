package dev.bufsync.cli.torture;

import dev.bufsync.cli.torture.WwLadder.Liveness;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.LockResult;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwSharedMutex;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The kernel's test-ww_mutex ladder with readers mixed in, on {@link WwSharedMutex}: already-held
 * and upgrade results, ABBA where the locks are held or asked for shared, readers that all upgrade
 * one lock, rings whose members hold and ask in alternating modes, a stress run of transactions
 * that read and write random locks (with upgrades) checking reader/writer exclusion, and a writer
 * among a stream of readers that must get in. Every back-off is checked by {@link Liveness}: it
 * names a strictly older context that was live when the lock began, so the oldest transaction,
 * reader or writer, never backs off.
 */
final class SharedLadder {
    private static final String SUITE = "shared";
    /** A writer's mark in the exclusion check; readers count below it. */
    private static final int WRITER = 1 << 16;

    private SharedLadder() {
    }

    /** The scenarios of the {@code shared} suite, in ladder order. */
    static List<Scenario> scenarios() {
        return List.of(
                scenario("aa-shared", SharedLadder::aa),
                scenario("abba-read-write", run -> abba(run, true)),
                scenario("abba-write-read", run -> abba(run, false)),
                scenario("upgrade", SharedLadder::upgrade),
                scenario("cycle-rw", SharedLadder::cycle),
                scenario("writer-not-starved", SharedLadder::writerNotStarved),
                Scenario.of(SUITE, "stress-rw", true, true, SharedLadder::stress));
    }

    /** One request of a transaction: a lock and the mode asked for. */
    private record Request(WwSharedMutex lock, boolean shared) {
        LockResult take(AcquireContext ctx) throws BackoffException {
            return shared ? lock.lockShared(ctx) : lock.lock(ctx);
        }
    }

    // ---------------------------------------------------------------- aa

    /** Already held in the same or a weaker mode is ALREADY_HELD; the only reader's lock is UPGRADED. */
    private static Scenario.Outcome aa(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("aa-shared");
        WwSharedMutex m = new WwSharedMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            List<String> wrong = new ArrayList<>();
            expect(wrong, "lockShared", m.lockShared(ctx), LockResult.ACQUIRED);
            expect(wrong, "lockShared again", m.lockShared(ctx), LockResult.ALREADY_HELD);
            expect(wrong, "tryLockShared again", m.tryLockShared(ctx), LockResult.ALREADY_HELD);
            expect(wrong, "lock while the only reader", m.lock(ctx), LockResult.UPGRADED);
            expect(wrong, "lock again", m.lock(ctx), LockResult.ALREADY_HELD);
            expect(wrong, "tryLock again", m.tryLock(ctx), LockResult.ALREADY_HELD);
            expect(wrong, "lockShared while writing", m.lockShared(ctx), LockResult.ALREADY_HELD);
            if (ctx.heldCount() != 1) {
                wrong.add("held count " + ctx.heldCount() + " instead of 1");
            }
            ctx.unlockAll();
            if (m.isHeldBy(ctx) || m.isWriteLocked() || m.readerCount() != 0) {
                wrong.add("still held after unlockAll: " + m);
            }
            run.tick();
            return wrong.isEmpty() ? Scenario.Outcome.passed(1, 0)
                    : Scenario.Outcome.failed(1, 0, String.join("; ", wrong));
        }
    }

    private static void expect(List<String> wrong, String what, LockResult got, LockResult expected) {
        if (got != expected) {
            wrong.add(what + " gave " + got + " instead of " + expected);
        }
    }

    // ---------------------------------------------------------------- abba

    /**
     * ABBA with readers: each side holds its own lock in one mode and asks for the other's in the
     * conflicting mode ({@code readFirst}: hold shared, ask exclusive; else hold exclusive, ask
     * shared). At least one must back off, and both must end up holding both.
     */
    private static Scenario.Outcome abba(TortureRun run, boolean readFirst) throws Exception {
        WwClass cls = run.newExactClass("abba-rw");
        WwSharedMutex a = new WwSharedMutex(cls);
        WwSharedMutex b = new WwSharedMutex(cls);
        CountDownLatch aHeld = new CountDownLatch(1);
        CountDownLatch bHeld = new CountDownLatch(1);
        Liveness live = new Liveness(run);
        long before = run.backoffs();
        String[] workerErr = new String[1];
        Thread worker = run.newThread("abba-worker", () -> workerErr[0] = abbaSide(live, cls,
                new Request(b, readFirst), new Request(a, !readFirst), bHeld, aHeld));
        String mainErr = abbaSide(live, cls, new Request(a, readFirst), new Request(b, !readFirst), aHeld, bHeld);
        worker.join();
        run.tick();
        if (mainErr != null || workerErr[0] != null) {
            return Scenario.Outcome.failed(1, run.backoffs(), "A: " + mainErr + ", B: " + workerErr[0]);
        }
        if (run.backoffs() == before) {
            return Scenario.Outcome.failed(1, 0, "missed the ABBA deadlock: nobody backed off");
        }
        return Scenario.Outcome.passed(1, run.backoffs());
    }

    private static String abbaSide(Liveness live, WwClass cls, Request mine, Request theirs,
                                   CountDownLatch myHeld, CountDownLatch theirHeld) {
        AcquireContext ctx = cls.begin();
        try {
            lockAllResolving(live, ctx, List.of(mine));
            myHeld.countDown();
            TortureRun.awaitUninterruptibly(theirHeld);
            lockAllResolving(live, ctx, List.of(mine, theirs));
            String err = mine.lock().isHeldBy(ctx) && theirs.lock().isHeldBy(ctx) ? null
                    : "does not hold both after resolving";
            ctx.unlockAll();
            return err;
        } catch (RuntimeException e) {
            return e.toString();
        } finally {
            live.close(ctx);
        }
    }

    // ---------------------------------------------------------------- upgrade

    /** Readers of one lock all upgrade it at once: every one must end up writing it, in turn. */
    private static Scenario.Outcome upgrade(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("upgrade");
        int n = Math.max(2, run.threadCount());
        WwSharedMutex m = new WwSharedMutex(cls);
        CountDownLatch allRead = new CountDownLatch(n);
        Liveness live = new Liveness(run);
        AtomicReferenceArray<String> errors = new AtomicReferenceArray<>(n);
        AtomicBoolean writing = new AtomicBoolean();
        for (int i = 0; i < n; i++) {
            int me = i;
            run.newThread("upgrade-" + i, () -> {
                AcquireContext ctx = cls.begin();
                try {
                    lockAllResolving(live, ctx, List.of(new Request(m, true)));
                    allRead.countDown();
                    TortureRun.awaitUninterruptibly(allRead);
                    lockAllResolving(live, ctx, List.of(new Request(m, true), new Request(m, false)));
                    if (!writing.compareAndSet(false, true)) {
                        errors.set(me, "two writers after upgrading");
                    }
                    writing.set(false);
                    ctx.unlockAll();
                    run.tick();
                } catch (RuntimeException e) {
                    errors.set(me, e.toString());
                } finally {
                    live.close(ctx);
                }
            });
        }
        run.joinAll();
        for (int i = 0; i < n; i++) {
            if (errors.get(i) != null) {
                return Scenario.Outcome.failed(n, run.backoffs(), "upgrader " + i + ": " + errors.get(i));
            }
        }
        if (run.backoffs() == 0) {
            return Scenario.Outcome.failed(n, 0, "competing upgrades resolved without a back-off");
        }
        return Scenario.Outcome.passed(n, run.backoffs());
    }

    // ---------------------------------------------------------------- cycle

    /**
     * Rings of n = 2 .. max(8, cores + 1) threads: member i holds lock i shared (even i) or
     * exclusively (odd i), then asks for lock i + 1 in the mode that conflicts with its holder
     * (exclusive from a reader, shared from a writer). Every ring must resolve.
     */
    private static Scenario.Outcome cycle(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("cycle-rw");
        int maxRing = Math.max(8, Runtime.getRuntime().availableProcessors() + 1);
        Liveness live = new Liveness(run);
        long rings = 0;
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
        List<WwSharedMutex> locks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            locks.add(new WwSharedMutex(cls));
        }
        CountDownLatch allHeld = new CountDownLatch(n);
        AtomicReferenceArray<String> results = new AtomicReferenceArray<>(n);
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int me = i;
            int next = (i + 1) % n;
            Request own = new Request(locks.get(me), me % 2 == 0);
            Request theirs = new Request(locks.get(next), next % 2 != 0);
            workers.add(run.newThread("cycle-rw-" + n + "-" + i, () -> {
                AcquireContext ctx = cls.begin();
                try {
                    lockAllResolving(live, ctx, List.of(own));
                    allHeld.countDown();
                    TortureRun.awaitUninterruptibly(allHeld);
                    lockAllResolving(live, ctx, List.of(own, theirs));
                    if (!own.lock().isHeldBy(ctx) || !theirs.lock().isHeldBy(ctx)) {
                        results.set(me, "member " + me + " does not hold both locks");
                    }
                    ctx.unlockAll();
                } catch (RuntimeException e) {
                    results.set(me, e.toString());
                } finally {
                    live.close(ctx);
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

    // ---------------------------------------------------------------- writer among readers

    /**
     * Readers take one lock shared, each with a new context, back to back and overlapping, so
     * that the lock is never free of readers; a writer must still get it, again and again. Only
     * the writer reports progress, so a starved writer shows as a hang.
     */
    private static Scenario.Outcome writerNotStarved(TortureRun run) throws Exception {
        WwClass cls = run.newExactClass("writer-not-starved");
        WwSharedMutex m = new WwSharedMutex(cls);
        int readers = Math.max(2, run.threadCount());
        int writes = 20;
        AtomicBoolean done = new AtomicBoolean();
        Liveness live = new Liveness(run);
        CountDownLatch readersIn = new CountDownLatch(readers);
        for (int i = 0; i < readers; i++) {
            run.newThread("reader-" + i, () -> {
                boolean counted = false;
                while (!done.get()) {
                    AcquireContext ctx = cls.begin();
                    try {
                        lockAllResolving(live, ctx, List.of(new Request(m, true)));
                        if (!counted) {
                            readersIn.countDown();
                            counted = true;
                        }
                        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
                        ctx.unlockAll();
                    } finally {
                        live.close(ctx);
                    }
                }
            });
        }
        readersIn.await();
        for (int i = 0; i < writes; i++) {
            AcquireContext ctx = cls.begin();
            try {
                lockAllResolving(live, ctx, List.of(new Request(m, false)));
                if (m.readerCount() != 0) {
                    run.fail("a writer holds the lock beside " + m.readerCount() + " reader(s)");
                }
                ctx.unlockAll();
            } finally {
                live.close(ctx);
            }
            run.tick();
        }
        done.set(true);
        run.joinAll();
        return run.failure() != null ? Scenario.Outcome.failed(writes, run.backoffs(), run.failure())
                : Scenario.Outcome.passed(writes, run.backoffs());
    }

    // ---------------------------------------------------------------- stress

    /**
     * Workers run transactions over 16 locks until the time is up: each picks 4 locks at random,
     * reads 3 in 4 of them and writes the rest, and sometimes reads a lock and later writes it (an
     * upgrade), in a random order; holds them 0.1-0.3 ms and checks reader/writer exclusion on
     * every lock.
     */
    private static Scenario.Outcome stress(TortureRun run) throws Exception {
        WwClass cls = run.newClass("stress-rw");
        int nlocks = 16;
        List<WwSharedMutex> locks = new ArrayList<>();
        Map<WwSharedMutex, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < nlocks; i++) {
            WwSharedMutex m = new WwSharedMutex(cls);
            locks.add(m);
            index.put(m, i);
        }
        AtomicIntegerArray inside = new AtomicIntegerArray(nlocks);
        LongAdder transactions = new LongAdder();
        Liveness live = new Liveness(run);
        long start = System.nanoTime();
        for (int t = 0; t < Math.max(2, run.threadCount()); t++) {
            run.newThread("stress-rw-" + t, () -> {
                try {
                    while (!run.expired(start) && run.failure() == null) {
                        stressTransaction(run, live, cls, locks, index, inside);
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

    private static void stressTransaction(TortureRun run, Liveness live, WwClass cls, List<WwSharedMutex> locks,
                                          Map<WwSharedMutex, Integer> index, AtomicIntegerArray inside) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        List<WwSharedMutex> picked = new ArrayList<>(locks);
        Collections.shuffle(picked, rnd);
        List<Request> requests = new ArrayList<>();
        for (WwSharedMutex m : picked.subList(0, 4)) {
            requests.add(new Request(m, rnd.nextInt(4) != 0));
        }
        Request first = requests.get(0);
        if (first.shared() && rnd.nextBoolean()) {
            requests.add(new Request(first.lock(), false));     // read it now, write it later
        }
        AcquireContext ctx = cls.begin();
        try {
            lockAllResolving(live, ctx, requests);
            ctx.acquireDone();
            critical(run, ctx, index, ctx.heldSharedMutexes(), inside);
            ctx.unlockAll();
        } finally {
            live.close(ctx);
        }
    }

    /** Checks reader/writer exclusion on every held lock across a 0.1-0.3 ms hold. */
    private static void critical(TortureRun run, AcquireContext ctx, Map<WwSharedMutex, Integer> index,
                                 List<WwSharedMutex> held, AtomicIntegerArray inside) {
        int[] idx = new int[held.size()];
        int[] delta = new int[held.size()];
        for (int i = 0; i < idx.length; i++) {
            WwSharedMutex m = held.get(i);
            idx[i] = index.get(m);
            delta[i] = m.isHeldExclusivelyBy(ctx) ? WRITER : 1;
            int before = inside.getAndAdd(idx[i], delta[i]);
            if (delta[i] == WRITER ? before != 0 : before >= WRITER) {
                run.fail("reader/writer exclusion failure on lock " + idx[i] + ": "
                        + (delta[i] == WRITER ? "a writer entered beside " + before : "a reader entered beside a writer"));
            }
        }
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(100 + ThreadLocalRandom.current().nextInt(200)));
        for (int i = 0; i < idx.length; i++) {
            inside.addAndGet(idx[i], -delta[i]);
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Takes every request of {@code requests} in order ("method 3"): on a back-off, unlock all,
     * slow-lock the contended lock in the mode that backed off, and go round again.
     */
    private static void lockAllResolving(Liveness live, AcquireContext ctx, List<Request> requests) {
        for (;;) {
            long began = 0;
            try {
                for (Request r : requests) {
                    began = live.now();
                    r.take(ctx);
                }
                return;
            } catch (BackoffException e) {
                live.checkBackoff(e, began);
                ctx.unlockAll();
                if (e.shared()) {
                    e.sharedMutex().lockSharedSlow(ctx);
                } else {
                    e.sharedMutex().lockSlow(ctx);
                }
            }
        }
    }

    private static Scenario scenario(String name, Scenario.Body body) {
        return Scenario.of(SUITE, name, true, false, body);
    }
}
