/**
 * Reservation objects: the synchronization state of one shared object, a wound/wait mutex plus
 * the fences of the work that uses the object, tagged by {@link dev.bufsync.resv.Usage} (the
 * Java form of the kernel's {@code dma_resv}).
 *
 * <ul>
 *   <li>{@link dev.bufsync.resv.Reservation}: lock, reserve slots, add fences under the lock;
 *       query, wait and set deadlines without it;
 *   <li>{@link dev.bufsync.resv.Usage}: KERNEL &lt; WRITE &lt; READ &lt; BOOKKEEP, and the rule of
 *       which usage an access waits for;
 *   <li>{@link dev.bufsync.resv.HasReservation}: anything that has a reservation, which
 *       {@link dev.bufsync.exec.Exec} can lock.
 * </ul>
 *
 * <p>The design note {@code docs/resv.md} explains the rules and the snapshot reader.
 *
 * <h2>Exception safety</h2>
 *
 * Every method refuses bad input first (a {@code null} usage, fence or timeout: a
 * {@link java.lang.NullPointerException} naming it), the same way whatever the reservation's
 * state; a writer then checks the lock and the reserved slots, and changes nothing when it
 * refuses. A change runs no foreign code: it builds a new list and publishes it with one store.
 * Unused slots are voided by every release of the lock, whichever path releases, by the mutex's
 * release hook.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>Actions of a thread before it adds, replaces or copies fences into a reservation
 *       <i>happen-before</i> the actions of any thread after a query of that reservation
 *       ({@code fences}, {@code singleton}, {@code isSignaled}, {@code await}, {@code setDeadline})
 *       that observes the change.
 *   <li>A query sees one published list: every change made by one {@code addFence},
 *       {@code replaceFences} or {@code copyFrom} call, or none of it.
 *   <li>Unlocking a reservation happens-before the next locking of it (it is a
 *       {@link dev.bufsync.ww.WwMutex}), so a writer sees every fence added by earlier writers, and
 *       no slot an earlier holder reserved.
 *   <li>A fence's own guarantees apply to the fences returned: actions before a fence signals
 *       happen-before a return from {@code await} that observed it.
 * </ul>
 */
package dev.bufsync.resv;
