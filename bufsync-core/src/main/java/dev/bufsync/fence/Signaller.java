package dev.bufsync.fence;

import java.lang.ref.Reference;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The producer's handle of one fence: the only object that can signal it or set its error. A
 * fence signals once; a second signal, or an error set after the signal, is reported, never
 * silently accepted: {@link #signal()} and {@link #setError(Throwable)} throw, the {@code trySignal}
 * forms return {@code false}.
 *
 * <pre>{@code
 * Signaller s = context.next();
 * publish(s.fence());
 * try {
 *     doWork();
 *     s.signal();
 * } catch (Exception e) {
 *     s.signal(e);                 // consumers see e as the fence's error
 * }
 * }</pre>
 *
 * <p><b>Callbacks run inside {@code signal}.</b> Signalling runs every callback registered on the
 * fence, synchronously, before it returns (exceptions they throw go to the callback exception
 * handler, never to the signaller), and wakes every waiter.
 *
 * <p><b>Do not forget the fence.</b> If a signaller becomes unreachable while its fence is
 * pending, the fence is signalled with a {@link FenceAbandonedException}, whether or not anything
 * still refers to the fence: a fence kept only by its own callbacks is abandoned too, so the
 * callbacks run. The reaper thread flips the fence's state; its callbacks and the abandoned-fence
 * handler then run on a virtual thread of their own, so one blocking callback delays no other
 * abandonment. The fence does not keep its signaller reachable; a callback on the fence that
 * captures the signaller does (see {@link FenceCallback}).
 *
 * <p>A signaller may be used from any thread; if two threads race to signal, exactly one wins.
 */
public final class Signaller {
    private final ContextFence fence;
    private final Reaper.Ref watcher;   // final: safe however the handle is published

    Signaller(ContextFence fence) {
        this.fence = fence;
        this.watcher = Reaper.watch(this, fence);   // a phantom referent: never read back
    }

    /**
     * The fence this handle signals, to hand to consumers.
     *
     * @return the fence
     */
    public Fence fence() {
        return fence;
    }

    /**
     * Signals the fence: without error, or with the error set earlier by {@link #setError}.
     *
     * @throws IllegalStateException if the fence has already signalled (nothing changes)
     */
    public void signal() {
        if (!signalWith(null)) {
            throw alreadySignaled("signal");
        }
    }

    /**
     * Signals the fence with an error (which overrides one set by {@link #setError}).
     *
     * @param error the error consumers will see
     * @throws IllegalStateException if the fence has already signalled (nothing changes)
     */
    public void signal(Throwable error) {
        Objects.requireNonNull(error, "error");
        if (!signalWith(error)) {
            throw alreadySignaled("signal");
        }
    }

    /**
     * Signals the fence like {@link #signal()}, unless it has already signalled.
     *
     * @return {@code true} if this call signalled it, {@code false} if it had already signalled
     */
    public boolean trySignal() {
        return signalWith(null);
    }

    /**
     * Signals the fence with an error like {@link #signal(Throwable)}, unless it has already
     * signalled.
     *
     * @param error the error consumers will see
     * @return {@code true} if this call signalled it, {@code false} if it had already signalled
     */
    public boolean trySignal(Throwable error) {
        Objects.requireNonNull(error, "error");
        return signalWith(error);
    }

    /**
     * Sets the error the fence will signal with (the kernel's {@code dma_fence_set_error}). It
     * stays invisible to consumers until the fence signals; the last error set wins, unless
     * {@link #signal(Throwable)} passes another.
     *
     * @param error the error
     * @throws IllegalStateException if the fence has already signalled (the error is dropped)
     */
    public void setError(Throwable error) {
        Objects.requireNonNull(error, "error");
        try {
            if (!fence.push(new Fence.ErrorNode(error))) {
                throw alreadySignaled("setError");
            }
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * The soonest deadline consumers have asked for with {@link Fence#setDeadline(long)}, a
     * {@link System#nanoTime()} value. A hint the producer may use to hurry.
     *
     * @return the deadline, or empty if none was set
     */
    public OptionalLong deadline() {
        long d = fence.deadlineNanos();
        return d == Fence.NO_DEADLINE ? OptionalLong.empty() : OptionalLong.of(d);
    }

    private boolean signalWith(Throwable error) {
        try {
            if (!fence.complete(error)) {
                return false;
            }
            Reaper.forget(watcher);     // the reference dies with this handle, never enqueued
            return true;
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /** The reaper's watch on this handle (for tests). */
    Reaper.Ref watcher() {
        return watcher;
    }

    private IllegalStateException alreadySignaled(String operation) {
        return new IllegalStateException(operation + " on an already signaled fence: " + fence);
    }

    /**
     * Describes the handle and its fence.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        return "Signaller[" + fence + "]";
    }
}
