/**
 * Wound/wait mutexes: lock any set of mutexes of one class, in any order, without deadlock and
 * without starvation. The Java form of the Linux kernel's {@code ww_mutex}.
 *
 * <ul>
 *   <li>{@link dev.bufsync.ww.WwClass}: a family of mutexes, the ticket (stamp) counter and the
 *       algorithm, wound-wait or wait-die, optionally with polite waiting
 *       ({@link dev.bufsync.ww.WwClass.Builder#politeBackoffs(int)});
 *   <li>{@link dev.bufsync.ww.WwMutex}: the mutex;
 *   <li>{@link dev.bufsync.ww.WwSharedMutex}: a readers-writer lock taken shared or exclusively by
 *       the same transactions, under the same rules;
 *   <li>{@link dev.bufsync.ww.AcquireContext}: one transaction; it keeps its stamp across retries;
 *       bound to its thread, or transferable between threads and able to lock asynchronously
 *       ({@link dev.bufsync.ww.WwClass#beginTransferable()},
 *       {@link dev.bufsync.ww.WwMutex#lockAsync(dev.bufsync.ww.AcquireContext, java.util.concurrent.Executor)});
 *   <li>{@link dev.bufsync.ww.BackoffException}: "must back off", carrying the contended mutex;
 *   <li>{@link dev.bufsync.ww.WwMisuseException}: a broken rule, always checked.
 * </ul>
 *
 * <p>The design note {@code docs/ww.md} explains the algorithms, the invariants and the misuse
 * catalogue.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>Actions in a thread before it unlocks a {@code WwMutex} (with or without a context)
 *       <i>happen-before</i> actions in the thread that next acquires it, by any lock method that
 *       reports acquisition ({@link dev.bufsync.ww.LockResult#ACQUIRED}, {@code true}, or a normal
 *       return of {@code lock()}/{@code lockSlow()}).
 *   <li>Actions in a thread before it releases a {@code WwSharedMutex} (either mode)
 *       <i>happen-before</i> actions in any thread after a later acquisition of it in either mode
 *       ({@link dev.bufsync.ww.LockResult#ACQUIRED}, {@link dev.bufsync.ww.LockResult#UPGRADED} or a
 *       normal return of a slow lock); two readers holding it at once are not ordered with each
 *       other by it.
 *   <li>A result of {@link dev.bufsync.ww.LockResult#ALREADY_HELD}, {@link
 *       dev.bufsync.ww.LockResult#BUSY} or {@link dev.bufsync.ww.LockResult#TIMED_OUT}, a {@link
 *       dev.bufsync.ww.BackoffException} and an {@link InterruptedException} establish no ordering
 *       with other threads.
 *   <li>A wound is published with release semantics and read with acquire semantics: when a
 *       context backs off because it was wounded, actions of the wounding thread before it queued
 *       for the contended mutex happen-before the back-off.
 *   <li>An asynchronous lock ({@link dev.bufsync.ww.WwMutex#lockAsync(dev.bufsync.ww.AcquireContext, java.util.concurrent.Executor)}) that completes with
 *       {@link dev.bufsync.ww.LockResult#ACQUIRED} orders like a lock that returns it: actions
 *       before the previous holder's unlock happen-before the stages that depend on the future.
 *   <li>A transferable context's hand-offs order its users: actions of a thread before it
 *       {@linkplain dev.bufsync.ww.AcquireContext#detach() detaches} the context (or before it
 *       calls {@code lockAsync} with it) happen-before actions of the thread that next
 *       {@linkplain dev.bufsync.ww.AcquireContext#attach() attaches} it (or of the stages that
 *       depend on that lock's future).
 *   <li>Stamps are unique within a class and never change. Contexts that one thread begins one
 *       after another get increasing stamps. A thread takes its stamps from the class in blocks
 *       (of up to 64), so across threads a context begun after another (in happens-before
 *       order) is younger unless the other thread's block was taken later; see
 *       {@link dev.bufsync.ww.WwClass}, "Ages".
 * </ul>
 */
package dev.bufsync.ww;
