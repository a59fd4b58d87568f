package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import org.junit.jupiter.api.Test;

/** A submitted job's life cycle as it shows: its state in toString, and when it becomes ready. */
class SubmittedJobTest {

    /** toString names the job, its entity, its sequence number and its state as the job moves on. */
    @Test
    void toStringFollowsTheState() throws Exception {
        Signaller gate = FenceContext.create("gate").next();
        Signaller broken = FenceContext.create("broken").next();
        Signaller hardware = FenceContext.create("hardware").next();
        try (Engine engine = Engine.builder("states").executor(Runnable::run).build()) {
            SubmittedJob running = engine.newEntity("r").submit(Job.builder("running").runAsync(hardware::fence).build());
            SubmittedJob ready = engine.newEntity("q").submit(Job.builder("ready").run(() -> { }).build());
            Entity w = engine.newEntity("w");
            SubmittedJob waiting = w.submit(Job.builder("waiting").dependsOn(gate.fence()).run(() -> { }).build());
            SubmittedJob doomed = w.submit(Job.builder("doomed").dependsOn(broken.fence()).run(() -> { }).build());
            broken.signal(new IllegalStateException("device lost"));       // doomed queues behind waiting
            assertThat(running).hasToString("job running (r #" + running.seqno() + ", running)");
            assertThat(ready).hasToString("job ready (q #" + ready.seqno() + ", ready)");
            assertThat(waiting).hasToString("job waiting (w #" + waiting.seqno() + ", waiting)");
            assertThat(doomed).hasToString("job doomed (w #" + doomed.seqno() + ", queued, dependency failed)");
            hardware.signal();
            assertThat(running).hasToString("job running (r #" + running.seqno() + ", done)");
        } finally {
            gate.signal();
        }
    }

    /**
     * A failed dependency makes a job ready at once, its other dependencies still pending, and it
     * fails without running; a job that ignores dependency errors waits for all of them (however
     * often the engine dispatches meanwhile) and runs.
     */
    @Test
    void aFailedDependencyDecidesAtOnceUnlessIgnored() throws Exception {
        Signaller failing = FenceContext.create("failing").next();
        Signaller slow = FenceContext.create("slow").next();
        try (Engine engine = Engine.builder("ready").credits(2).executor(Runnable::run).build()) {
            SubmittedJob strict = engine.newEntity("s").submit(Job.builder("strict")
                    .dependsOn(failing.fence(), slow.fence()).run(() -> { }).build());
            SubmittedJob lenient = engine.newEntity("l").submit(Job.builder("lenient")
                    .dependsOn(failing.fence(), slow.fence()).ignoreDependencyErrors().run(() -> { }).build());
            failing.signal(new IllegalStateException("device lost"));
            assertThat(strict.finished().isSignaled()).as("failed at once").isTrue();
            assertThat(strict.finished().error()).isInstanceOf(DependencyFailedException.class);
            engine.newEntity("p").submit(Job.builder("poke").run(() -> { }).build());   // dispatches again
            assertThat(lenient.scheduled().isSignaled()).as("waits for its other dependency").isFalse();
            slow.signal();
            assertThat(lenient.finished().isSignaled()).isTrue();
            assertThat(lenient.finished().error()).isNull();
        }
    }
}
