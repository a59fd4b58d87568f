package dev.bufsync.fence;

/**
 * An action to run once when a fence signals, registered with
 * {@link Fence#addCallback(FenceCallback)}.
 *
 * <p>A callback runs synchronously on the thread that signals the fence (or on the executor given
 * to {@link Fence#addCallback(FenceCallback, java.util.concurrent.Executor)}), after the callbacks
 * added before it, exactly once; for an abandoned fence, on a virtual thread of its own; given to
 * {@link Fence#whenSignaled(FenceCallback)} on a signalled fence, at once on the caller's thread.
 * It must be short and must not block: the producer's {@code signal()} does not return until
 * every inline callback has run. It may add callbacks to other fences, signal other fences and
 * wait for nothing. Whatever it throws, {@code Error}s included, is reported to
 * {@link Fences#setCallbackExceptionHandler the callback exception handler} and stops nothing.
 *
 * <p><b>Caveat.</b> A callback that captures the fence's own {@link Signaller} keeps the producer
 * handle reachable for as long as the fence is, which disables the forgotten-fence check for that
 * fence (see {@link FenceAbandonedException}).
 */
@FunctionalInterface
public interface FenceCallback {
    /**
     * Runs once the fence has signalled.
     *
     * @param fence the fence that signalled; its {@link Fence#status()}, {@link Fence#error()} and
     *     {@link Fence#timestamp()} are final
     */
    void onSignal(Fence fence);
}
