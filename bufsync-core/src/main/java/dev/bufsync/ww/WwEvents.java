package dev.bufsync.ww;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * The JDK Flight Recorder events of the {@code ww} package: a contended lock, a back-off and a
 * wound. Each is on by default; the contended lock only when it waited 20 ms or more, like the
 * JDK's {@code jdk.JavaMonitorEnter}.
 *
 * <p>Call sites in {@link WwMutex} and {@link AcquireContext} are one line each; everything else
 * lives here. No event is begun or committed while a mutex's queue bit is held.
 */
final class WwEvents {
    /*
     * Overview.
     *
     * The standard JFR idiom: an event object is made, begun and ended, and filled and committed
     * only if shouldCommit() says a recording wants it. Until a recording first starts, the event
     * classes are not instrumented and shouldCommit() is a constant false; afterwards, with no
     * recording running, it reads one flag. The JIT removes the object where it does not escape.
     * The uncontended lock path calls none of this.
     *
     * Wounds are delivered by another thread under the queue bit of a mutex the wounded context
     * holds, where nothing may allocate, so the Wound event is committed on the wounded
     * context's own thread when it backs off for the wound.
     */

    private static final String CATEGORY = "bufsync";

    private WwEvents() {
    }

    /** A lock that had to queue behind a holder. */
    @Name("dev.bufsync.ww.ContendedLock")
    @Label("WW Lock Contended")
    @Category({CATEGORY, "Wound/Wait"})
    @Description("A WwMutex or WwSharedMutex lock that had to queue behind a holder")
    @Threshold("20 ms")
    static final class ContendedLock extends Event {
        @Label("Class")
        @Description("The name of the mutex's WwClass")
        String wwClass;

        @Label("Algorithm")
        String algorithm;

        @Label("Mutex")
        @Description("The mutex's identity and class")
        String mutex;

        @Label("Mode")
        @Description("exclusive, shared, or upgrade (a reader of a WwSharedMutex asking to write)")
        String mode;

        @Label("Waiter Stamp")
        @Description("The stamp of the waiting context; 0 for a lock without a context")
        long waiterStamp;

        @Label("Waiter Held")
        @Description("Mutexes the waiting context held while it waited")
        int waiterHeld;

        @Label("Holder Stamp")
        @Description("The stamp of the context that held the mutex as the waiter queued (of a"
                + " WwSharedMutex: its writer, else its oldest other reader); 0 if the holder had no"
                + " context")
        long holderStamp;

        @Label("Holder Thread")
        @Description("The thread of that holder")
        Thread holderThread;

        @Label("Outcome")
        @Description("acquired, timed out, interrupted, died (wait-die) or wounded (wound-wait)")
        String outcome;
    }

    /** A back-off reported to a transaction. */
    @Name("dev.bufsync.ww.Backoff")
    @Label("WW Back-off")
    @Category({CATEGORY, "Wound/Wait"})
    @Description("A transaction was told to back off: drop its locks and lock the contended mutex"
            + " with lockSlow")
    @StackTrace(false)
    static final class Backoff extends Event {
        @Label("Class")
        String wwClass;

        @Label("Mutex")
        @Description("The contended mutex, to be locked next with lockSlow")
        String mutex;

        @Label("Stamp")
        @Description("The stamp of the transaction that backs off")
        long stamp;

        @Label("Older Stamp")
        @Description("The stamp of the older transaction it yields to (its own for an injected"
                + " back-off)")
        long olderStamp;

        @Label("Reason")
        @Description("WOUNDED, DIED or INJECTED")
        String reason;

        @Label("Locks Dropped")
        @Description("Mutexes the transaction held and must now unlock")
        int held;
    }

    /** A wound taking effect: the wounded transaction backs off. */
    @Name("dev.bufsync.ww.Wound")
    @Label("WW Wound")
    @Category({CATEGORY, "Wound/Wait"})
    @Description("Wound-wait: an older transaction wounded a younger one holding a mutex it waits"
            + " for; emitted when the wounded transaction backs off for it")
    @StackTrace(false)
    static final class Wound extends Event {
        @Label("Class")
        String wwClass;

