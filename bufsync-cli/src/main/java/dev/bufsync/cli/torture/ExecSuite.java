package dev.bufsync.cli.torture;

import dev.bufsync.exec.Exec;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What upstream's drm_exec tests lack: contention. Threads run {@link Exec} transactions over
 * random subsets of shared reservations, in random order and with duplicates, and publish a fence
 * on every object they lock. Every fence published on an object must be seen by every later
 * transaction on that object until it signals (nothing lost), and every transaction must finish.
 */
final class ExecSuite {
    private static final int OBJECTS = 64;
    private static final int MAX_PER_TRANSACTION = 8;

    private ExecSuite() {
    }

    static List<Scenario> scenarios() {
        return List.of(Scenario.of("exec", "exec-contention", true, true, ExecSuite::contention));
    }

    private static Scenario.Outcome contention(TortureRun run) throws Exception {
        WwClass cls = run.newClass("exec-contention");
        List<Reservation> objects = new ArrayList<>();
        for (int i = 0; i < OBJECTS; i++) {
            objects.add(new Reservation(cls, "obj-" + i));
        }
        // The fence last published on each object; written and read under that object's lock.
        AtomicReferenceArray<Fence> lastPublished = new AtomicReferenceArray<>(OBJECTS);
        LongAdder transactions = new LongAdder();
        LongAdder retries = new LongAdder();
        long start = System.nanoTime();
        for (int t = 0; t < run.threadCount(); t++) {
            run.newThread("exec-" + t, () -> {
                FenceContext timeline = FenceContext.create(Thread.currentThread().getName());
                Signaller previous = null;
                try {
                    while (!run.expired(start) && run.failure() == null) {
                        Signaller done = timeline.next();
                        int retried = transaction(run, objects, lastPublished, done.fence());
                        retries.add(retried);
                        if (previous != null) {
                            previous.signal();          // old fences signal and get pruned
                        }
                        previous = done;
                        transactions.increment();
                        run.tick();
                    }
                } catch (Throwable e) {
                    run.fail("exec worker failed: " + e);
                } finally {
                    if (previous != null) {
                        previous.trySignal();
                    }
                }
            });
        }
        run.joinAll();
        long n = transactions.sum();
        if (run.failure() != null) {
            return Scenario.Outcome.failed(n, retries.sum(), run.failure());
        }
        if (n == 0) {
            return Scenario.Outcome.failed(0, retries.sum(), "no transaction completed");
        }
        return Scenario.Outcome.passed(n, retries.sum());
    }

    /** One transaction: lock a random list (with duplicates), check, publish, return the retries. */
    private static int transaction(TortureRun run, List<Reservation> objects,
                                   AtomicReferenceArray<Fence> lastPublished, Fence done) throws InterruptedException {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int n = 1 + rnd.nextInt(MAX_PER_TRANSACTION);
        List<Integer> picks = new ArrayList<>(n + 1);
        for (int i = 0; i < n; i++) {
            picks.add(rnd.nextInt(OBJECTS));
        }
        picks.add(picks.get(rnd.nextInt(n)));                    // at least one duplicate
        try (Exec exec = Exec.begin(Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                for (int i : picks) {
                    e.prepare(objects.get(i), 1);
                }
            });
            for (HasReservation obj : exec.locked()) {
                Reservation resv = obj.reservation();
                int index = objects.indexOf(resv);
                Fence last = lastPublished.get(index);
                // Read the list first: a fence missing from it must have signalled (and been
                // pruned) before the read, so it must read as signalled after it.
                List<Fence> attached = resv.fences(Usage.BOOKKEEP);
                if (last != null && !attached.contains(last) && !last.isSignaled()) {
                    run.fail("lost fence: " + last + " published on " + resv.name() + " is missing from " + resv);
                }
                resv.addFence(done, Usage.WRITE);
                lastPublished.set(index, done);
            }
            return exec.retries();
        }
    }
}
