package dev.bufsync.zookeeper;

import dev.bufsync.ww.BackoffException;

/**
 * Signals that a transaction must back off (the kernel's {@code -EDEADLK}): release every lock
 * with {@link ZkTransaction#unlockAll()}, wait for {@link #object()} with
 * {@link ZkTransaction#lockSlow(String)}, and retry. {@link ZkTransaction#lockAll} runs this loop
 * for you.
 *
 * <p>A back-off is only raised while the transaction holds other locks, and always names an
 * older transaction that was live when the conflict was seen ({@link #olderStamp()}); the
 * transaction keeps its own stamp across the retry, so it eventually becomes the oldest.
 */
public final class ZkBackoffException extends Exception {
    private static final long serialVersionUID = 1L;

    /** The contended object the transaction must wait for after backing off. */
    private final String object;
    /** Why the transaction must back off. */
    private final BackoffException.Reason reason;
    /** The stamp of the transaction that must back off. */
    private final long stamp;
    /** The stamp of the older, live transaction yielded to. */
    private final long olderStamp;

    ZkBackoffException(String object, BackoffException.Reason reason, long stamp, long olderStamp) {
        super(null, null, false, false);
        this.object = object;
        this.reason = reason;
        this.stamp = stamp;
        this.olderStamp = olderStamp;
    }

    /**
     * The contended object, to pass to {@link ZkTransaction#lockSlow(String)}.
     *
     * @return the name of the object whose conflict made the transaction back off
     */
    public String object() {
        return object;
    }

    /**
     * Why: {@code WOUNDED} (wound-wait) or {@code DIED} (wait-die).
     *
     * @return {@code WOUNDED} if an older transaction wounded this one, {@code DIED} if this one
     *     met an older holder or waiter while holding locks
     */
    public BackoffException.Reason reason() {
        return reason;
    }

    /**
     * The stamp of the transaction that backs off (its ticket's {@code czxid}).
     *
     * @return the backing-off transaction's stamp, which it keeps across the retry
     */
    public long stamp() {
        return stamp;
    }

    /**
     * The stamp of the older, live transaction this one yields to; always below {@link #stamp()}.
     *
     * @return the stamp of the transaction that won the conflict
     */
    public long olderStamp() {
        return olderStamp;
    }

    @Override
    public String getMessage() {
        return "transaction with stamp " + stamp + " must back off on object '" + object + "' ("
                + reason + ") in favour of the older stamp " + olderStamp
                + ": unlockAll(), then lockSlow(\"" + object + "\") and retry";
    }
}
