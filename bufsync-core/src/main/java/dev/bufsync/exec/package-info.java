/**
 * The lock-all transaction: {@link dev.bufsync.exec.Exec} locks every object an operation touches
 * and retries by itself on contention, the Java form of the kernel's {@code drm_exec}.
 *
 * <p>The design note {@code docs/exec.md} explains the loop and its options.
 *
 * <h2>Exception safety</h2>
 *
 * The body may throw anything: it propagates out of {@code untilAllLocked}, and {@code close}
 * still releases everything. The exec's own back-off signal cannot be swallowed silently: it
 * stays pending, every later lock rethrows it, and a body that returns normally with it pending
 * is refused with an {@link java.lang.IllegalStateException} naming the rule, with nothing left
 * locked. Releasing (before a retry, and in {@code close}) continues past a failing unlock;
 * {@code close} always closes the context, then rethrows the first failure with the others
 * suppressed, and a second {@code close} does nothing.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>When {@link dev.bufsync.exec.Exec#untilAllLocked} returns, the calling thread holds every
 *       object the body locked, so every action of earlier holders before they unlocked an object
 *       <i>happens-before</i> the actions of the caller after the return.
 *   <li>{@link dev.bufsync.exec.Exec#close()} unlocks every object; actions before it
 *       happen-before the actions of the next holder of each object after it locks it.
 *   <li>When the future of {@link dev.bufsync.exec.Exec#lockAllAsync(java.util.Collection, int, java.util.concurrent.Executor, dev.bufsync.exec.Exec.Option...)} completes, the stages that
 *       depend on it are ordered after every earlier holder's unlock of each object, as after
 *       {@code untilAllLocked}.
 *   <li>A retry establishes no ordering beyond that of the locks it releases and takes again.
 * </ul>
 */
package dev.bufsync.exec;
