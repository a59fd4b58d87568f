/**
 * Java Management Extensions for bufsync: an MXBean per {@link dev.bufsync.ww.WwClass} and per
 * {@link dev.bufsync.sched.Engine}, registered on request with {@link
 * dev.bufsync.management.MBeans} under the domain {@code dev.bufsync}, exposing their counters.
 *
 * <p>The JDK Flight Recorder events of the other packages need no registration: they are on by
 * default in every recording. The design note {@code docs/observability.md} lists them.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>An attribute read through the MBean server returns the counter as
 *       {@link dev.bufsync.ww.WwClass#stats()} or {@link dev.bufsync.sched.Engine#stats()} would
 *       at that moment; it establishes no ordering with the threads that update it.
 *   <li>Actions before {@link dev.bufsync.management.MBeans#register} returns happen-before any
 *       client's access to the registered MBean (the MBean server publishes it).
 * </ul>
 */
package dev.bufsync.management;
