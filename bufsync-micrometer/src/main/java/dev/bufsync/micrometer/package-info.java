/**
 * Micrometer meter binders for bufsync: {@link dev.bufsync.micrometer.WwClassMetrics} for the
 * counters of a lock class, {@link dev.bufsync.micrometer.EngineMetrics} for those of a scheduler
 * engine. Bind them to any {@code MeterRegistry}; the meters read the counters at each
 * publication, so binding costs the library nothing on its hot paths.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <p>A meter reading returns the counter as {@code stats()} would at that moment; it establishes
 * no ordering with the threads that update it.
 */
package dev.bufsync.micrometer;
