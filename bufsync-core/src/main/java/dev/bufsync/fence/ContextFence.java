package dev.bufsync.fence;

/**
 * A fence issued by a {@link FenceContext}, signalled through its {@link Signaller} only.
 *
 * <p>It keeps the phantom reference that watches its signaller strongly reachable, so that the
 * reference is enqueued if the signaller dies first, and never refers to the signaller itself.
 */
final class ContextFence extends Fence {
    private final FenceContext owner;
    Reaper.Ref watcher;   // set once at creation; dropped (plain write) by the signaller after signalling

    ContextFence(FenceContext owner, long seqno) {
        super(owner.id(), seqno);
        this.owner = owner;
    }

    @Override
    String timelineName() {
        return owner.name();
    }

    /** Called by the reaper: the signaller is unreachable; signal with an error if still pending. */
    void abandon() {
        String message = describe() + " abandoned: its Signaller became unreachable while the fence was pending";
        if (complete(null, message)) {
            Fences.reportAbandoned(this);
        }
    }
}
