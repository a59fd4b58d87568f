package dev.bufsync.ww;

/**
 * How a {@link WwMutex} or {@link WwSharedMutex} resolves a conflict between two transactions of
 * its class: wound-wait or wait-die. The policy decides who backs off and who is asked to look
 * again; the mutex's mechanism (queue, spin bit, hand-off, spinning, parking) carries the
 * decisions out. The kernel keeps the same split: the wound/wait checks in {@code ww_mutex.h},
 * the mutex in {@code mutex.c}.
 *
 * <p>Stateless: one object per algorithm ({@link #of}), reached through the mutex's class. A
 * method that reads a mutex's queue runs under that mutex's queue bit; none allocates or runs
 * foreign code, so none can throw there.
 */
abstract class ConflictPolicy {
    /*
     * Overview.
     *
     * The mutex asks the policy at each point where the two algorithms differ:
     *  - woundedNow: before a context that holds locks queues, and at each look while queued,
     *    outside any queue bit (wound-wait confirms a wound there; wait-die is never wounded);
     *  - diesBeforeQueue: under the bit, before a context that holds locks queues (wait-die dies
     *    for an older holder or context waiter);
     *  - afterAnnouncing: under the bit, after a context waiter announced itself [W] and read the
     *    holder's context (wound-wait wounds a younger holder; wait-die looks again, to die, if an
     *    older one took the mutex on the fast path meanwhile);
     *  - diesQueued: under the bit, when a queued context that holds locks looks (wait-die dies for
     *    an older holder or a context waiter ahead of it);
     *  - waitsFor: while spinning before queueing, whether the spinner would only wait anyway;
     *  - overtaken: under the bit, for each younger context waiter a newcomer is queued ahead of
     *    (wait-die asks one that holds locks to look, so that it dies);
     *  - checkWaiters: under the bit, after a context acquired the mutex while others wait [A]
     *    (wound-wait: an older waiter that holds locks wounds it; wait-die: a younger first context
     *    waiter that holds locks is asked to look);
     *  - queueSettled: for assertions, the policy's own queue invariant (wait-die: only the first
     *    context waiter holds locks, any later one has been asked to look).
     * A WwSharedMutex (several holders, an exclusive holder's upgrade) asks at its own points:
     * diesBeforeQueue, queued (wound-wait wounds every younger holder), diesQueued, overtakenFrom
     * and admitted, each made on its holders and queue.
     * Every back-off either policy causes names an older context, live at the decision: see
     * WwMutex's and WwSharedMutex's Overviews for why no wound and no death is lost.
     */

    /** Wound-wait: the older waiter wounds a younger holder. */
    static final ConflictPolicy WOUND_WAIT = new WoundWait();
    /** Wait-die: a younger waiter that holds locks dies rather than wait for an older one. */
    static final ConflictPolicy WAIT_DIE = new WaitDie();

    /** The policy of {@code algorithm}. */
    static ConflictPolicy of(WwClass.Algorithm algorithm) {
        return algorithm == WwClass.Algorithm.WAIT_DIE ? WAIT_DIE : WOUND_WAIT;
    }

    /**
     * Tells whether {@code ctx} must back off now for a wound (confirmed, see
     * {@link AcquireContext#confirmWound()}). Owner thread, no queue bit held.
     */
    abstract boolean woundedNow(AcquireContext ctx);

    /**
     * Before {@code ctx}, which holds locks, queues on {@code m}: whether it dies (with
     * {@code ctx.olderStamp} set). Queue bit held.
     */
    abstract boolean diesBeforeQueue(QueuedMutex m, AcquireContext ctx);

    /**
     * After {@code w} (of {@code ctx}) announced itself on {@code m} and read {@code holder} as
     * the holder's context. Queue bit held.
     */
    abstract void afterAnnouncing(QueuedMutex m, QueuedMutex.Waiter w, AcquireContext ctx, AcquireContext holder);

