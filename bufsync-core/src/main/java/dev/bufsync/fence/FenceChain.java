package dev.bufsync.fence;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.Optional;

/**
 * One point of a timeline built from fences (the kernel's {@code dma_fence_chain}, behind
 * timeline sync objects): a link that contains one fence and refers to the previous link, and
 * signals once its own fence and every earlier point have signalled. The newest link stands for
 * the whole timeline; {@link #find(long)} gives the fence to wait on for any earlier point.
 *
 * <pre>{@code
 * FenceChain head = null;
 * head = FenceChain.link(head, job1, 1);
 * head = FenceChain.link(head, job2, 2);
 *
 * head.find(1).ifPresentOrElse(
 *         point -> point.addCallback(f -> onPoint1()),   // wait for point 1
 *         () -> { });                                      // point 1 is not on the timeline yet
 * }</pre>
 *
 * <p><b>Sequence numbers and contexts.</b> A link whose sequence number is later than the
 * previous link's joins that link's context; otherwise it starts a new context, with its
 * sequence number raised to the previous link's, so that points never go backwards (as the
 * kernel does). The previous fence may be any fence, or {@code null} for the first link.
 *
 * <p><b>Errors.</b> A link signals with the error of its own contained fence, if any; errors of
 * earlier points stay with their own links (the kernel propagates none).
 *
 * <p><b>Bounded memory.</b> A link drops its reference to the previous one when it signals, and
 * every walk ({@link #find}, {@link Fences#unwrap}) unlinks earlier links whose contained fence
 * has signalled, as the kernel's {@code dma_fence_chain_walk} does; a long-lived timeline keeps
 * only its pending links.
 *
 * <p><b>Flat, never nested.</b> A chain given as the contained fence is replaced by
 * {@link Fences#merge merging} its leaves; the contained fence may be an array. Deadline hints
 * are passed on to the contained fence and to earlier links.
 */
public final class FenceChain extends Container {
    /*
     * Overview.
     *
     * Signalling is eager: a link registers on its previous fence and on its contained fence and
     * counts both down in `pending` (2 -> 0); the second arrival completes it with the contained
     * fence's error and then clears `prev`. A link therefore signals only after the previous
     * link has, which signals only after its own previous one has, and so on: after all earlier
     * points. Completions cascade through the fire loop (Fence.fire), not by recursion.
     *
     * `prev` is changed in two ways: walk() replaces it, by CAS, with the link before it when the
     * previous link's contained fence has signalled (the kernel's garbage collection: that link
     * holds nothing left to wait for, though it may not have signalled itself), and completion
     * clears it. A walk racing a completion loses its CAS; nothing ever makes a cleared `prev`
     * non-null again. Registrations do not move: a link unlinked by a walk still counts down the
     * link after it when it signals.
     */

    private final Fence fence;                  // the contained fence; never a chain
    private final long prevSeqno;               // the previous link's seqno if on its context, else 0
    private volatile Fence prev;                // CAS by walk(); release-cleared on completion
    private volatile int pending;               // 2, then getAndAdd -1 per arrival: prev and fence

    private FenceChain(Fence prev, Fence fence, long context, long seqno, long prevSeqno) {
        super(context, seqno);
        this.fence = fence;
        this.prevSeqno = prevSeqno;
        PREV.set(this, prev);           // plain: published by the registration CASes in arm()
        PENDING.set(this, 2);
    }

    /**
     * Creates a link for point {@code seqno} after {@code prev} (the kernel's
     * {@code dma_fence_chain_init}).
     *
     * @param prev the previous link (or any fence), or {@code null} for the first link
     * @param fence the fence of this point; a chain is flattened into its merged leaves
     * @param seqno the point; raised to {@code prev}'s if it is not later
     * @return the new link, the head of the timeline
     */
    public static FenceChain link(Fence prev, Fence fence, long seqno) {
        Objects.requireNonNull(fence, "fence");
        Fence contained = fence instanceof FenceChain ? Fences.merge(fence) : fence;
        long context;
        long prevSeqno = 0L;
        if (prev instanceof FenceChain p && Long.compareUnsigned(seqno, p.seqno()) > 0) {
            context = p.context();
            prevSeqno = p.seqno();
        } else {
            context = FenceContext.allocate();
            if (prev instanceof FenceChain p) {
                seqno = p.seqno();
            }
        }
        return new FenceChain(prev, contained, context, seqno, prevSeqno).arm();
    }

    private FenceChain arm() {
        Fence p = prev;
        if (p == null) {
            fireIfCompleted(arrive());
        } else {
            watch(p);
        }
        watch(fence);
        return this;
    }

    /**
     * The fence of this point.
     *
     * @return the contained fence, never a chain
     */
    public Fence contained() {
        return fence;
    }

    /**
     * Finds the fence that signals once point {@code seqno} has been reached (the kernel's
     * {@code dma_fence_chain_find_seqno}): the oldest link of this timeline whose signal implies
     * every point up to {@code seqno}. Earlier points still pending count: if point 1 is pending
     * and point 2's fence has signalled, point 2 is found as link 1.
     *
     * @param seqno the point; 0 finds this link
     * @return the link (or, past the start of this context, the fence before it) to wait on for
     *     the point; {@link Fences#stub()} if every point up to it has signalled; empty if
     *     {@code seqno} is later than this link (a future point, which the kernel refuses with
     *     {@code -EINVAL})
     */
    public Optional<Fence> find(long seqno) {
        if (seqno == 0L) {
            return Optional.of(this);
        }
        if (Long.compareUnsigned(seqno(), seqno) < 0) {
            return Optional.empty();
        }
        Fence it = this;
        while (it instanceof FenceChain c && c.context() == context()
                && Long.compareUnsigned(c.prevSeqno, seqno) >= 0) {
            it = c.walk();
        }
        return Optional.of(it != null ? it : Fences.stub());
    }

    /**
     * Steps to the previous link, first unlinking previous links whose contained fence has
     * signalled (the kernel's {@code dma_fence_chain_walk}).
     *
     * @return the previous link or fence, or {@code null} if there is nothing left to wait for
     */
    Fence walk() {
        Fence p;
        while ((p = prev) != null) {
            Fence replacement;
            if (p instanceof FenceChain pc) {
                if (!pc.fence.isSignaled()) {
                    break;
                }
                replacement = pc.prev;
            } else {
                if (!p.isSignaled()) {
                    break;
                }
                replacement = null;
            }
            PREV.compareAndSet(this, p, replacement);
        }
        return p;
    }

    @Override
    Container memberSignaled(Fence member) {
        return arrive();
    }

    /** Counts one arrival down; the last one completes the link and lets go of the past. */
    private Container arrive() {
        if ((int) PENDING.getAndAdd(this, -1) != 1) {
            return null;
        }
        Container c = completeNested(fence.error());
        PREV.setRelease(this, null);
        return c;
    }

    @Override
    Fence forwardDeadline(long d) {
        fence.setDeadline(d);
        return prev;
    }

    @Override
    String timelineName() {
        return "chain";
    }

    // VarHandle mechanics
    private static final VarHandle PREV;
    private static final VarHandle PENDING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PREV = l.findVarHandle(FenceChain.class, "prev", Fence.class);
            PENDING = l.findVarHandle(FenceChain.class, "pending", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
