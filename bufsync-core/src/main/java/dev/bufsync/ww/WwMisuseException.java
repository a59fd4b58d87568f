package dev.bufsync.ww;

/**
 * Thrown when a wound/wait mutex or an acquire context is used against the rules. The checks are
 * always on (not only in a debug build) and cheap; each names the mutex, the context and the
 * {@link Rule} broken.
 *
 * <p>A misuse exception is thrown before the call changes anything, with one exception: closing a
 * context that still holds locks first unlocks them all, so that nothing stays locked.
 */
public final class WwMisuseException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The rules, one constant per case of the kernel's locking selftests (and a few more). */
    public enum Rule {
        /** A lock with a context after {@link AcquireContext#acquireDone()}. */
        LOCK_AFTER_DONE,
        /** A context used with a mutex of another {@link WwClass}. */
        WRONG_CLASS,
        /** A second live context of one class begun on one thread. */
        TWO_CONTEXTS,
        /**
         * A context used (or closed) from a thread other than the one that began it; for a
         * transferable context, used from a thread it is not attached to while it is detached.
         */
        FOREIGN_THREAD,
        /**
         * A transferable context used by a thread while another thread has it attached, or while
         * an asynchronous lock of it is pending: one thread at a time.
         */
        CONCURRENT_USE,
        /** {@code lockSlow} without a preceding back-off. */
        SLOW_WITHOUT_BACKOFF,
        /** After a back-off, a lock of a different mutex than the contended one. */
        WRONG_MUTEX_AFTER_BACKOFF,
        /** After a back-off, a lock while the context still holds other locks. */
        LOCKS_HELD_AFTER_BACKOFF,
        /** Unlock of a mutex that nobody holds. */
        UNLOCK_NOT_HELD,
        /** Unlock of a mutex that another thread or context holds. */
        UNLOCK_FOREIGN,
        /** {@link AcquireContext#acquireDone()} called twice. */
        DONE_TWICE,
        /** {@link AcquireContext#close()} while the context still held locks (they were unlocked). */
        CLOSE_WITH_LOCKS_HELD,
        /** Any use of a closed context, including a second close. */
        CONTEXT_CLOSED,
        /**
         * A blocking lock that mixes context and no-context locking of one class on one thread, which
         * can deadlock undetected: a no-context {@code lock()} while the thread holds locks of the
         * class through a context or without one, or a blocking lock with a context while the thread
         * holds a lock of the class taken without one.
         */
        MIXED_LOCKING,
        /** A no-context {@code lock()} of a mutex the thread already holds (it would self-deadlock). */
        RECURSIVE_LOCK
    }

    /** The rule that was broken. */
    private final Rule rule;

    WwMisuseException(Rule rule, String message) {
        super("ww misuse [" + rule + "]: " + message);
        this.rule = rule;
    }

    /**
     * The rule that was broken.
     *
     * @return the rule
     */
    public Rule rule() {
        return rule;
    }
}
