package dev.bufsync.fence;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
     * The registry is a table of SLOTS roots plus an overflow. A Ref's home slot is a hash of its
     * fence's context and sequence number, fixed at creation. watch claims the home slot with one
     * CAS from null; forget gives it back with one release store of null. Only the Ref that
     * claimed a slot ever writes it again, and it writes null, so the owner's plain check
     * "ROOTS[slot] == this" is exact and the table needs no lock: a fence is made and signalled
     * with two writes to the table and no monitor (the common case: few fences pending, and
     * consecutive fences of a context in consecutive slots). A Ref whose home slot is taken goes
     * to the overflow: STRIPES circular doubly-linked lists, the stripe chosen by the slot, each
     * guarded by the monitor of its sentinel. Under that monitor only pointers are written: no
     * allocation, no foreign code, no blocking (as the JDK's Cleaner keeps its PhantomCleanables).
     * prev/next are null once a Ref is unlinked, so unlinking is idempotent; a Ref that never
     * went to the overflow has them null from the start.
     *
     * Either way the Ref is strongly reachable from a static root from the moment watch returns
     * until forget, so the garbage collector enqueues it when its signaller dies: no fence is
     * lost. forget runs once per Ref in practice (after a signal, by the signaller, which is
     * alive until it returns; or after the enqueue, by the reaper, when the signaller is dead),
     * and is idempotent anyway.
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

    static final int SLOTS = 4096;                              // a power of two
    private static final Ref[] ROOTS = new Ref[SLOTS];          // slot: null or its owner; CAS in, release null out
    private static final int STRIPES = 32;                      // a power of two, at most SLOTS
    private static final Ref[] OVERFLOW = new Ref[STRIPES];     // sentinels, final after <clinit>
    private static final ReferenceQueue<Signaller> QUEUE = new ReferenceQueue<>();

    static {
        for (int i = 0; i < STRIPES; i++) {
            Ref sentinel = new Ref(null, null, i);
            sentinel.prev = sentinel;
            sentinel.next = sentinel;
            OVERFLOW[i] = sentinel;
        }
        Thread.ofPlatform().name("bufsync-fence-reaper").daemon().start(Reaper::run);
    }

    private Reaper() {
    }

    /** Watches the signaller of one fence. */
    static final class Ref extends PhantomReference<Signaller> {
        final ContextFence fence;
        final int slot;     // home slot in ROOTS; its stripe in OVERFLOW is slot & (STRIPES - 1)
        Ref prev;           // guarded by the stripe's monitor; null unless in the overflow
        Ref next;           // likewise

        Ref(Signaller signaller, ContextFence fence, int slot) {
            super(signaller, QUEUE);
            this.fence = fence;
            this.slot = slot;
        }
    }

    /** Starts watching {@code signaller}; returns the reference to {@link #forget} after a signal. */
    static Ref watch(Signaller signaller, ContextFence fence) {
        int slot = (int) (fence.seqno() + fence.context() * 0x9E3779B97F4A7C15L) & (SLOTS - 1);
        Ref r = new Ref(signaller, fence, slot);
        if (!ROOT.compareAndSet(ROOTS, slot, (Ref) null, r)) {
            Ref list = OVERFLOW[slot & (STRIPES - 1)];
            synchronized (list) {
                r.prev = list;
                r.next = list.next;
                list.next.prev = r;
                list.next = r;
            }
        }
        return r;
    }

    /** Stops watching: the fence has signalled, or the reference was enqueued. Idempotent. */
    static void forget(Ref r) {
        if (ROOT.getOpaque(ROOTS, r.slot) == r) {   // only r writes r there, so this is exact
            ROOT.setRelease(ROOTS, r.slot, (Ref) null);
            return;
        }
        Ref list = OVERFLOW[r.slot & (STRIPES - 1)];
        synchronized (list) {
            if (r.prev != null) {
                r.prev.next = r.next;
                r.next.prev = r.prev;
                r.prev = null;
                r.next = null;
            }
        }
    }

    /** Tells whether {@code r} holds its home slot (false: it is in the overflow, or forgotten). */
    static boolean inTable(Ref r) {
        return ROOT.getOpaque(ROOTS, r.slot) == r;
    }

    /** Tells whether {@code r} is still rooted, in the table or in the overflow. */
    static boolean isWatched(Ref r) {
        if (inTable(r)) {
            return true;
        }
        synchronized (OVERFLOW[r.slot & (STRIPES - 1)]) {
            return r.prev != null;
        }
    }

    /** Runs the registrations of an abandoned fence, then tells the handler; off the reaper thread. */
    static void handOff(ContextFence fence, Object run) {
        try {
            Thread.ofVirtual().name("bufsync-fence-abandoned").start(() -> finish(fence, run));
        } catch (Throwable cannotStart) {
            finish(fence, run);
        }
    }

    private static void finish(ContextFence fence, Object run) {
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

    // VarHandle mechanics
    private static final VarHandle ROOT = MethodHandles.arrayElementVarHandle(Ref[].class);
}
