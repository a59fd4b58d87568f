/**
 * A job scheduler that derives dependencies from the buffers a job reads and writes (the Java
 * form of the kernel's {@code drm_sched}).
 *
 * <ul>
 *   <li>{@link dev.bufsync.sched.Engine}: one device; credits, timeouts, priorities, close;
 *   <li>{@link dev.bufsync.sched.Entity}: a submission queue; {@code submit} is the whole command
 *       submission (lock all buffers, collect dependencies, arm, publish, unlock, queue);
 *   <li>{@link dev.bufsync.sched.Job} and {@link dev.bufsync.sched.Work}: what a job touches and
 *       does; {@link dev.bufsync.sched.SubmittedJob}: its scheduled and finished fences;
 *   <li>{@link dev.bufsync.sched.Watchdog}: reports the wait-for graph when nothing progresses.
 * </ul>
 *
 * <p>The design note {@code docs/sched.md} explains submission, dependencies and why they cannot
 * form a cycle.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>Actions of a thread before it submits a job <i>happen-before</i> the job's work starts.
 *   <li>Actions of the work of every job a job depends on (through its buffers or explicitly),
 *       before that work's fence signalled, happen-before the dependent job's work starts; for a
 *       pipelined dependency on a job of the same in-order engine, the engine's device order
 *       provides this instead (synchronous work on the engine's own device thread runs in order).
 *   <li>Actions of a job's work before its fence signals happen-before the return of a wait on the
 *       job's finished fence, and callbacks on it.
 *   <li>A job's scheduled fence signals before its work starts; its finished fence signals after
 *       the finished fences of the earlier jobs of its entity.
 * </ul>
 */
package dev.bufsync.sched;
