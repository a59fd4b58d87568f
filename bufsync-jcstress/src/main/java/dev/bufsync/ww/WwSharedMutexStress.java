package dev.bufsync.ww;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * jcstress tests of {@link WwSharedMutex}'s reader/writer exclusion and visibility claims, for
 * both algorithms. Run with {@code java -jar bufsync-jcstress/target/jcstress.jar -t WwSharedMutexStress}.
 */
public final class WwSharedMutexStress {
    private WwSharedMutexStress() {
    }

    private static final WwClass WOUND_WAIT = WwClass.builder("stress-shared-ww").injectBackoff(false).build();
    private static final WwClass WAIT_DIE = WwClass.builder("stress-shared-wd")
            .algorithm(WwClass.Algorithm.WAIT_DIE).injectBackoff(false).build();

    /**
     * Takes {@code m} shared (then, if {@code upgrade}, exclusively too) or exclusively with a
     * fresh context and the back-off loop, runs {@code body}, unlocks.
     */
    static void transaction(WwClass cls, WwSharedMutex m, boolean shared, boolean upgrade, Runnable body) {
        try (AcquireContext ctx = cls.begin()) {
            boolean slow = false;
            boolean slowShared = false;
            for (;;) {
                try {
                    if (slow) {
                        if (slowShared) {
                            m.lockSharedSlow(ctx);
                        } else {
                            m.lockSlow(ctx);
                        }
                    }
                    if (shared) {
                        m.lockShared(ctx);
                    }
                    if (!shared || upgrade) {
                        m.lock(ctx);
                    }
                    break;
                } catch (BackoffException e) {
                    ctx.unlockAll();
                    slow = true;
                    slowShared = e.shared();
                }
            }
            body.run();
            ctx.unlockAll();
        }
    }

    /** The state of a writer/reader pair: the writer writes two fields, the reader reads both. */
    @State
    public static class Pair {
        int x;
        int y;
    }

    /** Reader/writer exclusion under wound-wait: a reader sees both writes or neither. */
    @JCStressTest
    @Description("A writer sets x and y under WwSharedMutex.lock; a reader reads them under lockShared (wound-wait).")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The reader ran first.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The writer ran first, and its writes are visible.")
    @Outcome(expect = FORBIDDEN, desc = "The reader saw half a write: exclusion or visibility failure.")
    @State
    public static class ReaderWriterExclusion extends Pair {
        final WwSharedMutex m = new WwSharedMutex(WOUND_WAIT);

        @Actor
        public void writer() {
            transaction(WOUND_WAIT, m, false, false, () -> {
                x = 1;
                y = 1;
            });
        }

        @Actor
        public void reader(II_Result r) {
            transaction(WOUND_WAIT, m, true, false, () -> {
                r.r1 = x;
                r.r2 = y;
            });
        }
    }

    /** Reader/writer exclusion under wait-die: a reader sees both writes or neither. */
    @JCStressTest
    @Description("A writer sets x and y under WwSharedMutex.lock; a reader reads them under lockShared (wait-die).")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The reader ran first.")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "The writer ran first, and its writes are visible.")
    @Outcome(expect = FORBIDDEN, desc = "The reader saw half a write: exclusion or visibility failure.")
    @State
    public static class ReaderWriterExclusionWaitDie extends Pair {
        final WwSharedMutex m = new WwSharedMutex(WAIT_DIE);

        @Actor
        public void writer() {
            transaction(WAIT_DIE, m, false, false, () -> {
                x = 1;
                y = 1;
            });
        }

        @Actor
        public void reader(II_Result r) {
            transaction(WAIT_DIE, m, true, false, () -> {
                r.r1 = x;
                r.r2 = y;
            });
        }
    }

    /** Two readers that both upgrade and then increment a plain field: the writers excluded each other. */
    @JCStressTest
    @Description("Two contexts read a WwSharedMutex, upgrade it and increment a plain field (wound-wait).")
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "Both increments survive: the upgrades excluded each other.")
    @Outcome(expect = FORBIDDEN, desc = "An increment was lost: two writers at once.")
    @State
    public static class UpgradeExclusion {
        final WwSharedMutex m = new WwSharedMutex(WOUND_WAIT);
        int counter;

        @Actor
        public void actor1() {
            transaction(WOUND_WAIT, m, true, true, () -> counter++);
        }

        @Actor
        public void actor2() {
            transaction(WOUND_WAIT, m, true, true, () -> counter++);
        }

        @Arbiter
        public void arbiter(I_Result r) {
            r.r1 = counter;
        }
    }

    /** Two readers that both upgrade under wait-die: the writers excluded each other. */
    @JCStressTest
    @Description("Two contexts read a WwSharedMutex, upgrade it and increment a plain field (wait-die).")
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "Both increments survive: the upgrades excluded each other.")
    @Outcome(expect = FORBIDDEN, desc = "An increment was lost: two writers at once.")
    @State
    public static class UpgradeExclusionWaitDie {
        final WwSharedMutex m = new WwSharedMutex(WAIT_DIE);
        int counter;

        @Actor
        public void actor1() {
            transaction(WAIT_DIE, m, true, true, () -> counter++);
        }

        @Actor
        public void actor2() {
            transaction(WAIT_DIE, m, true, true, () -> counter++);
        }

        @Arbiter
        public void arbiter(I_Result r) {
            r.r1 = counter;
        }
    }
}
