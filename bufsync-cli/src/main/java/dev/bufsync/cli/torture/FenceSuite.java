package dev.bufsync.cli.torture;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceChain;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * The kernel's dma-fence races as torture scenarios (drivers/dma-buf/st-dma-fence.c
 * race_signal_callback, st-dma-fence-chain.c find_race and wait_*): a callback added while the
 * fence is being signalled is never lost, a chain lookup racing signals never fails, and a waiter
 * on the tail of a long chain always wakes, whatever order the points signal in.
 */
final class FenceSuite {
    private static final String SUITE = "fence";
    private static final int CHAIN_LENGTH = 4096;
    private static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private FenceSuite() {
    }

    static List<Scenario> scenarios() {
        return List.of(
                scenario("signal-callback-race", FenceSuite::signalCallbackRace),
                scenario("chain-find-race", FenceSuite::chainFindRace),
                scenario("chain-wait-forward", run -> chainWait(run, Order.FORWARD)),
                scenario("chain-wait-backward", run -> chainWait(run, Order.BACKWARD)),
                scenario("chain-wait-random", run -> chainWait(run, Order.RANDOM)));
    }

    // ---------------------------------------------------------------- race_signal_callback

    /**
     * Two threads each publish their own fence, take the other's and add a callback to it, and
     * signal their own, half of the time before adding and half after. A callback that was
     * accepted must run; a refused one counts as a miss (the fence had signalled already).
     */
    private static Scenario.Outcome signalCallbackRace(TortureRun run) throws Exception {
        long passes = 0;
        long misses = 0;
        for (boolean before : new boolean[] {true, false}) {
            AtomicReferenceArray<Fence> slots = new AtomicReferenceArray<>(2);
            AtomicBoolean stop = new AtomicBoolean();
            LongAdder pass = new LongAdder();
            LongAdder miss = new LongAdder();
            long start = System.nanoTime();
            Duration half = run.duration().dividedBy(2);
            List<Thread> threads = new ArrayList<>();
            for (int id = 0; id < 2; id++) {
                final int me = id;
                threads.add(run.newThread("race-" + (before ? "before" : "after") + "-" + id, () ->
                        raceSignalCallback(run, me, before, slots, stop, pass, miss)));
            }
            while (System.nanoTime() - start < half.toNanos() && run.failure() == null) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            stop.set(true);
            for (Thread t : threads) {
                t.join();
            }
            passes += pass.sum();
            misses += miss.sum();
        }
        if (run.failure() != null) {
            return Scenario.Outcome.failed(passes, 0, run.failure() + " (" + misses + " misses)");
        }
        return Scenario.Outcome.passed(passes, 0);
    }

    private static void raceSignalCallback(TortureRun run, int id, boolean before,
                                           AtomicReferenceArray<Fence> slots, AtomicBoolean stop,
                                           LongAdder pass, LongAdder miss) {
        FenceContext context = FenceContext.create("race-" + id);
        while (!stop.get() && run.failure() == null) {
            Signaller mine = context.next();
            slots.set(id, mine.fence());
            Fence theirs;
            while ((theirs = slots.get(1 - id)) == null && !stop.get()) {
                Thread.onSpinWait();
            }
            if (before) {
                mine.signal();
            }
            AtomicBoolean seen = new AtomicBoolean();
            if (theirs == null || !theirs.addCallback(f -> seen.set(true))) {
                miss.increment();
                seen.set(true);
            }
            if (!before) {
                mine.signal();
            }
            long deadline = System.nanoTime() + PATIENCE_NANOS;
            while (!seen.get() && System.nanoTime() - deadline < 0) {
                Thread.yield();
            }
            if (!seen.get() && theirs != null && theirs.isSignaled()) {
                run.fail("callback not seen on thread " + id + " after " + pass.sum() + " passes, signalling "
                        + (before ? "before" : "after") + " addCallback; fence " + theirs);
            }
            slots.compareAndSet(id, mine.fence(), null);
            pass.increment();
            run.tick();
        }
    }

