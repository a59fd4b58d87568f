package dev.bufsync.fence;

/**
 * The error of a fence whose producer went away without signalling it: its {@link Signaller}
 * became unreachable while the fence was pending, or the {@link SyncTimeline} that issued it was
 * closed first. Nothing waits forever on a forgotten fence: it signals with this error - even a
 * fence that nothing refers to but its own callbacks, which then run - and for an unreachable
 * signaller the handler set with {@link Fences#setAbandonedHandler} is told too.
 *
 * <pre>{@code
 * fence.await();
 * if (fence.error() instanceof FenceAbandonedException e) {
 *     // the producer is gone; e.getCause() is the error it had set, if any
 * }
 * }</pre>
 *
 * <p><b>Detection is by garbage collection.</b> An unreachable signaller is noticed only after the
 * garbage collector finds it unreachable, which may take a while, or never happen if memory is
 * plentiful; it is a safety net, not a substitute for signalling. A signaller stays reachable, and
 * its fence is never reported, while anything reachable refers to it, including a callback on its
 * own fence that captures it (the fence then keeps its producer alive).
 */
public final class FenceAbandonedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the error of an abandoned fence.
     *
     * @param message names the fence and how it was abandoned
     * @param cause the error the producer had set before abandoning the fence, or {@code null}
     */
    FenceAbandonedException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Creates the error of an abandoned fence whose cause is set later, once, with
     * {@link #initCause} (allocated before the fence's state flips, so that nothing allocates
     * between the flip and the publication of the outcome).
     *
     * @param message names the fence and how it was abandoned
     */
    FenceAbandonedException(String message) {
        super(message);
    }
}
