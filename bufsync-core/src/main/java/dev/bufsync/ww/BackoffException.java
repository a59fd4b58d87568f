package dev.bufsync.ww;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.Objects;

/**
 * Signals that a transaction must back off (the kernel's {@code -EDEADLK}): release every lock
 * its {@link AcquireContext} holds, then block on {@link #mutex()} with
 * {@link WwMutex#lockSlow(AcquireContext)} and retry. For a back-off on a {@link WwSharedMutex},
 * {@link #mutex()} is {@code null}; block on {@link #sharedMutex()} with
 * {@link WwSharedMutex#lockSharedSlow(AcquireContext)} or {@link WwSharedMutex#lockSlow(AcquireContext)},
 * in the mode that was asked for ({@link #shared()}).
 *
 * <p>A back-off is only ever raised while the context holds other locks, so the first lock of a
 * transaction never raises it, and {@code lockSlow} (called with nothing held) never does. The
 * context keeps its stamp across the retry, which is what eventually makes it the oldest
 * transaction of its class and guarantees progress.
 *
 * <p>The exception is checked on purpose: the caller must handle it, as the kernel's
 * {@code __must_check} demands. It carries no stack trace, and builds its message only when
 * asked, because it is control flow on a hot path, not an error.
 *
 * @see WwMutex#lock(AcquireContext)
 * @see dev.bufsync.exec (which runs the back-off loop for you)
 */
public final class BackoffException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a context had to back off. */
    public enum Reason {
        /**
         * Wound-wait: an older transaction waiting for a mutex this context holds wounded it; the
         * context noticed at its next contended lock.
         */
        WOUNDED,
        /**
         * Wait-die: this context holds locks and would have waited behind an older transaction,
         * so it dies instead.
         */
        DIED,
        /** Back-off injection (the kernel's DEBUG_WW_MUTEX_SLOWPATH) reported a successful lock as contended. */
        INJECTED,
        /**
         * Polite waiting ({@link WwClass.Builder#politeBackoffs(int)}): this context holds locks and
         * would have waited for the mutex, so it lets its locks go first and waits holding nothing
         * (in {@code lockSlow}), whatever the ages; its class bounds how often per transaction.
         */
        POLITE
    }

    /** The contended WwMutex or WwSharedMutex. */
    private final transient Object mutex;
    /** Why the context must back off. */
    private final Reason reason;
    /** The stamp of the context that must back off. */
    private final long stamp;
    /** The stamp of the older context yielded to (the own stamp for an injected back-off). */
    private final long olderStamp;
    /**
     * The message, built on first getMessage() by whichever thread asks; racy but idempotent (every
     * build yields an equal immutable String).
     */
    private String message;

    /** Whether the back-off was on a shared request. */
    private final boolean shared;

    BackoffException(Object mutex, AcquireContext context, Reason reason, long olderStamp,
                     boolean shared) {
        super(null, null, false, false);
        this.mutex = Objects.requireNonNull(mutex);
        this.shared = shared;
        this.reason = reason;
        this.stamp = context.stamp();
        this.olderStamp = olderStamp;
    }

    /**
     * Says which context must back off on which mutex, why, and what to do.
     *
     * @return the message
     */
    @Override
    public String getMessage() {
        String m = message;
        if (m == null) {
            m = buildMessage();
            message = m;
        }
        return m;
    }

    private String buildMessage() {
        String why = switch (reason) {
            case WOUNDED -> "it was wounded by older context #" + olderStamp;
            case DIED -> "older context #" + olderStamp + " holds or waits for it";
            case INJECTED -> "back-off injection is on";
            case POLITE -> "it holds locks and would have waited (polite waiting)";
        };
        WwClass cls = mutex instanceof WwMutex m ? m.wwClass() : ((WwSharedMutex) mutex).wwClass();
        return "context #" + stamp + " of class " + cls.name()
                + " must back off on " + AcquireContext.describe(mutex) + ": " + why
                + "; unlock everything, then " + (shared ? "lockSharedSlow" : "lockSlow") + " this mutex";
    }

    /**
     * Keeps the message across serialization, where the (transient) mutex is lost.
     *
     * @param out the stream written to
     * @throws IOException if writing fails
     */
    private void writeObject(ObjectOutputStream out) throws IOException {
        getMessage();
        out.defaultWriteObject();
    }

    /**
     * The contended mutex: after releasing everything, lock this one first with
     * {@link WwMutex#lockSlow(AcquireContext)}.
     *
     * @return the mutex the context backed off on
     */
    public WwMutex mutex() {
        return mutex instanceof WwMutex m ? m : null;
    }

    /**
     * The contended readers-writer lock, or {@code null} if the back-off was on a {@link WwMutex}:
     * after releasing everything, lock this one first with
     * {@link WwSharedMutex#lockSharedSlow(AcquireContext)} if {@link #shared()}, else
     * {@link WwSharedMutex#lockSlow(AcquireContext)}.
     *
     * @return the lock the context backed off on, or {@code null}
     */
    public WwSharedMutex sharedMutex() {
        return mutex instanceof WwSharedMutex m ? m : null;
    }

    /**
     * Tells whether the request that backed off asked for shared access (a
     * {@link WwSharedMutex#lockShared(AcquireContext)}); {@code false} for an exclusive request,
     * an upgrade included, and for every back-off on a {@link WwMutex}.
     *
     * @return {@code true} for a shared request
     */
    public boolean shared() {
        return shared;
    }

    /**
     * Why the context had to back off.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }

    /**
     * The stamp of the context that backed off.
     *
     * @return the backing-off context's stamp
     */
    public long stamp() {
        return stamp;
    }

    /**
     * The stamp of a strictly older live context that this one yielded to: the wounder for
     * {@link Reason#WOUNDED}, the older holder or waiter for {@link Reason#DIED}. For
     * {@link Reason#INJECTED} and {@link Reason#POLITE}, which yield to nobody in particular, it is
     * the backing-off context's own stamp.
     *
     * @return the stamp of the older context
     */
    public long olderStamp() {
        return olderStamp;
    }
}
