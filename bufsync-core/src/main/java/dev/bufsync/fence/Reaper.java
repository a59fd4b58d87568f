package dev.bufsync.fence;

import java.lang.System.Logger.Level;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;

/**
 * Detects forgotten fences: one phantom reference per pending {@link ContextFence}, watching its
 * {@link Signaller}, one package-wide queue, one daemon thread that abandons the fence of every
 * reference the garbage collector enqueues.
 */
final class Reaper {
    /*
     * Overview.
     *
     * Reachability: fence -> Ref (strong, ContextFence.watcher), Ref -> fence (strong, Ref.fence),
     * Ref -> signaller (phantom), signaller -> fence (strong). While the producer holds the
     * signaller, nothing happens. If the signaller dies first, the Ref is enqueued and the reaper
     * signals the fence with a FenceAbandonedException. If the fence dies too, the Ref dies with
     * it and is never enqueued: nobody can wait on an unreachable fence. After a normal signal the
     * signaller drops the fence's only reference to the Ref, so it is collected without being
     * enqueued (a plain write, cheaper than Reference.clear()); a Ref enqueued anyway finds its
     * fence signalled and does nothing.
     *
     * Signaller methods end with Reference.reachabilityFence(this), so that a signaller cannot be
     * found unreachable, and its fence abandoned, in the middle of signalling.
     */

    private static final ReferenceQueue<Signaller> QUEUE = new ReferenceQueue<>();

    static {
        Thread.ofPlatform().name("bufsync-fence-reaper").daemon().start(Reaper::run);
    }

    private Reaper() {
    }

    /** Watches the signaller of one fence. */
    static final class Ref extends PhantomReference<Signaller> {
        final ContextFence fence;

        Ref(Signaller signaller, ContextFence fence) {
            super(signaller, QUEUE);
            this.fence = fence;
        }
    }

    private static void run() {
        for (;;) {
            try {
                ((Ref) QUEUE.remove()).fence.abandon();
            } catch (InterruptedException ignored) {
                // nobody interrupts the reaper on purpose; keep reaping
            } catch (Throwable t) {
                System.getLogger("dev.bufsync.fence").log(Level.ERROR, "fence reaper failed", t);
            }
        }
    }
}
