/**
 * Shared buffers: memory shared between devices and threads, ordered by the fences on its
 * reservation (the Java form of the kernel's {@code dma_buf}, with its CPU-access bracket, its
 * implicit-sync poll and its sync_file bridge), and the dmabuf-sync API shape on top.
 *
 * <ul>
 *   <li>{@link dev.bufsync.buffer.SharedBuffer}: the exporter's object: memory from a shared
 *       arena, a name, a size and a {@link dev.bufsync.resv.Reservation}; CPU access, fence
 *       export and import, idle notification, the close rule;
 *   <li>{@link dev.bufsync.buffer.Attachment}: an importing device, with rights; mapping gives a
 *       view, read-only for read rights;
 *   <li>{@link dev.bufsync.buffer.CpuAccess}: an open CPU access, begun once the fences it waits
 *       for signalled;
 *   <li>{@link dev.bufsync.buffer.Access}: {@code READ} or {@code WRITE}, for rights, CPU access,
 *       export, import and sync, with the rule of which fences each waits for;
 *   <li>{@link dev.bufsync.buffer.BufferSync}: init / get / lock / unlock / put / fini over
 *       {@link dev.bufsync.exec.Exec}, without the 2013 proposal's flaws;
 *   <li>{@link dev.bufsync.buffer.BufferClosedException}: an operation on a closed buffer.
 * </ul>
 *
 * <p>The design note {@code docs/buffer.md} explains the rules, the close rule and the mapping to
 * dmabuf-sync.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>Actions of a producer before it signals a fence that {@code beginCpuAccess} waited for
 *       (a fence of usage {@code access.awaited()} or stronger, attached when the call began)
 *       <i>happen-before</i> the actions of the caller after {@code beginCpuAccess} returns; in
 *       particular, the writes of a device job whose fence was added with usage {@code WRITE}
 *       are visible to every CPU access, read or write, begun after it was added.
 *   <li>Likewise, the signals of the fences an idle callback waited for happen-before the
 *       callback runs ({@code onIdle}); and actions before {@code onIdle} returns {@code false}
 *       happen-before the callback runs.
 *   <li>A write through a {@code CpuAccess}, and every action before its {@code close()},
 *       happen-before the actions of any thread after it observes a fence whose signal came
 *       after that {@code close()} in happens-before order (for example a fence imported with
 *       {@code importFence} before the access and signalled by the same thread after it). A
 *       {@code CpuAccess} itself publishes no fence and orders nothing with other CPU accesses;
 *       {@code BufferSync} does both.
 *   <li>{@code BufferSync}: actions in a locked section (between {@code lock()} returning and
 *       {@code unlock()}) happen-before the actions after the return of any later
 *       {@code lock()} of a sync whose access conflicts on a shared buffer (one of the two
 *       writes), and after any later wait for that buffer's fences with a conflicting access
 *       ({@code beginCpuAccess}, {@code onIdle}, a job's dependencies). "Later" is the order in
 *       which the syncs published their fences, under all their buffers' locks.
 *   <li>{@code importFence} publishes its fence like {@code Reservation.addFence}: actions before
 *       the call happen-before a query of the reservation that observes the fence.
 *   <li>Actions before {@code CpuAccess.close()} and before the signals of every fence on the
 *       reservation happen-before {@code SharedBuffer.close} returns {@code true}. After that,
 *       every access through any view throws {@code IllegalStateException} and every operation
 *       throws {@link dev.bufsync.buffer.BufferClosedException}.
 *   <li>The memory is zeroed at allocation. Its contents written by the exporter before it hands
 *       the buffer to other threads are visible to them only through a happens-before edge (the
 *       hand-off itself, or a fence): the memory is not volatile.
 * </ul>
 */
package dev.bufsync.buffer;
