package dev.bufsync.ww;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Mode;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.Signal;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;
import org.openjdk.jcstress.infra.results.ZI_Result;

/**
 * jcstress tests of {@link WwMutex}'s memory-ordering and progress claims. Run with
 * {@code java -jar bufsync-jcstress/target/jcstress.jar -t WwMutexStress}.
 */
public final class WwMutexStress {
    private WwMutexStress() {
    }

    private static final WwClass WOUND_WAIT = WwClass.builder("stress-ww").injectBackoff(false).build();
    private static final WwClass WAIT_DIE = WwClass.builder("stress-wd")
            .algorithm(WwClass.Algorithm.WAIT_DIE).injectBackoff(false).build();

    /** Locks {@code order} with a fresh context and the back-off loop, runs {@code body}, unlocks. */
    static void transaction(WwClass cls, List<WwMutex> order, Runnable body) {
        try (AcquireContext ctx = cls.begin()) {
            WwMutex contended = null;
            for (;;) {
                try {
                    if (contended != null) {
                        contended.lockSlow(ctx);
                    }
                    for (WwMutex m : order) {
                        m.lock(ctx);
                    }
                    break;
                } catch (BackoffException e) {
                    ctx.unlockAll();
                    contended = e.mutex();
                }
            }
            body.run();
            ctx.unlockAll();
        }
    }

