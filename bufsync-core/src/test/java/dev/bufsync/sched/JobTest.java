package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.resv.Reservation;
import dev.bufsync.ww.WwClass;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A job description: its checks, its buffers, and each shape of work. */
class JobTest {
    private final WwClass buffers = WwClass.builder("job-test").algorithm(WwClass.Algorithm.WAIT_DIE)
            .injectBackoff(false).build();

    /** A job needs work, at least one credit and a positive timeout; each refusal names the job. */
    @Test
    void builderRefusesBadSettings() {
        assertThatThrownBy(() -> Job.builder("idle").build()).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("job idle has no work");
        assertThatThrownBy(() -> Job.builder("free").credits(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("job free: credits must be at least 1, not 0");
        assertThat(Job.builder("one").credits(1).run(() -> { }).build().credits()).isEqualTo(1);
        assertThatThrownBy(() -> Job.builder("now").timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("job now: timeout must be positive");
        assertThatThrownBy(() -> Job.builder("past").timeout(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout must be positive");
        assertThat(Job.builder("soon").timeout(Duration.ofMillis(1)).run(() -> { }).build().timeout())
                .isEqualTo(Duration.ofMillis(1));
    }

    /** A buffer read and written is written, and each buffer is listed once. */
    @Test
    void eachBufferOnceAndWrittenWins() {
        Reservation a = new Reservation(buffers, "a");
        Reservation b = new Reservation(buffers, "b");
        Job job = Job.builder("j").reads(a, b, b).writes(a).writes(a).run(() -> { }).build();
        assertThat(job.writes()).containsExactly(a);
        assertThat(job.reads()).containsExactly(b);
        assertThat(job).hasToString("Job[j, reads=[b], writes=[a]]");
    }

    /** Work that hands back a stage finishes with it, and a failed stage fails the job. */
    @Test
    void stageWorkFinishesWithItsStage() throws Exception {
        CompletableFuture<String> ok = new CompletableFuture<>();
        CompletableFuture<String> broken = new CompletableFuture<>();
        Job.Builder fine = Job.builder("fine");
        assertThat(fine.runStage(() -> ok)).isSameAs(fine);
        try (Engine engine = Engine.builder("stages").credits(2).executor(Runnable::run).build()) {
            Entity e = engine.newEntity("e");
            SubmittedJob good = e.submit(fine.build());
            SubmittedJob bad = engine.newEntity("f").submit(Job.builder("bad").runStage(() -> broken).build());
            assertThat(good.finished().isSignaled() || bad.finished().isSignaled()).isFalse();
            ok.complete("done");
            broken.completeExceptionally(new IllegalStateException("stage failed"));
            EngineTest.await(good.finished());
            EngineTest.await(bad.finished());
            assertThat(good.finished().error()).isNull();
            assertThat(bad.finished().error()).isInstanceOf(IllegalStateException.class).hasMessage("stage failed");
        }
    }
}
