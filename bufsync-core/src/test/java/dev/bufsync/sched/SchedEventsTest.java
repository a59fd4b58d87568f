package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.JfrCapture;
import dev.bufsync.JfrStream;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import java.time.Duration;
import java.util.List;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;

/**
 * The Flight Recorder events of the sched package: every finished job is recorded with its
 * engine, entity, name, run time and status, and a timeout with its limit.
 */
class SchedEventsTest {
    private static final String FINISHED = "dev.bufsync.sched.JobFinished";
    private static final String TIMEOUT = "dev.bufsync.sched.JobTimeout";

    /**
     * Completed, failed, timed-out jobs and one whose dependency failed are each recorded once
     * with their status; a run time is at most the time from before the submission to after the
     * finish.
     */
    @Test
    void finishedJobsAndTimeouts() throws Exception {
        Signaller never = FenceContext.create("never").next();
        Signaller broken = FenceContext.create("broken").next();
        try (JfrStream jfr = JfrStream.start(FINISHED, TIMEOUT);
             Engine engine = Engine.builder("events-gpu").credits(3).inOrder(false).build()) {
            long before = System.nanoTime();
            Entity entity = engine.newEntity("events-queue");
            SubmittedJob ok = entity.submit(Job.builder("ok").run(() -> { }).build());
            SubmittedJob bad = entity.submit(Job.builder("bad").run(() -> {
                throw new IllegalStateException("device fault");
            }).build());
            SubmittedJob stuck = entity.submit(Job.builder("stuck").runAsync(never::fence)
                    .timeout(Duration.ofMillis(1)).build());
            SubmittedJob orphan = entity.submit(Job.builder("orphan").dependsOn(broken.fence()).run(() -> { }).build());
            broken.signal(new IllegalStateException("producer failed"));
            for (SubmittedJob j : List.of(ok, bad, stuck, orphan)) {
                j.finished().await(JfrStream.PATIENCE);
            }
            Duration window = Duration.ofNanos(System.nanoTime() - before);
            List<RecordedEvent> finished = jfr.await(FINISHED, e -> "events-gpu".equals(e.getString("engine")), 4);
            assertThat(finished).extracting(e -> e.getString("job") + " " + e.getString("status"))
                    .containsExactlyInAnyOrder("ok COMPLETED", "bad FAILED", "stuck TIMED_OUT", "orphan DEPENDENCY_FAILED");
            assertThat(finished).allSatisfy(e -> {
                assertThat(e.getString("entity")).isEqualTo("events-queue");
                assertThat(e.getDuration("runTime")).isBetween(Duration.ZERO, window);
            });
            assertThat(finished).filteredOn(e -> e.getString("job").equals("stuck")).singleElement()
                    .satisfies(e -> assertThat(e.getDuration("runTime")).isGreaterThanOrEqualTo(Duration.ofMillis(1)));

            List<RecordedEvent> timeouts = jfr.await(TIMEOUT, e -> "events-gpu".equals(e.getString("engine")), 1);
            assertThat(timeouts).singleElement().satisfies(e -> {
                assertThat(e.getString("job")).isEqualTo("stuck");
                assertThat(e.getLong("seqno")).isEqualTo(stuck.seqno());
                assertThat(e.getDuration("timeout")).isEqualTo(Duration.ofMillis(1));
            });
        } finally {
            never.signal();
        }
    }

    /** A job cancelled before it started is recorded as CANCELLED with no run time. */
    @Test
    void cancelledJob() throws Exception {
        Signaller blocker = FenceContext.create("blocker").next();
        try (JfrStream jfr = JfrStream.start(FINISHED)) {
            Engine engine = Engine.builder("events-cancel").build();
            Entity entity = engine.newEntity("q");
            SubmittedJob waiting = entity.submit(Job.builder("waiting").dependsOn(blocker.fence()).run(() -> { }).build());
            engine.close();
            waiting.finished().await(JfrStream.PATIENCE);
            List<RecordedEvent> finished = jfr.await(FINISHED, e -> "events-cancel".equals(e.getString("engine")), 1);
            assertThat(finished).singleElement().satisfies(e -> {
                assertThat(e.getString("status")).isEqualTo("CANCELLED");
                assertThat(e.getDuration("runTime")).isZero();
            });
        } finally {
            blocker.signal();
        }
        assertThat(JfrCapture.defaultSetting(SchedEvents.Finished.class, "enabled")).isEqualTo("true");
        assertThat(JfrCapture.defaultSetting(SchedEvents.Timeout.class, "enabled")).isEqualTo("true");
    }
}