    // ---------------------------------------------------------------- find_race

    /**
     * A chain of 4096 points; every thread looks up random points from the tail while signalling
     * random points. A lookup of a point not later than the tail must always succeed, and finding
     * a found link's own point again must succeed too.
     */
    private static Scenario.Outcome chainFindRace(TortureRun run) throws Exception {
        List<Signaller> points = new ArrayList<>(CHAIN_LENGTH);
        final FenceChain chain = chain("find-race", points);
        LongAdder cycles = new LongAdder();
        long start = System.nanoTime();
        for (int t = 0; t < run.threadCount(); t++) {
            run.newThread("find-" + t, () -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (!run.expired(start) && run.failure() == null) {
                    long seqno = 1 + rnd.nextInt(CHAIN_LENGTH);
                    Optional<Fence> found = chain.find(seqno);
                    if (found.isEmpty()) {
                        run.fail("failed to find fence seqno " + seqno);
                        return;
                    }
                    Fence f = found.get();
                    if (f instanceof FenceChain link && link.seqno() == seqno && link.find(seqno).isEmpty()) {
                        run.fail("reported an invalid fence for find-self " + seqno);
                        return;
                    }
                    points.get(rnd.nextInt(CHAIN_LENGTH - 1)).trySignal();
                    cycles.increment();
                    run.tick();
                }
            });
        }
        run.joinAll();
        points.forEach(Signaller::trySignal);
        if (run.failure() != null) {
            return Scenario.Outcome.failed(cycles.sum(), 0, run.failure());
        }
        if (!chain.isSignaled()) {
            return Scenario.Outcome.failed(cycles.sum(), 0, "the tail did not signal after every point did");
        }
        return Scenario.Outcome.passed(cycles.sum(), 0);
    }

    // ---------------------------------------------------------------- wait_*

    private enum Order { FORWARD, BACKWARD, RANDOM }

    /**
     * A waiter blocks on the tail of a 4096-point chain while the points signal forward, backward
     * or shuffled. The waiter must wake, and only once every point has signalled. Repeats for the
     * run's duration.
     */
    private static Scenario.Outcome chainWait(TortureRun run, Order order) throws Exception {
        long start = System.nanoTime();
        long rounds = 0;
        do {
            List<Signaller> points = new ArrayList<>(CHAIN_LENGTH);
            final FenceChain chain = chain("wait-" + order, points);
            String[] waiterError = new String[1];
            Thread waiter = run.newThread("wait-" + rounds, () -> {
                try {
                    chain.await();
                    for (Signaller s : points) {
                        if (!s.fence().isSignaled()) {
                            waiterError[0] = "the tail signalled while " + s.fence() + " was pending";
                            return;
                        }
                    }
                } catch (InterruptedException e) {
                    waiterError[0] = "waiter interrupted";
                }
            });
            List<Signaller> signalOrder = new ArrayList<>(points);
            if (order == Order.BACKWARD) {
                Collections.reverse(signalOrder);
            } else if (order == Order.RANDOM) {
                Collections.shuffle(signalOrder, ThreadLocalRandom.current());
            }
            for (Signaller s : signalOrder) {
                s.signal();
            }
            waiter.join();
            rounds++;
            run.tick();
            if (waiterError[0] != null) {
                return Scenario.Outcome.failed(rounds, 0, waiterError[0]);
            }
        } while (!run.expired(start));
        return Scenario.Outcome.passed(rounds, 0);
    }

    /** A timeline of {@link #CHAIN_LENGTH} points 1, 2, ...; their producers go into {@code points}. */
    private static FenceChain chain(String name, List<Signaller> points) {
        FenceContext context = FenceContext.create(name);
        FenceChain tail = null;
        for (int i = 0; i < CHAIN_LENGTH; i++) {
            Signaller s = context.next();
            points.add(s);
            tail = FenceChain.link(tail, s.fence(), i + 1);
        }
        return tail;
    }

    private static Scenario scenario(String name, Scenario.Body body) {
        return Scenario.of(SUITE, name, false, true, body);
    }
}
