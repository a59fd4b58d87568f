/**
 * The lock-all transaction: {@link dev.bufsync.exec.Exec} locks every object an operation touches
 * and retries by itself on contention, the Java form of the kernel's {@code drm_exec}.
 *
 * <p>The design note {@code docs/exec.md} explains the loop and its options.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>When {@link dev.bufsync.exec.Exec#untilAllLocked} returns, the calling thread holds every
 *       object the body locked, so every action of earlier holders before they unlocked an object
 *       <i>happens-before</i> the actions of the caller after the return.
 *   <li>{@link dev.bufsync.exec.Exec#close()} unlocks every object; actions before it
 *       happen-before the actions of the next holder of each object after it locks it.
 *   <li>A retry establishes no ordering beyond that of the locks it releases and takes again.
 * </ul>
 */
package dev.bufsync.exec;