    /**
     * A queued waiter {@code w} of {@code ctx}, which holds locks, looks: whether it dies (with
     * {@code ctx.olderStamp} set). Queue bit held.
     */
    abstract boolean diesQueued(QueuedMutex m, AcquireContext ctx, QueuedMutex.Waiter w);

    /**
     * Tells whether {@code ctx}, which holds locks, would simply wait for {@code holder}: no wound
     * pending, and neither a wound to deliver nor a death to die.
     */
    abstract boolean waitsFor(AcquireContext ctx, AcquireContext holder);

    /** A newcomer was queued ahead of context waiter {@code c}, which is younger. Queue bit held. */
    abstract void overtaken(QueuedMutex.Waiter c);

    /** {@code holder} has just acquired {@code m} while others wait. Queue bit held. */
    abstract void checkWaiters(QueuedMutex m, AcquireContext holder);

    /** The policy's queue invariant on {@code m}, for assertions. Queue bit held. */
    abstract boolean queueSettled(QueuedMutex m);

    // ------------------------------------------------------------ a WwSharedMutex's decisions

    /**
     * Before request {@code w}, whose context holds locks, queues on {@code m}: whether it dies
     * (with {@code olderStamp} set). Bit held.
     */
    abstract boolean diesBeforeQueue(WwSharedMutex m, WwSharedMutex.Node w);

    /** Queued request {@code w}, whose context holds locks, looks: whether it dies. Bit held. */
    abstract boolean diesQueued(WwSharedMutex m, WwSharedMutex.Node w);

    /** {@code ctx}, which holds locks, has just queued on {@code m}. Bit held. */
    abstract void queued(WwSharedMutex m, AcquireContext ctx);

    /** A newcomer is being queued ahead of {@code first} and every request after it. Bit held. */
    abstract void overtakenFrom(WwSharedMutex m, WwSharedMutex.Node first);

    /** {@code holder} has just become a holder of {@code m} while others may wait. Bit held. */
    abstract void admitted(WwSharedMutex m, AcquireContext holder);

    private static final class WoundWait extends ConflictPolicy {
        @Override
        boolean woundedNow(AcquireContext ctx) {
            return ctx.acquired > 0 && ctx.confirmWound();
        }

        @Override
        boolean diesBeforeQueue(QueuedMutex m, AcquireContext ctx) {
            return false;
        }

        @Override
        void afterAnnouncing(QueuedMutex m, QueuedMutex.Waiter w, AcquireContext ctx, AcquireContext holder) {
            woundIfYounger(m, holder, ctx);
        }

        @Override
        boolean diesQueued(QueuedMutex m, AcquireContext ctx, QueuedMutex.Waiter w) {
            return false;                            // its wound is confirmed by woundedNow
        }

        @Override
        boolean waitsFor(AcquireContext ctx, AcquireContext holder) {
            return !ctx.woundedAcquire() && WwClass.isOlder(holder.stamp(), ctx.stamp());
        }

        @Override
        void overtaken(QueuedMutex.Waiter c) {
        }

        @Override
        void checkWaiters(QueuedMutex m, AcquireContext holder) {
            for (QueuedMutex.Waiter c = m.firstWaiter(); c != null; c = m.next(c)) {
                if (c.ctx != null && woundIfYounger(m, holder, c.ctx)) {
                    return;
                }
            }
        }

        @Override
        boolean queueSettled(QueuedMutex m) {
            return true;
        }

        @Override
        boolean diesBeforeQueue(WwSharedMutex m, WwSharedMutex.Node w) {
            return false;
        }

        @Override
        boolean diesQueued(WwSharedMutex m, WwSharedMutex.Node w) {
            return false;                            // its wound is confirmed by woundedNow
        }

