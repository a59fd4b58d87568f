package dev.bufsync.fence;

/**
 * A fence that signals by itself when fences it contains signal: the common part of
 * {@link FenceArray} and {@link FenceChain}. Its members register a {@link Fence.MemberNode} on
 * each fence it waits for; when a member signals, {@link #memberSignaled(Fence)} decides whether
 * the container completes.
 */
abstract class Container extends Fence {
    /*
     * Overview.
     *
     * A container completes inside the fire loop of the member that completes it. It must not run
     * its own callbacks there (that would recurse once per nesting level, thousands deep for a
     * chain), so completeNested publishes its outcome, parks the detached registrations in
     * `firing` and returns the container; Fence.fire queues it through `nextToFire` and runs it
     * after the current list. Both fields belong to the one thread that completed the container.
     */

    Object firing;           // registrations due (Fence.tryComplete's result), until the fire loop takes them
    Container nextToFire;    // the fire loop's queue link

    Container(long context, long seqno) {
        super(context, seqno);
    }

    /**
     * A fence this container waits for has signalled (its outcome is published).
     *
     * @return this container if that completed it (its callbacks are in {@link #firing}), or
     *     {@code null}
     */
    abstract Container memberSignaled(Fence member);

    /**
     * Completes this container with {@code error} without firing its registrations.
     *
     * @return this container, to be fired by the caller's fire loop, or {@code null} if it was
     *     already signalled
     */
    final Container completeNested(Throwable error) {
        Object run = tryComplete(error, null);
        if (run == LOST) {
            return null;
        }
        firing = run;
        return this;
    }

    /**
     * Registers this container on {@code member}, or, if it has already signalled, counts it at
     * once; called while the container is being armed, outside any fire loop.
     */
    final void watch(Fence member) {
        if (!member.push(new Fence.MemberNode(this))) {
            fireIfCompleted(memberSignaled(member));
        }
    }

    /** Fires a container that completed outside any fire loop (while arming). */
    static void fireIfCompleted(Container c) {
        if (c != null) {
            Object run = c.firing;
            c.firing = null;
            fire(c, run);
        }
    }
}
