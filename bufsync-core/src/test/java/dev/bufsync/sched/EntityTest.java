package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import org.junit.jupiter.api.Test;

/** What an entity tells about itself and how it derives a job's dependencies. */
class EntityTest {

    /** The entity names its finished fences' context, and describes itself. */
    @Test
    void describesItself() throws Exception {
        try (Engine engine = Engine.builder("gpu").executor(Runnable::run).build()) {
            Entity e = engine.newEntity("blits", Priority.HIGH);
            SubmittedJob s = e.submit(Job.builder("j").run(() -> { }).build());
            assertThat(e.finishedContext()).isEqualTo(s.finished().context()).isNotEqualTo(s.scheduled().context());
            assertThat(e).hasToString("Entity[blits, HIGH, engine gpu]");
        }
    }

    /** A fence that has signalled already is no dependency; of two fences of one context the later stays. */
    @Test
    void dependenciesArePendingAndOnePerContext() throws Exception {
        FenceContext device = FenceContext.create("device");
        Signaller earlier = device.next();
        Signaller later = device.next();
        Signaller done = FenceContext.create("done").next();
        done.signal();
        try (Engine engine = Engine.builder("deps").credits(2).executor(Runnable::run).build()) {
            Entity e = engine.newEntity("e");
            SubmittedJob both = e.submit(Job.builder("later-first").dependsOn(later.fence(), earlier.fence())
                    .run(() -> { }).build());
            SubmittedJob reversed = e.submit(Job.builder("earlier-first").dependsOn(earlier.fence(), later.fence())
                    .run(() -> { }).build());
            SubmittedJob signalled = e.submit(Job.builder("signalled").dependsOn(done.fence(), Fences.stub())
                    .run(() -> { }).build());
            assertThat(both.dependencies()).containsExactly(later.fence());
            assertThat(reversed.dependencies()).containsExactly(later.fence());
            assertThat(signalled.dependencies()).isEmpty();
        } finally {
            earlier.signal();
            later.signal();
        }
    }

    /**
     * Work may hand back the finished fence of a job of another entity that has retired (its
     * entity's books are empty): the job completes with it.
     */
    @Test
    void workMayReturnARetiredJobsFence() throws Exception {
        try (Engine engine = Engine.builder("retired").executor(Runnable::run).build()) {
            SubmittedJob done = engine.newEntity("a").submit(Job.builder("done").run(() -> { }).build());
            assertThat(done.finished().isSignaled()).isTrue();
            SubmittedJob after = engine.newEntity("b").submit(Job.builder("after").runAsync(done::finished).build());
            assertThat(after.finished().isSignaled()).isTrue();
            assertThat(after.finished().error()).isNull();
        }
    }
}
