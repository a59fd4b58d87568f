package dev.bufsync.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.fence.SyncTimeline;
import dev.bufsync.resv.Reservation;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.SubmittedJob;
import dev.bufsync.sched.Job;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kernel's dma-fence signalling annotations, ported: the lockdep priming of dma-resv.c
 * ({@code dma_resv_lockdep}: a reservation lock may be held around a fence wait), the rule of the
 * "Indefinite DMA Fences" documentation (code a fence's signal depends on must not take a
 * reservation lock), nesting of {@code dma_fence_begin_signalling}, opportunistic signallers
 * outside a section, and the places where this library annotates itself as the kernel annotates
 * drm_sched and sw_sync: a job's work, its completion path, a timeline's advance.
 */
class SignallingAnnotationTest {
    @RegisterExtension
    final CheckerInThrowMode checker = new CheckerInThrowMode();
    private final List<DependencyCycle> reported = checker.reported();
    private final Reservation resv = new Reservation();

    /**
     * dma_resv_lockdep's priming: reservation lock held, then a fence wait. The wait is on the
     * fence itself, not through a reservation, whose query skips a fence that has already
     * signalled: the job behind {@code f} may finish first, and the edge must be recorded anyway.
     */
    private void prime(Fence f) throws Exception {
        resv.lock();
        try {
            f.await(Duration.ofMillis(1));            // resv held → f's context, pending or not
        } finally {
            resv.unlock();
        }
    }

    /** The priming itself is allowed: holding a reservation lock around a fence wait reports nothing. */
    @Test
    void waitHoldingReservationAllowed() throws Exception {
        prime(FenceContext.create("gpu").next().fence());
        prime(FenceContext.create("gpu").next().fence());
        assertThat(reported).isEmpty();
    }

    /** The documented rule: a reservation lock taken in a signalling section after the priming is reported. */
    @Test
    void reservationLockInSection_PotentialDeadlockException() throws Exception {
        FenceContext gpu = FenceContext.create("gpu");
        prime(gpu.next().fence());
        try (SignallingSection s = SignallingSection.begin(gpu)) {
            assertThatThrownBy(resv::lock).isInstanceOfSatisfying(PotentialDeadlockException.class,
                    e -> assertThat(e.cycle().locks()).containsExactly(Reservation.DEFAULT_CLASS.name()));
        }
        assertThat(resv.isLocked()).isFalse();
    }

    /**
     * The untimed wait is annotated too: a reservation lock held around {@code await()} on a
     * fence (signalled already, so it returns at once) makes taking the lock in a section of that
     * fence's context a reported cycle.
     */
    @Test
    void untimedWaitHoldingReservationIsRecorded() throws Exception {
        FenceContext gpu = FenceContext.create("gpu");
        Signaller done = gpu.next();
        done.signal();
        resv.lock();
        try {
            done.fence().await();
        } finally {
            resv.unlock();
        }
        try (SignallingSection s = SignallingSection.begin(gpu)) {
            assertThatThrownBy(() -> {
                resv.lock();
                resv.unlock();                         // not reached: the lock is refused
            }).isInstanceOf(PotentialDeadlockException.class);
        }
        assertThat(reported).hasSize(1);
    }

    /** Opportunistic signallers (outside any section) may take the lock: no edge, no report. */
    @Test
    void lockOutsideSectionNotReported() throws Exception {
        FenceContext gpu = FenceContext.create("gpu");
        prime(gpu.next().fence());
        Signaller s = gpu.next();
        resv.lock();
        s.signal();
        resv.unlock();
        assertThat(reported).isEmpty();
    }

    /** dma_fence_begin_signalling nests: ending the inner section leaves the outer one in force. */
    @Test
    void nestedBeginKeepsOuter() throws Exception {
        FenceContext gpu = FenceContext.create("gpu");
        prime(gpu.next().fence());
        try (SignallingSection outer = SignallingSection.begin(gpu)) {
            try (SignallingSection inner = SignallingSection.begin(gpu)) {
                assertThat(inner.toString()).contains("gpu");
            }
            assertThatThrownBy(resv::lock).isInstanceOf(PotentialDeadlockException.class);
        }
        assertThatCode(() -> {
            resv.lock();
            resv.unlock();
        }).as("after the outer section ends").doesNotThrowAnyException();
    }

    /** drm_sched's run_job: a job's work runs in its fence's section, so taking the lock there fails the job. */
    @Test
    void schedulerWorkAnnotated() throws Exception {
        try (Engine engine = Engine.builder("camera").build(); Entity queue = engine.newEntity("camera")) {
            prime(queue.submit(Job.builder("first").run(() -> { }).build()).finished());
            SubmittedJob job = queue.submit(Job.builder("capture").run(() -> {
                resv.lock();
                resv.unlock();
            }).build());
            assertThatThrownBy(() -> job.finished().awaitSuccess(Duration.ofSeconds(30)))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(PotentialDeadlockException.class);
        }
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0).contexts()).singleElement().asString().startsWith("camera#");
    }

    /** The scheduler's completion path: a callback run by the finished fence's signal is in the section. */
    @Test
    void schedulerCompletionAnnotated() throws Exception {
        try (Engine engine = Engine.builder("camera").build(); Entity queue = engine.newEntity("camera")) {
            prime(queue.submit(Job.builder("first").run(() -> { }).build()).finished());
            SubmittedJob job = queue.submit(Job.builder("capture").dependsOn(gate()).run(() -> { }).build());
            CountDownLatch callbackDone = new CountDownLatch(1);
            job.finished().whenSignaled(f -> {
                try {
                    resv.lock();
                    resv.unlock();
                } finally {
                    callbackDone.countDown();
                }
            });
            release();
            // The fence's waiters may wake before its callbacks have run: wait for the callback.
            assertThat(callbackDone.await(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0).edges().get(0).from().kind()).isEqualTo(DependencyCycle.Kind.FENCE_CONTEXT);
    }

    private Signaller gate;

    private Fence gate() {
        gate = FenceContext.create("gate").next();
        return gate.fence();
    }

    private void release() {
        gate.signal();
    }

    /** sw_sync's timeline advance signals in a section: a point's callback taking the lock is reported. */
    @Test
    void syncTimelineAnnotated() throws Exception {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            Fence point = timeline.fenceAt(1);
            prime(point);
            point.whenSignaled(f -> {
                resv.lock();
                resv.unlock();
            });
            timeline.advance(1);
            assertThat(point.isSignaled()).isTrue();
        }
        assertThat(reported).hasSize(1);
    }

    /** The advance's section ends with the advance: the lock taken after it, in the same thread, is not in it. */
    @Test
    void syncTimelineSectionEndsWithTheAdvance() throws Exception {
        try (SyncTimeline timeline = SyncTimeline.create("sw")) {
            prime(timeline.fenceAt(2));
            timeline.advance(1);
            assertThatCode(() -> {
                resv.lock();
                resv.unlock();
            }).doesNotThrowAnyException();
        }
        assertThat(reported).isEmpty();
    }
}
