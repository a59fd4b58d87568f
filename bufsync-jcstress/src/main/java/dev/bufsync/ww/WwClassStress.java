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

/**
 * jcstress tests of {@link WwClass}'s stamps: a thread takes them from the class's counter in
 * blocks, and blocks of different threads never overlap, so stamps stay unique.
 */
public final class WwClassStress {

    private WwClassStress() {
    }

    @JCStressTest
    @Description("Two threads each begin three contexts of a fresh class whose first stamp is 0: each"
            + " takes a block of one stamp, then a block of two. Together they take the counter's"
            + " first six stamps, each exactly once, in whatever order the blocks were taken.")
    @Outcome(id = "63, 0", expect = ACCEPTABLE, desc = "Stamps 0 to 5, each taken by one thread.")
    @Outcome(expect = FORBIDDEN, desc = "A stamp taken twice or never: two blocks overlapped.")
    @State
    public static class StampBlocksAreDisjoint {
        private static final int OUT_OF_RANGE = 1 << 30;

        private final WwClass cls = WwClass.builder("stress-stamps").firstStamp(0).injectBackoff(false).build();
        private int a;
        private int b;

        @Actor
        public void actor1() {
            a = takeThree();
        }

        @Actor
        public void actor2() {
            b = takeThree();
        }

        @Arbiter
        public void arbiter(II_Result r) {
            r.r1 = a | b;
            r.r2 = a & b;
        }

        /** The stamps of three contexts begun one after another, as a bit set. */
        private int takeThree() {
            int taken = 0;
            for (int i = 0; i < 3; i++) {
                try (AcquireContext ctx = cls.begin()) {
                    long s = ctx.stamp();
                    taken |= s >= 0 && s < 6 ? 1 << s : OUT_OF_RANGE;
                }
            }
            return taken;
        }
    }
}
