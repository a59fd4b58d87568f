package dev.bufsync.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.sched.Engine;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.Job;
import dev.bufsync.sched.SubmittedJob;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import dev.bufsync.ww.WwStats;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The meter binders publish the counters of a class and of an engine, tagged with their names. */
class MetricsTest {

    /** A class's meters read its stats: counters, injected back-offs, the contended timer. */
    @Test
    void wwClassMeters() throws Exception {
        WwClass cls = WwClass.builder("metrics-buffers").injectBackoff(true).build();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new WwClassMetrics(cls, Tags.of("app", "test")).bindTo(registry);
        WwMutex[] mutexes = {new WwMutex(cls), new WwMutex(cls), new WwMutex(cls), new WwMutex(cls)};
        for (int round = 0; round < 20 && cls.stats().backoffs() == 0; round++) {
            try (AcquireContext ctx = cls.begin()) {
                try {
                    for (WwMutex m : mutexes) {
                        m.lock(ctx);
                    }
                } catch (BackoffException injected) {
                    // counted; the next round starts over
                }
                ctx.unlockAll();
            }
        }
        WwStats s = cls.stats();
        assertThat(s.backoffs()).isPositive();
        Tags tags = Tags.of("class", "metrics-buffers", "algorithm", "WOUND_WAIT", "app", "test");
        assertThat(registry.get("bufsync.ww.contexts").tags(tags).functionCounter().count()).isEqualTo(s.contexts());
        assertThat(registry.get("bufsync.ww.acquisitions").tags(tags).functionCounter().count())
                .isEqualTo(s.acquisitions()).isPositive();
        assertThat(registry.get("bufsync.ww.backoffs").tags(tags).functionCounter().count()).isEqualTo(s.backoffs());
        assertThat(registry.get("bufsync.ww.backoffs.injected").tags(tags).functionCounter().count())
                .isEqualTo(s.injected());
        assertThat(registry.get("bufsync.ww.wounds").tags(tags).functionCounter().count()).isEqualTo(s.wounds());
        assertThat(registry.get("bufsync.ww.contended").tags(tags).functionTimer().count()).isEqualTo(s.contended());
        assertThat(registry.get("bufsync.ww.contended").tags(tags).functionTimer().totalTime(TimeUnit.NANOSECONDS))
                .isEqualTo(s.waitNanos());
    }

    /** An engine's meters read its stats, finished jobs tagged by outcome. */
    @Test
    void engineMeters() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Engine engine = Engine.builder("metrics-gpu").build()) {
            new EngineMetrics(engine).bindTo(registry);
            Entity entity = engine.newEntity("q");
            entity.submit(Job.builder("ok").run(() -> { }).build());
            SubmittedJob bad = entity.submit(Job.builder("bad").run(() -> {
                throw new IllegalStateException("device fault");
            }).build());
            bad.finished().await(Duration.ofSeconds(30));
            Tags engineTag = Tags.of("engine", "metrics-gpu");
            assertThat(registry.get("bufsync.sched.jobs.submitted").tags(engineTag).functionCounter().count())
                    .isEqualTo(2);
            assertThat(registry.get("bufsync.sched.jobs.finished").tags(engineTag).tag("outcome", "completed")
                    .functionCounter().count()).isEqualTo(1);
            assertThat(registry.get("bufsync.sched.jobs.finished").tags(engineTag).tag("outcome", "failed")
                    .functionCounter().count()).isEqualTo(1);
            assertThat(registry.get("bufsync.sched.jobs.finished").tags(engineTag).tag("outcome", "timed.out")
                    .functionCounter().count()).isZero();
            assertThat(registry.get("bufsync.sched.jobs.queued").tags(engineTag).gauge().value()).isZero();
            assertThat(registry.get("bufsync.sched.jobs.running").tags(engineTag).gauge().value()).isZero();
            assertThat(registry.get("bufsync.sched.fences.pending").tags(engineTag).gauge().value()).isZero();
            assertThat(registry.get("bufsync.sched.submission.retries").tags(engineTag).functionCounter().count())
                    .isZero();
        }
    }
}
