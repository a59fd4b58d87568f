/**
 * The dependency checker: the kernel's lockdep with its dma-fence signalling annotations, for
 * ww mutexes, reservations, fences and wrapped {@link java.util.concurrent.locks.Lock}s. It finds
 * a cycle of "held while waiting for", "taken inside the signalling section of" and "waited for
 * inside the signalling section of" the first time its last edge is seen, whatever the timing.
 *
 * <ul>
 *   <li>{@link dev.bufsync.check.Checker}: the policy (system property {@code bufsync.check},
 *       overrides per lock class or fence context), wrapped locks, cycle listeners, and the
 *       annotations the library calls;
 *   <li>{@link dev.bufsync.check.SignallingSection}: marks the code a fence context's signals
 *       depend on (try-with-resources);
 *   <li>{@link dev.bufsync.check.DependencyCycle} and
 *       {@link dev.bufsync.check.PotentialDeadlockException}: what a report carries;
 *   <li>{@link dev.bufsync.check.CheckPolicy}: off, warn or throw.
 * </ul>
 *
 * <p>The design note {@code docs/check.md} explains the graph, the edges and where the library
 * annotates itself.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>A policy set by {@code Checker.setPolicy} is seen by every annotation that starts after
 *       the call returns (the switch is a {@code MutableCallSite} synchronised with
 *       {@code syncAll}).
 *   <li>An edge recorded by one thread <i>happens-before</i> the check of any edge that another
 *       thread adds later (edges are added under one lock), so of two threads closing the same
 *       cycle exactly one is told.
 *   <li>A listener runs in the thread that closed the cycle, after the graph's lock is released
 *       and before a {@link dev.bufsync.check.CheckPolicy#THROW} throws.
 * </ul>
 */
package dev.bufsync.check;
