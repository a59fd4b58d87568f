package dev.bufsync.micrometer;

import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * Binds the counters of one {@link WwClass} ({@link WwClass#stats()}) to a Micrometer registry,
 * read at each publication, tagged {@code class} (its name) and {@code algorithm}:
 *
 * <table>
 *   <caption>Meters</caption>
 *   <tr><th>meter</th><th>type</th><th>counts</th></tr>
 *   <tr><td>{@code bufsync.ww.contexts}</td><td>function counter</td><td>transactions begun</td></tr>
 *   <tr><td>{@code bufsync.ww.acquisitions}</td><td>function counter</td><td>mutexes acquired
 *       (context acquisitions as of the context's close)</td></tr>
 *   <tr><td>{@code bufsync.ww.contended}</td><td>function timer</td><td>acquisitions that queued,
 *       and the time they spent queued</td></tr>
 *   <tr><td>{@code bufsync.ww.backoffs}</td><td>function counter</td><td>back-offs, injected
 *       ones included</td></tr>
 *   <tr><td>{@code bufsync.ww.backoffs.injected}</td><td>function counter</td><td>injected
 *       back-offs</td></tr>
 *   <tr><td>{@code bufsync.ww.wounds}</td><td>function counter</td><td>wounds delivered</td></tr>
 * </table>
 *
 * <pre>{@code
 * new WwClassMetrics(BUFFERS).bindTo(registry);
 * }</pre>
 *
 * <p>As Micrometer's function meters do, the registry holds the class weakly: the meters of a
 * class that has been garbage-collected report NaN.
 */
public final class WwClassMetrics implements MeterBinder {
    private final WwClass wwClass;
    private final Tags tags;

    /**
     * Meters for {@code wwClass}.
     *
     * @param wwClass the class
     */
    public WwClassMetrics(WwClass wwClass) {
        this(wwClass, Tags.empty());
    }

    /**
     * Meters for {@code wwClass} with extra tags.
     *
     * @param wwClass the class
     * @param tags tags added to every meter
     */
    public WwClassMetrics(WwClass wwClass, Iterable<Tag> tags) {
        this.wwClass = Objects.requireNonNull(wwClass, "wwClass");
        this.tags = Tags.concat(tags, "class", wwClass.name(), "algorithm", wwClass.algorithm().name());
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        counter(registry, "bufsync.ww.contexts", "Transactions begun", WwStats::contexts);
        counter(registry, "bufsync.ww.acquisitions", "Mutexes acquired", WwStats::acquisitions);
        counter(registry, "bufsync.ww.backoffs", "Back-offs, injected ones included", WwStats::backoffs);
        counter(registry, "bufsync.ww.backoffs.injected", "Injected back-offs", WwStats::injected);
        counter(registry, "bufsync.ww.wounds", "Wounds delivered to younger holders", WwStats::wounds);
        FunctionTimer.builder("bufsync.ww.contended", wwClass, c -> c.stats().contended(),
                        c -> c.stats().waitNanos(), TimeUnit.NANOSECONDS)
                .description("Acquisitions that queued behind a holder, and the time spent queued")
                .tags(tags).register(registry);
    }

    private void counter(MeterRegistry registry, String name, String description, ToLongFunction<WwStats> count) {
        FunctionCounter.builder(name, wwClass, c -> count.applyAsLong(c.stats()))
                .description(description).tags(tags).register(registry);
    }
}
