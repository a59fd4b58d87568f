package dev.bufsync.fence;

/**
 * A fence issued by a {@link FenceContext}, signalled through its {@link Signaller} only.
 *
 * <p>It never refers to its signaller: the {@link Reaper} watches the signaller, so that the
 * fence is abandoned when the signaller dies, whether or not the fence itself is still reachable.
 */
final class ContextFence extends Fence {
    private final FenceContext owner;

    ContextFence(FenceContext owner, long seqno) {
        super(owner.id(), seqno);
        this.owner = owner;
    }

    @Override
    String timelineName() {
        return owner.name();
    }

    /**
     * Called by the reaper: the signaller is unreachable. Signals with an error if still pending,
     * on the reaper thread, and hands the registrations and the report to another thread.
     */
    void abandon() {
        FenceAbandonedException error = new FenceAbandonedException(describe()
                + " abandoned: its Signaller became unreachable while the fence was pending");
        Object run = tryComplete(null, error);
        if (run != LOST) {
            Reaper.handOff(this, run);
        }
    }
}
