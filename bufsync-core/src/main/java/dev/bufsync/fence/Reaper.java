package dev.bufsync.fence;

import java.lang.System.Logger.Level;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;

/**
 * Detects forgotten fences: one phantom reference per pending {@link ContextFence}, watching its
 * {@link Signaller} and kept reachable by a package-wide registry, one queue, and one daemon
 * thread that abandons the fence of every reference the garbage collector enqueues.
 */
final class Reaper {
    /*
     * Overview.
     *
     * Reachability: registry -> Ref (strong, until the fence signals or the Ref is enqueued),
     * Ref -> fence (strong), Ref -> signaller (phantom), signaller -> Ref (strong, to unregister
     * it), signaller -> fence. The producer side alone decides: the fence may be unreachable
     * except through its own registrations (a callback that completes a job, a container member
     * node), and it is still abandoned when its signaller dies, so no registration is ever lost.
     * After a normal signal the signaller unlinks its Ref from the registry; the Ref then dies
     * with the signaller and is never enqueued.
     *
     * The registry is STRIPES circular doubly-linked lists, each guarded by the monitor of its
     * sentinel; a Ref stays in the stripe chosen at creation. Under that monitor only pointers
     * are written: no allocation, no foreign code, no blocking (as the JDK's Cleaner keeps its
     * PhantomCleanables). prev/next are null once a Ref is unlinked, so unlinking is idempotent.
     *
     * The reaper thread only flips state: it unlinks the Ref, allocates the exception, and moves
     * the fence to signalled (Fence.tryComplete); isSignaled() is true from then on. Everything
     * foreign - the fence's callbacks, the wake-ups, the abandoned-fence handler - runs on a fresh
     * virtual thread per abandoned fence, so a callback that blocks delays nothing but itself. If
     * that thread cannot be started (out of memory), the reaper runs them itself: late beats
     * lost. The reaper's loop continues past any throwable.
     *
     * Signaller methods end with Reference.reachabilityFence(this), so that a signaller cannot be
     * found unreachable, and its fence abandoned, in the middle of signalling.
     */

    private static final int STRIPES = 32;                      // a power of two
    private static final Ref[] REGISTRY = new Ref[STRIPES];     // sentinels, final after <clinit>
    private static final ReferenceQueue<Signaller> QUEUE = new ReferenceQueue<>();

    static {
        for (int i = 0; i < STRIPES; i++) {
            Ref sentinel = new Ref(null, null, null);
            sentinel.prev = sentinel;
            sentinel.next = sentinel;
            REGISTRY[i] = sentinel;
        }
        Thread.ofPlatform().name("bufsync-fence-reaper").daemon().start(Reaper::run);
    }

    private Reaper() {
    }

    /** Watches the signaller of one fence. */
    static final class Ref extends PhantomReference<Signaller> {
        final ContextFence fence;
        final Ref list;     // the sentinel of this Ref's stripe, whose monitor guards prev and next
        Ref prev;           // guarded by list's monitor; null once unlinked
        Ref next;           // likewise

        Ref(Signaller signaller, ContextFence fence, Ref list) {
            super(signaller, QUEUE);
            this.fence = fence;
            this.list = list;
        }
    }

    /** Starts watching {@code signaller}; returns the reference to {@link #forget} after a signal. */
    static Ref watch(Signaller signaller, ContextFence fence) {
        Ref list = REGISTRY[(int) (fence.seqno() ^ fence.context() * 0x9E3779B97F4A7C15L) & (STRIPES - 1)];
        Ref r = new Ref(signaller, fence, list);
        synchronized (list) {
            r.prev = list;
            r.next = list.next;
            list.next.prev = r;
            list.next = r;
        }
        return r;
    }

    /** Stops watching: the fence has signalled, or the reference was enqueued. Idempotent. */
    static void forget(Ref r) {
        synchronized (r.list) {
            if (r.prev != null) {
                r.prev.next = r.next;
                r.next.prev = r.prev;
                r.prev = null;
                r.next = null;
            }
        }
    }

    /** Runs the registrations of an abandoned fence, then tells the handler; off the reaper thread. */
    static void handOff(ContextFence fence, Fence.Node run) {
        try {
            Thread.ofVirtual().name("bufsync-fence-abandoned").start(() -> finish(fence, run));
        } catch (Throwable cannotStart) {
            finish(fence, run);
        }
    }

    private static void finish(ContextFence fence, Fence.Node run) {
        Fence.fire(fence, run);
        Fences.reportAbandoned(fence);
    }

    private static void run() {
        for (;;) {
            try {
                Ref r = (Ref) QUEUE.remove();
                forget(r);
                r.fence.abandon();
            } catch (InterruptedException ignored) {
                // nobody interrupts the reaper on purpose; keep reaping
            } catch (Throwable t) {
                try {
                    System.getLogger("dev.bufsync.fence").log(Level.ERROR, "fence reaper failed", t);
                } catch (Throwable logFailed) {
                    // nobody left to tell; keep reaping
                }
            }
        }
    }
}
