package dev.bufsync.fence;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * A fence that signals when all of its member fences have signalled, or when any one has (the
 * kernel's {@code dma_fence_array}). An all-of array signals with the first error any member
 * signalled with (first in time), or without error; an any-of array signals with the outcome of
 * the member that signalled first.
 *
 * <pre>{@code
 * FenceArray deps = FenceArray.allOf(List.of(upload, previousFrame));
 * deps.addCallback(f -> submit(job));   // once both are done
 * }</pre>
 *
 * <p><b>Flat where flattening keeps the meaning.</b> Containers given as members of an all-of
 * array are replaced by their leaves ({@link Fences#unwrap}); an any-of array is such a leaf, kept
 * whole (its members are alternatives, not requirements). An any-of array given as a member of an
 * any-of array is replaced by its members. The nesting that cannot be flattened, an all-of
 * container inside an any-of array, is refused. A {@code null} member is refused with a
 * {@link NullPointerException} naming its index. Each array takes a fresh context and has
 * sequence number 1. Deadline hints given to an array are passed on to its members.
 *
 * <p><b>Implementation notes.</b> An array registers one node on each member and counts
 * completions down with one atomic add; the member that completes it also runs its callbacks,
 * after its own, on the signalling thread. An any-of array unregisters from the other members
 * when it completes, so long-lived members do not accumulate dead registrations.
 */
public final class FenceArray extends Container {
    /*
     * Overview.
     *
     * `pending` starts at the number of members (1 for any-of) and is decremented once per member
     * signal by memberSignaled, run by the member's fire loop or, for a member already signalled,
     * by arm(); the decrement to 0 completes the array (Container.completeNested). The first
     * member error is CASed into `firstError` before the decrement, so the completing decrement
     * sees it. Any-of: the first member to signal completes the array with its own outcome; later
     * members lose the state CAS and do nothing.
     *
     * Any-of withdrawal: the completer scans every member's stack for this array's nodes after
     * its completing CAS; arm() checks for completion after its last push. Both sides are
     * volatile accesses, so either the completer's scan sees every push, or arm() sees the
     * completion and withdraws itself; withdrawing twice is harmless (claims are exclusive).
     */

    private final List<Fence> members;          // leaves, fixed at creation
    private final boolean any;
    private volatile int pending;               // set plainly at creation, then getAndAdd -1 per member signal
    private volatile Throwable firstError;      // CAS null -> the first member error (all-of)

    private FenceArray(List<Fence> members, boolean any) {
        super(FenceContext.allocate(), 1L);
        this.members = members;
        this.any = any;
        PENDING.set(this, any ? 1 : members.size());   // plain: published by the registration CASes
    }

    /**
     * Creates an array that signals once every member has signalled, with the first member error
     * if any. An empty array is signalled at once.
     *
     * @param fences the members; chains and all-of arrays among them are flattened into their
     *     leaves, any-of arrays are kept as members
     * @return the array
     * @throws NullPointerException if a member is {@code null} (the message names its index)
     */
    public static FenceArray allOf(Collection<? extends Fence> fences) {
        return new FenceArray(List.copyOf(Fences.leavesOf(fences, "an all-of array")), false).arm();
    }

    /**
     * Creates an array like {@link #allOf(Collection)}.
     *
     * @param fences the members
     * @return the array
     */
    public static FenceArray allOf(Fence... fences) {
        return allOf(Arrays.asList(fences));
    }

    /**
     * Creates an array that signals as soon as any member has signalled, with that member's
     * outcome.
     *
     * @param fences the members, not empty; any-of arrays among them are flattened into their
     *     members
     * @return the array
     * @throws IllegalArgumentException if {@code fences} is empty (the array could never signal),
     *     or contains an all-of array or a chain (which cannot be flattened into an any-of array)
     * @throws NullPointerException if a member is {@code null} (the message names its index)
     */
    public static FenceArray anyOf(Collection<? extends Fence> fences) {
        List<Fence> leaves = new ArrayList<>(fences.size());
        int i = 0;
        for (Fence f : fences) {
            if (Fences.requireMember(f, i++, "an any-of array") instanceof FenceArray a && a.any) {
                leaves.addAll(a.members);
            } else if (f instanceof Container) {
                throw new IllegalArgumentException("an any-of array cannot contain " + f
                        + ": an all-of container cannot be flattened into it");
            } else {
                leaves.add(f);
            }
        }
        if (leaves.isEmpty()) {
            throw new IllegalArgumentException("an any-of array needs at least one member");
        }
        return new FenceArray(List.copyOf(leaves), true).arm();
    }

    /**
     * Creates an array like {@link #anyOf(Collection)}.
     *
     * @param fences the members, not empty
     * @return the array
     * @throws IllegalArgumentException as {@link #anyOf(Collection)}
     */
    public static FenceArray anyOf(Fence... fences) {
        return anyOf(Arrays.asList(fences));
    }

    /** Registers on every member; completes at once if nothing is left to wait for. */
    private FenceArray arm() {
        if (members.isEmpty()) {
            fireIfCompleted(completeNested(null));
            return this;
        }
        for (int i = 0; i < members.size() && !(any && isSignaled()); i++) {
            watch(members.get(i));
        }
        if (any && isSignaled()) {
            withdraw();                 // pairs with withdraw() in memberSignaled, see Overview
        }
        return this;
    }

    /**
     * The members, all leaves, in the order given (after flattening).
     *
     * @return an unmodifiable list of the members
     */
    public List<Fence> fences() {
        return members;
    }

    /**
     * Tells whether this array signals when any member does, rather than when all do.
     *
     * @return {@code true} for an any-of array
     */
    public boolean signalOnAny() {
        return any;
    }

    @Override
    Container memberSignaled(Fence member) {
        Throwable e = member.error();
        if (any) {
            Container c = completeNested(e);
            if (c != null) {
                withdraw();
            }
            return c;
        }
        if (e != null) {
            FIRST_ERROR.compareAndSet(this, null, e);
        }
        return (int) PENDING.getAndAdd(this, -1) == 1 ? completeNested(firstError) : null;
    }

    /** Any-of, once completed: unregisters from the members still pending. */
    private void withdraw() {
        for (Fence f : members) {
            f.removeMember(this);
        }
    }

    @Override
    Fence forwardDeadline(long d) {
        for (Fence f : members) {
            f.setDeadline(d);
        }
        return null;
    }

    @Override
    String timelineName() {
        return any ? "any-of" : "all-of";
    }

    // VarHandle mechanics
    private static final VarHandle PENDING;
    private static final VarHandle FIRST_ERROR;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PENDING = l.findVarHandle(FenceArray.class, "pending", int.class);
            FIRST_ERROR = l.findVarHandle(FenceArray.class, "firstError", Throwable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
