/**
 * The ww, fence, resv and exec contracts across JVMs and hosts, on Apache ZooKeeper: transactions
 * in any number of processes lock sets of named objects in any order without deadlock or
 * starvation, write under their locks with fencing, and wait on each other's fences; a process
 * that dies or loses its session releases its locks and has its pending fences signalled with an
 * error. The protocol is written on znodes through Curator's framework API (not its lock recipes).
 *
 * <ul>
 *   <li>{@link dev.bufsync.zookeeper.ZkCluster}: one client's attachment, the session epoch;
 *   <li>{@link dev.bufsync.zookeeper.ZkLockSpace}: a ww class across processes;
 *   <li>{@link dev.bufsync.zookeeper.ZkTransaction}: an acquire context, with {@code lockAll}
 *       (exec) and fenced {@code write};
 *   <li>{@link dev.bufsync.zookeeper.ZkFenceContext} and {@link dev.bufsync.zookeeper.ZkFence}:
 *       fences across processes;
 *   <li>{@link dev.bufsync.zookeeper.ZkBackoffException}, {@link
 *       dev.bufsync.zookeeper.ZkSessionLostException}, {@link
 *       dev.bufsync.zookeeper.ZkLockLostException}: back off, session gone, write refused.
 * </ul>
 *
 * <p>The design note {@code docs/zookeeper.md} gives the znode layout, the invariants, the
 * failure cases and the round trips per step.
 *
 * <h2>Ordering guarantees</h2>
 *
 * <ul>
 *   <li>A {@code write} by the holder of an object's lock, and every ZooKeeper update it made
 *       before releasing the lock, are visible to the transaction that next acquires the lock
 *       (ZooKeeper orders all updates; an acquisition is an update after the release).
 *   <li>A fenced {@code write} is applied only if no other acquisition of the object happened
 *       since this transaction's, checked atomically with the write.
 *   <li>ZooKeeper updates made by a producer before it signals a fence are visible to a client
 *       that has seen the fence signalled ({@code await} returned or {@code isSignalled} true).
 *   <li>Reads ({@code read}, {@code lockedObjects}) may be stale by the lag of the client's
 *       server, but never older than the client's own last update.
 * </ul>
 */
package dev.bufsync.zookeeper;