        /** Every holder younger than {@code ctx} is wounded: every one of them is waited for. */
        @Override
        void queued(WwSharedMutex m, AcquireContext ctx) {
            AcquireContext writer = m.writer();
            if (writer != null && writer != ctx && WwClass.isOlder(ctx.stamp(), writer.stamp())) {
                wound(m.wwClass(), writer);
            }
            WwSharedMutex.Node first = m.firstReader();
            for (WwSharedMutex.Node r = first; r != null; r = WwSharedMutex.next(first, r)) {
                if (r.ctx != ctx && WwClass.isOlder(ctx.stamp(), r.ctx.stamp())) {
                    wound(m.wwClass(), r.ctx);
                }
            }
        }

        @Override
        void overtakenFrom(WwSharedMutex m, WwSharedMutex.Node first) {
        }

        /** An older waiter that holds locks wounds the new holder. */
        @Override
        void admitted(WwSharedMutex m, AcquireContext holder) {
            WwSharedMutex.Node first = m.firstRequest();
            for (WwSharedMutex.Node c = first; c != null; c = WwSharedMutex.next(first, c)) {
                if (c.ctx != holder && c.ctx.acquired > 0 && WwClass.isOlder(c.ctx.stamp(), holder.stamp())) {
                    wound(m.wwClass(), holder);
                    return;
                }
            }
        }

        /**
         * If {@code waiter} holds locks and is older than {@code holder}, wounds the holder.
         *
         * @return {@code true} if the holder was wounded
         */
        private static boolean woundIfYounger(QueuedMutex m, AcquireContext holder, AcquireContext waiter) {
            if (waiter.acquired == 0 || !WwClass.isOlder(waiter.stamp(), holder.stamp())) {
                return false;
            }
            wound(m.wwClass(), holder);
            return true;
        }

        /**
         * Wounds {@code holder} and wakes its thread, so that it backs off at its next contended
         * lock, or now if it is queued elsewhere.
         */
        private static void wound(WwClass cls, AcquireContext holder) {
            if (holder.wound()) {
                cls.counters.add(Counters.WOUNDS, 1);
            }
            holder.wakeCarrier();                    // after the wound: see AcquireContext
        }
    }

    private static final class WaitDie extends ConflictPolicy {
        @Override
        boolean woundedNow(AcquireContext ctx) {
            return false;
        }

        /** Dies for an older holder or an older context waiter. */
        @Override
        boolean diesBeforeQueue(QueuedMutex m, AcquireContext ctx) {
            return diesFor(m, ctx, null);
        }

        /**
         * An older context took the mutex on the fast path between the kill check and [W] and read
         * no waiters [A]: neither side would look again, and {@code w} would wait holding its
         * locks behind an older holder, the one wait that wait-die forbids. It looks before it
         * parks (or, asynchronous, is scheduled to) and dies there. Unlike
         * {@link WwMutex#askToLook} it unparks nobody: a thread waiter is the caller's own and has
         * not parked, and unparking itself would leave a stray permit for its next park.
         */
        @Override
        void afterAnnouncing(QueuedMutex m, QueuedMutex.Waiter w, AcquireContext ctx, AcquireContext holder) {
            if (ctx.acquired > 0 && WwClass.isOlder(holder.stamp(), ctx.stamp())) {
                w.set(QueuedMutex.Waiter.RECHECK);
                if (w instanceof AsyncWaiter a) {
                    a.schedule();
                }
            }
        }

        /** The kernel's check_kill: as before queueing, with the waiters ahead of {@code w}. */
        @Override
        boolean diesQueued(QueuedMutex m, AcquireContext ctx, QueuedMutex.Waiter w) {
            return diesFor(m, ctx, w);
        }

        /**
         * Whether {@code ctx} dies for an older holder or an older context waiter before
         * {@code end} (null: all); records the older stamp.
         */
        private static boolean diesFor(QueuedMutex m, AcquireContext ctx, QueuedMutex.Waiter end) {
            if (m.holder instanceof AcquireContext h && WwClass.isOlder(h.stamp(), ctx.stamp())) {
                ctx.olderStamp = h.stamp();
                return true;
            }
            for (QueuedMutex.Waiter c = m.firstWaiter(); c != null && c != end; c = m.next(c)) {
                if (c.ctx != null && WwClass.isOlder(c.ctx.stamp(), ctx.stamp())) {
                    ctx.olderStamp = c.ctx.stamp();
                    return true;
                }
            }
            return false;
        }

