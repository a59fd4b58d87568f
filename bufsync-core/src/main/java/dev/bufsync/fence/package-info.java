/**
 * Fences: one-shot completion events with an optional error, ordered per context, that only
 * their producer can signal. The Java form of the Linux kernel's {@code dma_fence} family
 * (dma-fence, dma-fence-array, dma-fence-chain, dma-fence-unwrap, sw_sync).
 *
 * <ul>
 *   <li>{@link dev.bufsync.fence.Fence}: the consumer view: status, error, timestamp,
 *       callbacks, waits, deadline hints, ordering, {@code CompletableFuture} interop;
 *   <li>{@link dev.bufsync.fence.FenceContext}: a timeline of fences with increasing sequence
 *       numbers, handing out {@link dev.bufsync.fence.Signaller}s, the producer handles (the only
 *       way to signal);
 *   <li>{@link dev.bufsync.fence.FenceArray} (all of / any of) and
 *       {@link dev.bufsync.fence.FenceChain} (timeline points): containers, themselves fences,
 *       always flat;
 *   <li>{@link dev.bufsync.fence.Fences}: waiting for any or all, unwrap, merge, stubs, handlers;
 *   <li>{@link dev.bufsync.fence.SyncTimeline}: a software timeline for tests;
 *   <li>{@link dev.bufsync.fence.FenceCallback} and
 *       {@link dev.bufsync.fence.FenceAbandonedException}, the error of a fence whose producer
 *       went away.
 * </ul>
 *
 * <p>The design note {@code docs/fence.md} explains the concepts, the invariants and the misuse
 * caught.
 *
 * <h2>Exception safety</h2>
 *
 * Signalling flips a fence's state first, with nothing that can fail between the flip and the
 * publication of its outcome, and only then runs foreign code. The fire loop continues past any
 * throwable - from a callback, an executor, the callback exception handler or its logging,
 * {@code Error}s included - reports it once and drops what the report throws, so every callback
 * runs, every waiter wakes and every container is told; nothing escapes {@code signal()}. The
 * reaper thread only flips the state of an abandoned fence; its callbacks and the
 * abandoned-fence handler run on a virtual thread of their own, and the reaper's loop continues
 * past any throwable. {@link dev.bufsync.fence.SyncTimeline#close()} is idempotent.
 *
 * <h2>Memory consistency properties</h2>
 *
 * <ul>
 *   <li>Actions in a thread before it signals a fence (a {@code signal} that returns normally or
 *       a {@code trySignal} that returns {@code true}, including an earlier {@code setError})
 *       <i>happen-before</i> every callback run for that fence, and actions in any thread after
 *       it observes the fence signalled: {@code isSignaled()} returning {@code true},
 *       {@code status()} other than {@code PENDING}, {@code await} returning (normally, or
 *       {@code true}), {@code Fences.awaitAny} returning that fence's index,
 *       {@code Fences.awaitAll} returning (normally, or {@code true}), {@code awaitSuccess}
 *       returning or throwing the fence's error, {@code addCallback} returning {@code false} (and
 *       so a callback that {@code whenSignaled} runs at once), and the completion of
 *       {@code toCompletableFuture()}.
 *   <li>Actions in a thread before {@code addCallback} returns {@code true} (or before
 *       {@code whenSignaled} registers) happen-before the callback runs; with an executor, before
 *       the executor is handed the callback.
 *   <li>The signal of an abandoned fence (its state flip, on the reaper thread) happens-before
 *       its callbacks and the abandoned-fence handler run on their own thread.
 *   <li>A container is signalled by the thread that signals the member completing it (or by the
 *       thread creating it, if nothing is left to wait for). For an all-of array and a chain
 *       link, the signals of all the members it waited for happen-before its own signal; for an
 *       any-of array, the signal of the member that completed it does.
 *   <li>A {@code removeCallback} that returns {@code true}, a wait that times out and an
 *       {@code InterruptedException} establish no ordering with the producer.
 *   <li>{@code setDeadline} happens-before a {@code Signaller.deadline()} that returns that
 *       deadline (or a sooner one set after it).
 *   <li>Context ids and sequence numbers are taken atomically: contexts created, and fences
 *       issued by one context, one after another in happens-before order get increasing
 *       numbers.
 * </ul>
 */
package dev.bufsync.fence;
