package dev.bufsync.resv;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceArray;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import java.util.List;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * jcstress tests of {@link Reservation}'s lock-free readers. Run with
 * {@code java -jar bufsync-jcstress/target/jcstress.jar -t ReservationStress}.
 */
public final class ReservationStress {
    private ReservationStress() {
    }

    private static final FenceContext A = FenceContext.create("stress-a");
    private static final FenceContext B = FenceContext.create("stress-b");

    /**
     * A reader racing an {@code addFence} that replaces two fences at once (a container whose
     * members are later fences of the same two contexts) sees the old pair or the new pair, never
     * one of each: the list is published whole.
     */
    @JCStressTest
    @Description("A snapshot reader racing addFence never sees a torn list.")
    @Outcome(id = {"1, 1", "2, 2"}, expect = ACCEPTABLE, desc = "The reader saw the list before or after the change.")
    @Outcome(expect = FORBIDDEN, desc = "Torn list: one fence replaced and the other not, or a fence missing.")
    @State
    public static class SnapshotNeverTorn {
        final Reservation resv = new Reservation();
        // The state keeps the producers, so that no fence is reaped as forgotten mid-test.
        final Signaller[] producers = {A.next(), B.next(), A.next(), B.next()};
        final Fence a1 = producers[0].fence();
        final Fence b1 = producers[1].fence();
        final Fence a2 = producers[2].fence();
        final Fence b2 = producers[3].fence();

        public SnapshotNeverTorn() {
            resv.lock();
            resv.reserveFences(2);
            resv.addFence(a1, Usage.WRITE);
            resv.addFence(b1, Usage.WRITE);
            resv.unlock();
        }

        @Actor
        public void writer() {
            resv.lock();
            resv.reserveFences(2);
            resv.addFence(FenceArray.allOf(a2, b2), Usage.WRITE);
            resv.unlock();
        }

        @Actor
        public void reader(II_Result r) {
            List<Fence> seen = resv.fences(Usage.BOOKKEEP);
            r.r1 = (seen.contains(a1) ? 1 : 0) + (seen.contains(a2) ? 2 : 0);
            r.r2 = (seen.contains(b1) ? 1 : 0) + (seen.contains(b2) ? 2 : 0);
        }

        /**
         * Signals every fence once the actors are done: jcstress makes millions of states, and a
         * state dropped with pending fences would have each one reported abandoned.
         */
        @Arbiter
        public void signalAll(II_Result r) {
            for (Signaller p : producers) {
                p.signal();
            }
        }
    }

    /**
     * A reader that sees a fence added by a writer also sees what the writer did before adding it:
     * the list is published with release semantics and read with acquire semantics.
     */
    @JCStressTest
    @Description("addFence publishes with release: a reader seeing the fence sees the writer's earlier writes.")
    @Outcome(id = {"0, 0", "0, 42", "1, 42"}, expect = ACCEPTABLE, desc = "Before the publication, or after it with the data.")
    @Outcome(expect = FORBIDDEN, desc = "The fence is visible but the data written before it is not.")
    @State
    public static class AddFencePublishes {
        final Reservation resv = new Reservation();
        final Signaller producer = A.next();
        final Fence fence = producer.fence();
        int data;

        @Actor
        public void writer() {
            data = 42;
            resv.lock();
            resv.reserveFences(1);
            resv.addFence(fence, Usage.READ);
            resv.unlock();
        }

        @Actor
        public void reader(II_Result r) {
            r.r1 = resv.fences(Usage.READ).size();
            r.r2 = data;
        }

        /** Signals the fence once the actors are done (see {@link SnapshotNeverTorn#signalAll}). */
        @Arbiter
        public void signalAll(II_Result r) {
            producer.signal();
        }
    }
}