        @Override
        boolean waitsFor(AcquireContext ctx, AcquireContext holder) {
            return !WwClass.isOlder(holder.stamp(), ctx.stamp());
        }

        @Override
        void overtaken(QueuedMutex.Waiter c) {
            if (c.ctx.acquired > 0) {
                WwMutex.askToLook(c);                // it must die now that an older one is ahead
            }
        }

        /** The kernel's check_waiters: only the first context waiter can need it. */
        @Override
        void checkWaiters(QueuedMutex m, AcquireContext holder) {
            for (QueuedMutex.Waiter c = m.firstWaiter(); c != null; c = m.next(c)) {
                if (c.ctx != null) {
                    if (c.ctx.acquired > 0 && WwClass.isOlder(holder.stamp(), c.ctx.stamp())) {
                        WwMutex.askToLook(c);
                    }
                    return;
                }
            }
        }

        /** Dies for an older holder other than itself, or (unless an upgrade) an older request. */
        @Override
        boolean diesBeforeQueue(WwSharedMutex m, WwSharedMutex.Node w) {
            return diesFor(m, w, null);
        }

        /** As before queueing, with the requests ahead of {@code w}. */
        @Override
        boolean diesQueued(WwSharedMutex m, WwSharedMutex.Node w) {
            return diesFor(m, w, w);
        }

        /**
         * Whether {@code w}'s context dies for an older holder other than itself or, unless
         * {@code w} is an upgrade, an older queued request before {@code end} (null: all).
         */
        private static boolean diesFor(WwSharedMutex m, WwSharedMutex.Node w, WwSharedMutex.Node end) {
            AcquireContext ctx = w.ctx;
            if (m.olderHolder(ctx)) {
                return true;
            }
            if (!w.upgrade) {
                WwSharedMutex.Node first = m.firstRequest();
                for (WwSharedMutex.Node c = first; c != null && c != end; c = WwSharedMutex.next(first, c)) {
                    if (WwClass.isOlder(c.ctx.stamp(), ctx.stamp())) {
                        ctx.olderStamp = c.ctx.stamp();
                        return true;
                    }
                }
            }
            return false;
        }

        @Override
        void queued(WwSharedMutex m, AcquireContext ctx) {
        }

        /** Every request behind the newcomer that holds locks is asked to look, so that it dies. */
        @Override
        void overtakenFrom(WwSharedMutex m, WwSharedMutex.Node first) {
            WwSharedMutex.Node head = m.firstRequest();
            for (WwSharedMutex.Node c = first; c != null; c = WwSharedMutex.next(head, c)) {
                if (c.ctx.acquired > 0) {
                    WwSharedMutex.askToLook(c);
                }
            }
        }

        /** Every waiter younger than the new holder that holds locks is asked to look. */
        @Override
        void admitted(WwSharedMutex m, AcquireContext holder) {
            WwSharedMutex.Node first = m.firstRequest();
            for (WwSharedMutex.Node c = first; c != null; c = WwSharedMutex.next(first, c)) {
                if (c.ctx != holder && c.ctx.acquired > 0 && WwClass.isOlder(holder.stamp(), c.ctx.stamp())) {
                    WwSharedMutex.askToLook(c);
                }
            }
        }

        /** A context waiter behind the first one that holds locks has been asked to look. */
        @Override
        boolean queueSettled(QueuedMutex m) {
            boolean first = true;
            for (QueuedMutex.Waiter c = m.firstWaiter(); c != null; c = m.next(c)) {
                if (c.ctx != null) {
                    if (!first && c.ctx.acquired > 0 && !c.is(QueuedMutex.Waiter.RECHECK)) {
                        return false;
                    }
                    first = false;
                }
            }
            return true;
        }
    }
}
