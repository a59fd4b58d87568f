package dev.bufsync.fence;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Static helpers over many fences: waiting for any or all, flattening containers
 * ({@link #unwrap}), merging ({@link #merge}), the signalled stubs, and the two package-wide
 * handlers (callback exceptions, abandoned fences).
 *
 * <pre>{@code
 * int first = Fences.awaitAny(List.of(render, decode), Duration.ofMillis(16));
 * if (first < 0) {
 *     // neither signalled in time
 * }
 * Fence both = Fences.merge(render, decode);   // one fence for "all of these"
 * }</pre>
 *
 * <p>Waits park the calling thread with {@link LockSupport}, are interruptible, and treat a
 * negative timeout as an {@link IllegalArgumentException}; a zero timeout polls.
 */
public final class Fences {
    private static final Logger LOG = System.getLogger("dev.bufsync.fence");
    private static final BiConsumer<Fence, Throwable> LOG_CALLBACK_FAILURE =
            (f, t) -> LOG.log(Level.WARNING, "callback on " + f + " threw", t);
    private static final BoundedLog ABANDONED_LOG = BoundedLog.of(LOG, Level.WARNING, "forgotten fences");
    private static final BoundedLog HANDLER_FAILURE_LOG =
            BoundedLog.of(LOG, Level.ERROR, "failures of the abandoned-fence handler");
    private static final Consumer<Fence> LOG_ABANDONED = f -> ABANDONED_LOG.log("forgotten fence: " + f, null);
    private static final Fence STUB = new StubFence(System.nanoTime());

    private static volatile BiConsumer<? super Fence, ? super Throwable> callbackExceptionHandler =
            LOG_CALLBACK_FAILURE;                                  // written by the setter
    private static volatile Consumer<? super Fence> abandonedHandler = LOG_ABANDONED; // likewise

    private Fences() {
    }

    // ------------------------------------------------------------ stubs

    /**
     * The shared signalled fence (the kernel's {@code dma_fence_get_stub}): context 0, sequence
     * number 0, signalled without error when this class was initialised.
     *
     * @return the stub
     */
    public static Fence stub() {
        return STUB;
    }

    /**
     * A new fence signalled without error at {@code timestampNanos} (the kernel's
     * {@code dma_fence_allocate_private_stub}); context 0, sequence number 0.
     *
     * @param timestampNanos its {@link Fence#timestamp()}, a {@link System#nanoTime()} value
     * @return a signalled fence
     */
    public static Fence signaledAt(long timestampNanos) {
        return new StubFence(timestampNanos);
    }

    // ------------------------------------------------------------ waiting

    /**
     * Waits until at least one of {@code fences} has signalled (the kernel's
     * {@code dma_fence_wait_any_timeout} without a timeout).
     *
     * @param fences the fences; not empty
     * @return the lowest index of a signalled fence
     * @throws IllegalArgumentException if {@code fences} is empty
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public static int awaitAny(List<? extends Fence> fences) throws InterruptedException {
        return awaitAny(fences, false, 0L);
    }

    /**
     * Waits until at least one of {@code fences} has signalled, or the timeout elapses (the
     * kernel's {@code dma_fence_wait_any_timeout}). A zero timeout polls and never throws
     * {@code InterruptedException}.
     *
     * @param fences the fences; not empty
     * @param timeout how long to wait at most; not negative
     * @return the lowest index of a signalled fence, or -1 if none signalled in time
     * @throws IllegalArgumentException if {@code fences} is empty or {@code timeout} is negative
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public static int awaitAny(List<? extends Fence> fences, Duration timeout)
            throws InterruptedException {
        return awaitAny(fences, true, Fence.toNanos(timeout));
    }

    private static int awaitAny(List<? extends Fence> fences, boolean timed, long nanos)
            throws InterruptedException {
        if (fences.isEmpty()) {
            throw new IllegalArgumentException("awaitAny needs at least one fence");
        }
        int first = firstSignaled(fences);
        if (first >= 0 || (timed && nanos == 0L)) {
            return first;
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Thread me = Thread.currentThread();
        Fence.WaiterNode[] nodes = new Fence.WaiterNode[fences.size()];
        try {
            for (int i = 0; i < nodes.length; i++) {
                Fence.WaiterNode w = new Fence.WaiterNode(me);
                if (!fences.get(i).push(w)) {
                    return firstSignaled(fences);
                }
                nodes[i] = w;
            }
            long deadline = timed ? System.nanoTime() + nanos : 0L;
            while ((first = firstSignaled(fences)) < 0) {
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                if (!timed) {
                    LockSupport.park(fences);
                } else if ((nanos = deadline - System.nanoTime()) > 0L) {
                    LockSupport.parkNanos(fences, nanos);
                } else {
                    return -1;
                }
            }
            return first;
        } finally {
            for (int i = 0; i < nodes.length && nodes[i] != null; i++) {
                if (nodes[i].claim()) {
                    fences.get(i).cleanStack();
                }
            }
        }
    }

    private static int firstSignaled(List<? extends Fence> fences) {
        for (int i = 0, n = fences.size(); i < n; i++) {
            if (fences.get(i).isSignaled()) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Waits until every one of {@code fences} has signalled.
     *
     * @param fences the fences, possibly empty
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public static void awaitAll(Collection<? extends Fence> fences) throws InterruptedException {
        for (Fence f : fences) {
            f.await();
        }
    }

    /**
     * Waits until every one of {@code fences} has signalled, or the timeout elapses. A zero
     * timeout polls.
     *
     * @param fences the fences, possibly empty
     * @param timeout how long to wait at most, in all; not negative
     * @return {@code true} if all have signalled, {@code false} if the time ran out first
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public static boolean awaitAll(Collection<? extends Fence> fences, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + Fence.toNanos(timeout);
        for (Fence f : fences) {
            if (!f.await(Duration.ofNanos(Math.max(0L, deadline - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------ unwrap and merge

    /**
     * The leaf fences inside {@code fence} (the kernel's {@code dma_fence_unwrap_for_each}): the
     * members of an all-of array; for a chain, the contained fence of each link from the newest
     * back (and the members of those that are all-of arrays), skipping links whose fence has
     * signalled, as the kernel's chain walk does (it also unlinks them); any other fence is its
     * own only leaf. An any-of array is a leaf: its members are alternatives, and listing them as
     * leaves would turn "any of" into "all of" for every caller that waits for all the leaves.
     * No leaf is a chain or an all-of array.
     *
     * @param fence a fence or container
     * @return the leaves, in container order, as an unmodifiable list; may contain duplicates
     */
    public static List<Fence> unwrap(Fence fence) {
        Objects.requireNonNull(fence, "fence");
        if (!(fence instanceof FenceChain) && !isAllOf(fence)) {
            return List.of(fence);                   // a leaf: no list to grow
        }
        List<Fence> leaves = new ArrayList<>();
        addLeaves(fence, leaves);
        return Collections.unmodifiableList(leaves);
    }

    /** Tells whether {@code f} is an all-of array, whose members can stand for it. */
    private static boolean isAllOf(Fence f) {
        return f instanceof FenceArray a && !a.signalOnAny();
    }

    static void addLeaves(Fence fence, List<Fence> leaves) {
        for (Fence it = fence; it != null; it = it instanceof FenceChain c ? c.walk() : null) {
            Fence contained = it instanceof FenceChain c ? c.contained() : it;
            if (isAllOf(contained)) {
                leaves.addAll(((FenceArray) contained).fences());
            } else {
                leaves.add(contained);
            }
        }
    }

    /**
     * The leaves of every fence of {@code fences}, refusing a {@code null} member by its index.
     *
     * @param what names the caller for the message, e.g. {@code "an all-of array"}
     */
    static List<Fence> leavesOf(Collection<? extends Fence> fences, String what) {
        List<Fence> leaves = new ArrayList<>(fences.size());
        int i = 0;
        for (Fence f : fences) {
            addLeaves(requireMember(f, i++, what), leaves);
        }
        return leaves;
    }

    /** Refuses a {@code null} member of a collection of fences, naming its index and the rule. */
    static Fence requireMember(Fence f, int index, String what) {
        if (f == null) {
            throw new NullPointerException("fences[" + index + "] is null: " + what
                    + " cannot have a null member");
        }
        return f;
    }

    /**
     * Merges fences into one that signals when all of them have (the kernel's
     * {@code dma_fence_unwrap_merge}, behind {@code SYNC_IOC_MERGE}). Containers are unwrapped;
     * signalled leaves are dropped (with their errors: check those before merging if they
     * matter); of the leaves of one context only the latest is kept. What is left decides the
     * result:
     *
     * <ul>
     *   <li>none: a signalled stub carrying the latest timestamp of the dropped leaves (the shared
     *       {@link #stub()} if there were none);
     *   <li>one: that fence itself;
     *   <li>several: a new all-of {@link FenceArray} of them, on a fresh context, sorted by
     *       context.
     * </ul>
     *
     * @param fences the fences to merge
     * @return a fence for all of them
     * @throws NullPointerException if a member is {@code null} (the message names its index)
     */
    public static Fence merge(Fence... fences) {
        return merge(Arrays.asList(fences));
    }

    /**
     * Merges fences like {@link #merge(Fence...)}.
     *
     * @param fences the fences to merge
     * @return a fence for all of them
     * @throws NullPointerException if a member is {@code null} (the message names its index)
     */
    public static Fence merge(Collection<? extends Fence> fences) {
        List<Fence> leaves = leavesOf(fences, "a merge");
        List<Fence> pending = new ArrayList<>(leaves.size());
        Fence latestSignaled = null;
        for (Fence leaf : leaves) {
            if (!leaf.isSignaled()) {
                pending.add(leaf);
            } else if (latestSignaled == null || leaf.timestamp() - latestSignaled.timestamp() > 0L) {
                latestSignaled = leaf;
            }
        }
        pending.sort(Comparator.comparingLong(Fence::context)
                .thenComparing((a, b) -> Long.compareUnsigned(b.seqno(), a.seqno())));
        List<Fence> survivors = new ArrayList<>(pending.size());
        for (Fence f : pending) {
            if (survivors.isEmpty() || survivors.get(survivors.size() - 1).context() != f.context()) {
                survivors.add(f);
            }
        }
        return switch (survivors.size()) {
            case 0 -> latestSignaled == null ? STUB : signaledAt(latestSignaled.timestamp());
            case 1 -> survivors.get(0);
            default -> FenceArray.allOf(survivors);
        };
    }

    // ------------------------------------------------------------ handlers

    /**
     * Sets the handler told about every exception a callback throws (or an executor throws when
     * handed a callback). It runs on the thread that ran the callback. The default logs at
     * {@code WARNING} to the {@link System.Logger} named {@code dev.bufsync.fence}.
     *
     * @param handler the handler, or {@code null} to restore the default
     */
    public static void setCallbackExceptionHandler(BiConsumer<? super Fence, ? super Throwable> handler) {
        callbackExceptionHandler = handler != null ? handler : LOG_CALLBACK_FAILURE;
    }

    /**
     * Sets the handler told about every fence abandoned because its {@link Signaller} became
     * unreachable while it was pending; it runs after the fence has signalled with a
     * {@link FenceAbandonedException} and its callbacks have run, on a virtual thread named
     * {@code bufsync-fence-abandoned} (one per abandoned fence, never the reaper thread itself).
     * The default logs at {@code WARNING} to the {@link System.Logger} named
     * {@code dev.bufsync.fence}, bounded so that a flood of forgotten fences cannot flood the log:
     * the first 10 fences of each minute one line each, then one line with the count of the others
     * once the minute is over. A handler that throws is logged the same bounded way.
     *
     * @param handler the handler, or {@code null} to restore the default
     */
    public static void setAbandonedHandler(Consumer<? super Fence> handler) {
        abandonedHandler = handler != null ? handler : LOG_ABANDONED;
    }

    static void reportCallbackFailure(Fence fence, Throwable failure) {
        try {
            callbackExceptionHandler.accept(fence, failure);
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "callback exception handler threw", t);
        }
    }

    static void reportAbandoned(Fence fence) {
        try {
            abandonedHandler.accept(fence);
        } catch (Throwable t) {
            try {
                HANDLER_FAILURE_LOG.log("abandoned-fence handler threw on " + fence, t);
            } catch (Throwable logFailed) {
                // the handler and the log both threw: nobody left to tell
            }
        }
        FenceEvents.abandoned(fence);
    }
}