    /** Two transactions increment a plain counter under one mutex: no update is lost. */
    @JCStressTest
    @Description("Mutual exclusion: two contexts increment a plain field under one WwMutex.")
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "Both increments survive: the mutex excluded.")
    @Outcome(expect = FORBIDDEN, desc = "An increment was lost: mutual exclusion failure.")
    @State
    public static class MutualExclusion {
        final WwMutex m = new WwMutex(WOUND_WAIT);
        int counter;

        @Actor
        public void actor1() {
            transaction(WOUND_WAIT, List.of(m), () -> counter++);
        }

        @Actor
        public void actor2() {
            transaction(WOUND_WAIT, List.of(m), () -> counter++);
        }

        @Arbiter
        public void arbiter(I_Result r) {
            r.r1 = counter;
        }
    }

    /** Writes made under the mutex are seen whole by the next holder. */
    @JCStressTest
    @Description("Unlock happens-before the next acquisition, with and without a context.")
    @Outcome(id = {"0, 0", "1, 1"}, expect = ACCEPTABLE, desc = "The reader ran before or after the writer, whole.")
    @Outcome(expect = FORBIDDEN, desc = "The reader saw half of the writer's critical section.")
    @State
    public static class LockVisibility {
        final WwMutex m = new WwMutex(WAIT_DIE);
        int a;
        int b;

        @Actor
        public void writer() {
            transaction(WAIT_DIE, List.of(m), () -> {
                a = 1;
                b = 1;
            });
        }

        @Actor
        public void reader(II_Result r) {
            m.lock();
            r.r1 = b;
            r.r2 = a;
            m.unlock();
        }
    }

    /**
     * ABBA under wound-wait: the actor's transaction must finish while the signal's runs the
     * opposite order.
     */
    @JCStressTest(Mode.Termination)
    @Description("ABBA with the back-off loop resolves under wound-wait.")
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "The transaction finished: the conflict was resolved.")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "Deadlock: ABBA was not resolved.")
    @State
    public static class AbbaResolvesWoundWait {
        final WwMutex a = new WwMutex(WOUND_WAIT);
        final WwMutex b = new WwMutex(WOUND_WAIT);

        @Actor
        public void ab() {
            transaction(WOUND_WAIT, List.of(a, b), () -> { });
        }

        @Signal
        public void ba() {
            transaction(WOUND_WAIT, List.of(b, a), () -> { });
        }
    }

    /** ABBA under wait-die: as above. */
    @JCStressTest(Mode.Termination)
    @Description("ABBA with the back-off loop resolves under wait-die.")
    @Outcome(id = "TERMINATED", expect = ACCEPTABLE, desc = "The transaction finished: the conflict was resolved.")
    @Outcome(id = "STALE", expect = FORBIDDEN, desc = "Deadlock: ABBA was not resolved.")
    @State
    public static class AbbaResolvesWaitDie {
        final WwMutex a = new WwMutex(WAIT_DIE);
        final WwMutex b = new WwMutex(WAIT_DIE);

        @Actor
        public void ab() {
            transaction(WAIT_DIE, List.of(a, b), () -> { });
        }

        @Signal
        public void ba() {
            transaction(WAIT_DIE, List.of(b, a), () -> { });
        }
    }

    /**
     * Positive control: two plain locks taken in opposite orders reach the circular wait that the
     * ABBA tests above must never hang in. jcstress 0.16 has no deadlock mode, and a stuck
     * {@code @Signal} would hang the harness, so the second lock is timed: "0, 0" means each thread
     * held its first lock while the other held it too, which with untimed locks is a deadlock.
     */
    @JCStressTest
    @Description("Positive control: plain ReentrantLocks in opposite orders reach a circular wait.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "Circular wait: each held one lock and timed out on the other (a deadlock if untimed).")
    @Outcome(id = {"1, 1", "0, 1", "1, 0"}, expect = ACCEPTABLE, desc = "This run did not interleave badly.")
    @Outcome(expect = FORBIDDEN, desc = "Impossible result.")
    @State
    public static class AbbaPlainLocksDeadlock {
        final ReentrantLock a = new ReentrantLock();
        final ReentrantLock b = new ReentrantLock();

        @Actor
        public void ab(II_Result r) {
            r.r1 = both(a, b);
        }

        @Actor
        public void ba(II_Result r) {
            r.r2 = both(b, a);
        }

        private static int both(ReentrantLock first, ReentrantLock second) {
            first.lock();
            try {
                if (second.tryLock(10, TimeUnit.MILLISECONDS)) {
                    second.unlock();
                    return 1;
                }
                return 0;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 0;
            } finally {
                first.unlock();
            }
        }
    }

    /**
     * The wound flag is published with release and read with acquire semantics: a context that
     * sees it wounded also sees what the wounder wrote before wounding. (The flag is a hint that
     * the owner confirms in the queues of its mutexes before it backs off; the hint itself must
     * not run ahead of the wounder's writes.)
     */
    @JCStressTest
    @Description("Publication of the wounded flag: release by the wounder, acquire by the owner.")
    @Outcome(id = {"false, 0", "false, 42"}, expect = ACCEPTABLE,
            desc = "The owner looked before the wound was published; nothing is promised then.")
    @Outcome(id = "true, 42", expect = ACCEPTABLE, desc = "Wounded, with the wounder's writes visible.")
    @Outcome(expect = FORBIDDEN, desc = "Wounded, but the wounder's earlier writes are not visible.")
    @State
    public static class WoundPublication {
        final AcquireContext victim;
        int data;

        public WoundPublication() {
            // The harness builds states on one thread, many at a time, so the context is made
            // directly (same package) rather than begun and closed; the wound pairing under test
            // does not depend on the owner thread.
            victim = new AcquireContext(WOUND_WAIT, 2, new WwClass.ThreadState(WOUND_WAIT), false);
        }

        @Actor
        public void woundingWaiter() {
            data = 42;
            victim.wound();
        }

        @Actor
        public void owner(ZI_Result r) {
            r.r1 = victim.isWounded();
            r.r2 = data;
        }
    }

    /**
     * A wound reaches a transferable context's new thread: the wounder writes the wounded flag
     * and then reads the owner (to unpark it); the thread that attaches writes the owner (CAS) and
     * then reads the flag (before it parks). Both sides are volatile, so at least one sees the
     * other: either the wounder finds the thread to wake, or the thread sees the wound and does
     * not wait. Losing both would leave a wounded transaction parked with nobody to wake it.
     */
    @JCStressTest
    @Description("Dekker between a wound and attach: the wounder sees the carrier or the carrier sees the wound.")
    @Outcome(id = {"true, true", "true, false", "false, true"}, expect = ACCEPTABLE,
            desc = "At least one side saw the other.")
    @Outcome(id = "false, false", expect = FORBIDDEN,
            desc = "The carrier missed the wound and the wounder missed the carrier: a lost wake-up.")
    @State
    public static class WoundMeetsAttach {
        final AcquireContext victim;

        public WoundMeetsAttach() {
            // A class per state: a thread may have one context of a class attached, and the
            // actor thread attaches one per state without detaching it.
            AcquireContext ctx = WwClass.builder("stress-attach").injectBackoff(false).build().beginTransferable();
            ctx.detach();
            victim = ctx;
        }

        @Actor
        public void carrier(ZZ_Result r) {
            victim.attach();
            r.r1 = victim.isWounded();
        }

        @Actor
        public void wounder(ZZ_Result r) {
            victim.wound();
            r.r2 = victim.ownerForWound() instanceof Thread;
        }
    }

    /** The state of the two tests below: a first waiter spinning before it parks. */
    public static class SpinningWaiter {
        final QueuedMutex.Waiter waiter = new QueuedMutex.Waiter(null);

        public SpinningWaiter() {
            waiter.set(QueuedMutex.Waiter.SPINNING);
        }
    }

    /**
     * A hand-off meets a spinning first waiter ([G] against [S]): the granter sets GRANTED and
     * skips the unpark if SPINNING was set; the waiter clears SPINNING and parks unless GRANTED
     * was set. Both are read-modify-writes of one status word, so the second sees the first.
     * Losing both would leave a granted waiter parked with nobody to wake it.
     */
    @JCStressTest
    @Description("Hand-off against a spinning waiter: the granter unparks, or the waiter sees the grant.")
    @Outcome(id = {"true, true", "false, false"}, expect = ACCEPTABLE,
            desc = "The second of the two saw the first: one of them carries the wake-up.")
    @Outcome(id = "false, true", expect = ACCEPTABLE_INTERESTING,
            desc = "The granter unparks although the waiter saw the grant: a spare permit, harmless.")
    @Outcome(id = "true, false", expect = FORBIDDEN,
            desc = "The granter skipped the unpark and the waiter missed the grant: a lost wake-up.")
    @State
    public static class GrantMeetsSpin extends SpinningWaiter {
        @Actor
        public void granter(ZZ_Result r) {
            r.r1 = (waiter.set(QueuedMutex.Waiter.GRANTED) & QueuedMutex.Waiter.SPINNING) != 0;
        }

        @Actor
        public void spinner(ZZ_Result r) {
            r.r2 = (waiter.clear(QueuedMutex.Waiter.SPINNING) & QueuedMutex.Waiter.GRANTED) != 0;
        }
    }

    /**
     * A release frees the mutex for a spinning first waiter ([F] against [S]): the releaser sets
     * FREED and skips the unpark if SPINNING was set; the waiter clears SPINNING and then, before
     * it parks, looks for a reason to look (RECHECK or FREED). Losing both would leave the first
     * waiter parked beside a free mutex.
     */
    @JCStressTest
    @Description("Release against a spinning waiter: the releaser unparks, or the waiter sees FREED.")
    @Outcome(id = {"true, true", "false, false", "false, true"}, expect = ACCEPTABLE,
            desc = "At least one side carries the wake-up (a spare permit is harmless).")
    @Outcome(id = "true, false", expect = FORBIDDEN,
            desc = "The releaser skipped the unpark and the waiter missed FREED: a lost wake-up.")
    @State
    public static class FreeMeetsSpin extends SpinningWaiter {
        @Actor
        public void releaser(ZZ_Result r) {
            r.r1 = (waiter.set(QueuedMutex.Waiter.FREED) & QueuedMutex.Waiter.SPINNING) != 0;
        }

        @Actor
        public void spinner(ZZ_Result r) {
            waiter.clear(QueuedMutex.Waiter.SPINNING);
            r.r2 = waiter.is(QueuedMutex.Waiter.RECHECK | QueuedMutex.Waiter.FREED);
        }
    }

    /**
     * The owner that thread dumps show never outlives its hold (invariant 10): one thread locks
     * and unlocks; another queues briefly (a timed tryLock: it shows the holder it finds, then
     * takes the mutex or times out and leaves the queue), while the release may run beside its
     * queue-bit sections. Once both are done the mutex is free, so no owner may be shown.
     */
    @JCStressTest
    @Description("The owner shown for thread dumps is cleared once the mutex is free.")
    @Outcome(id = {"true, true", "true, false"}, expect = ACCEPTABLE,
            desc = "No owner shown for the free mutex (the waiter took it, or timed out).")
    @Outcome(id = {"false, true", "false, false"}, expect = FORBIDDEN,
            desc = "A thread shown owning a free mutex: a dump would report a stale owner.")
    @State
    public static class ShownOwnerNeverOutlivesItsHolder {
        final WwMutex m = new WwMutex(WOUND_WAIT);

        @Actor
        public void holder() {
            m.lock();
            m.unlock();
        }

        @Actor
        public void waiter(ZZ_Result r) {
            try {
                if (m.tryLock(Duration.ofNanos(2_000))) {
                    r.r2 = true;
                    m.unlock();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Arbiter
        public void arbiter(ZZ_Result r) {
            r.r1 = m.shownOwner() == null;
        }
    }
}