        @Label("Wounded Stamp")
        long woundedStamp;

        @Label("Wounder Stamp")
        long wounderStamp;

        @Label("Mutex")
        @Description("The mutex on which the wounded transaction backs off")
        String mutex;

        @Label("Locks Dropped")
        int held;
    }

    /**
     * Begins the contended-lock event of a thread that is about to queue, and fills in what needs
     * allocating (names) if a recording has the event enabled, so that ending it after the mutex
     * has been acquired allocates nothing. Call it without the queue bit held.
     *
     * @return the begun event, for {@link #endContended}
     */
    static ContendedLock beginContended(QueuedMutex m, AcquireContext waiter) {
        ContendedLock e = new ContendedLock();
        if (e.isEnabled()) {
            fillNames(e, m.wwClass(), m.describe(), "exclusive", waiter);
            Object h = m.holder;
            AcquireContext hc = h instanceof AcquireContext c ? c : null;
            e.holderStamp = hc != null ? hc.stamp() : 0L;
            e.holderThread = hc != null ? hc.owner() : (Thread) h;
        }
        e.begin();
        return e;
    }

    /**
     * As {@link #beginContended(QueuedMutex, AcquireContext)}, for a request of {@code waiter} on a
     * shared mutex; the holder named is {@link WwSharedMutex#blockingHolder}'s.
     *
     * @param mode "exclusive", "shared" or "upgrade"
     */
    static ContendedLock beginContended(WwSharedMutex m, AcquireContext waiter, String mode) {
        ContendedLock e = new ContendedLock();
        if (e.isEnabled()) {
            fillNames(e, m.wwClass(), m.describe(), mode, waiter);
            AcquireContext hc = m.blockingHolder(waiter);
            e.holderStamp = hc != null ? hc.stamp() : 0L;
            e.holderThread = hc != null ? hc.owner() : null;
        }
        e.begin();
        return e;
    }

    /** Fills in the event's names and the waiter's side (allocates: call without the bit). */
    private static void fillNames(ContendedLock e, WwClass c, String mutex, String mode, AcquireContext waiter) {
        e.wwClass = c.name();
        e.algorithm = c.algorithm().name();
        e.mutex = mutex;
        e.mode = mode;
        if (waiter != null) {
            e.waiterStamp = waiter.stamp();
            e.waiterHeld = waiter.heldCount();
        }
    }

    /**
     * Ends and, if a recording wants it, commits a contended-lock event. Allocates nothing of its
     * own, so that it cannot fail between acquiring the mutex and reporting it. Call it without
     * the queue bit held.
     *
     * @param outcome "acquired", "timed out", "interrupted", "died" or "wounded"
     */
    static void endContended(ContendedLock e, String outcome) {
        e.end();
        if (e.shouldCommit()) {
            e.outcome = outcome;
            e.commit();
        }
    }

    /**
     * Commits a back-off event (and a wound event for a wound) for {@code ctx}, which still holds
     * its locks. Called on the context's thread, no queue bit held.
     */
    static void backoff(AcquireContext ctx, Object m, BackoffException.Reason reason, long olderStamp) {
        Backoff b = new Backoff();
        if (b.shouldCommit()) {
            b.wwClass = ctx.wwClass().name();
            b.mutex = AcquireContext.describe(m);
            b.stamp = ctx.stamp();
            b.olderStamp = olderStamp;
            b.reason = reason.name();
            b.held = ctx.heldCount();
            b.commit();
        }
        if (reason == BackoffException.Reason.WOUNDED) {
            Wound w = new Wound();
            if (w.shouldCommit()) {
                w.wwClass = ctx.wwClass().name();
                w.woundedStamp = ctx.stamp();
                w.wounderStamp = olderStamp;
                w.mutex = AcquireContext.describe(m);
                w.held = ctx.heldCount();
                w.commit();
            }
        }
    }

}
