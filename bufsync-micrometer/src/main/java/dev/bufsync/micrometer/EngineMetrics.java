package dev.bufsync.micrometer;

import dev.bufsync.sched.Engine;
import dev.bufsync.sched.EngineStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Binds the counters of one {@link Engine} ({@link Engine#stats()}) to a Micrometer registry,
 * read at each publication, tagged {@code engine} (its name):
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>meter</th><th>type</th><th>counts</th></tr>
 *   <tr><td>{@code bufsync.sched.jobs.submitted}</td><td>function counter</td><td>jobs
 *       submitted</td></tr>
 *   <tr><td>{@code bufsync.sched.jobs.finished}</td><td>function counter, tagged {@code outcome}:
 *       {@code completed}, {@code failed}, {@code timed.out}, {@code cancelled}</td><td>jobs
 *       finished</td></tr>
 *   <tr><td>{@code bufsync.sched.jobs.queued}</td><td>gauge</td><td>jobs waiting in the queues
 *       now</td></tr>
 *   <tr><td>{@code bufsync.sched.jobs.running}</td><td>gauge</td><td>jobs in flight now</td></tr>
 *   <tr><td>{@code bufsync.sched.fences.pending}</td><td>gauge</td><td>fences created and not
 *       signalled yet</td></tr>
 *   <tr><td>{@code bufsync.sched.submission.retries}</td><td>function counter</td><td>back-offs
 *       while locking the jobs' buffers</td></tr>
 * </table>
 *
 * <pre>{@code
 * new EngineMetrics(gpu).bindTo(registry);
 * }</pre>
 *
 * <p>As Micrometer's function meters do, the registry holds the engine weakly. Each reading takes
 * the engine's lock briefly, as {@link Engine#stats()} does.
 */
public final class EngineMetrics implements MeterBinder {
    private final Engine engine;
    private final Tags tags;

    /**
     * Meters for {@code engine}.
     *
     * @param engine the engine
     */
    public EngineMetrics(Engine engine) {
        this(engine, Tags.empty());
    }

    /**
     * Meters for {@code engine} with extra tags.
     *
     * @param engine the engine
     * @param tags tags added to every meter
     */
    public EngineMetrics(Engine engine, Iterable<Tag> tags) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.tags = Tags.concat(tags, "engine", engine.name());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "bufsync.sched.jobs.submitted", "Jobs submitted", Tags.empty(), EngineStats::submitted);
        String finished = "bufsync.sched.jobs.finished";
        counter(registry, finished, "Jobs finished", Tags.of("outcome", "completed"), EngineStats::completed);
        counter(registry, finished, "Jobs finished", Tags.of("outcome", "failed"), EngineStats::failed);
        counter(registry, finished, "Jobs finished", Tags.of("outcome", "timed.out"), EngineStats::timedOut);
        counter(registry, finished, "Jobs finished", Tags.of("outcome", "cancelled"), EngineStats::cancelled);
        counter(registry, "bufsync.sched.submission.retries", "Back-offs while locking the jobs' buffers",
                Tags.empty(), EngineStats::retries);
        gauge(registry, "bufsync.sched.jobs.queued", "Jobs waiting in the queues", EngineStats::queued);
        gauge(registry, "bufsync.sched.jobs.running", "Jobs in flight", EngineStats::inFlight);
        gauge(registry, "bufsync.sched.fences.pending", "Fences created and not signalled yet",
                EngineStats::fencesPending);
    }

    private void counter(MeterRegistry registry, String name, String description, Tags extra,
                         ToDoubleFunction<EngineStats> count) {
        FunctionCounter.builder(name, engine, e -> count.applyAsDouble(e.stats()))
                .description(description).tags(tags).tags(extra).register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<EngineStats> value) {
        Gauge.builder(name, engine, e -> value.applyAsDouble(e.stats()))
                .description(description).tags(tags).register(registry);
    }
}
