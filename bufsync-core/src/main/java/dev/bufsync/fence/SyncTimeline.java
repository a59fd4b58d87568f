package dev.bufsync.fence;

import dev.bufsync.check.SignallingSection;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A software timeline for tests (the kernel's {@code sw_sync}): a counter, and fences for points
 * on it that signal, in order, when the counter reaches them. Closing the timeline signals every
 * point still pending with a {@link FenceAbandonedException}.
 *
 * <pre>{@code
 * try (SyncTimeline timeline = SyncTimeline.create("test")) {
 *     Fence three = timeline.fenceAt(3);
 *     timeline.advance(2);       // counter 2: three still pending
 *     timeline.advance(1);       // counter 3: three signals
 * }
 * }</pre>
 *
 * <p>All points are fences of one context, with the point as sequence number. Like the kernel's
 * warning, beware: a consumer that waits for a point nobody advances to waits until the timeline
 * is closed (or becomes unreachable: its points are then abandoned like any forgotten fence).
 *
 * <p><b>Implementation notes.</b> A test device, not a hot path: points live in a sorted map
 * guarded by a lock, and {@link #advance} signals them while holding it, so that points are
 * signalled in order even when several threads advance at once. Callbacks of points therefore run
 * under the timeline's lock; they may use this timeline from the same thread, but must not wait
 * for another thread that uses it.
 */
public final class SyncTimeline implements AutoCloseable {
    private final FenceContext context;
    private final ReentrantLock lock = new ReentrantLock();
    private final TreeMap<Long, Signaller> pending = new TreeMap<>();   // guarded by lock
    private volatile long value;       // written under lock, read racily by value()
    private boolean closed;            // guarded by lock

    private SyncTimeline(String name) {
        this.context = FenceContext.create(name);
    }

    /**
     * Creates a timeline on a fresh context, with its counter at 0.
     *
     * @param name a name for diagnostics
     * @return the timeline
     */
    public static SyncTimeline create(String name) {
        return new SyncTimeline(name);
    }

    /**
     * The fence for point {@code point} (the kernel's {@code SW_SYNC_IOC_CREATE_FENCE}): the same
     * fence for the same pending point; a fence signalled at once if the counter has already
     * reached it.
     *
     * @param point the point, not negative; its sequence number
     * @return the fence of that point
     * @throws IllegalArgumentException if {@code point} is negative
     * @throws IllegalStateException if the timeline is closed
     */
    public Fence fenceAt(long point) {
        if (point < 0L) {
            throw new IllegalArgumentException("negative point " + point);
        }
        lock.lock();
        try {
            checkOpen();
            Signaller s = pending.get(point);
            if (s == null) {
                s = context.signallerAt(point);
                if (point <= value) {
                    s.signal();
                } else {
                    pending.put(point, s);
                }
            }
            return s.fence();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Advances the counter by {@code delta} (the kernel's {@code SW_SYNC_IOC_INC}) and signals
     * every pending point up to the new value, in increasing order, before returning.
     *
     * @param delta how far to advance, not negative; the counter saturates at
     *     {@link Long#MAX_VALUE}
     * @throws IllegalArgumentException if {@code delta} is negative
     * @throws IllegalStateException if the timeline is closed
     */
    public void advance(long delta) {
        if (delta < 0L) {
            throw new IllegalArgumentException("negative delta " + delta);
        }
        SignallingSection section = SignallingSection.begin(context);   // the points' signals
        lock.lock();
        try {
            checkOpen();
            long v = value + delta;
            value = v < 0L ? Long.MAX_VALUE : v;
            for (Map.Entry<Long, Signaller> e; (e = pending.firstEntry()) != null && e.getKey() <= value; ) {
                pending.pollFirstEntry();
                e.getValue().signal();
            }
        } finally {
            lock.unlock();
            section.close();
        }
    }

    /**
     * The counter: every point up to it has signalled.
     *
     * @return the current value
     */
    public long value() {
        return value;
    }

    /**
     * The context of this timeline's fences.
     *
     * @return the context id
     */
    public long context() {
        return context.id();
    }

    /**
     * Closes the timeline: every pending point signals, in order, with a
     * {@link FenceAbandonedException} (the kernel signals {@code -ENOENT}). Closing again does
     * nothing.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Map.Entry<Long, Signaller> e; (e = pending.pollFirstEntry()) != null; ) {
                e.getValue().signal(new FenceAbandonedException("sync timeline " + context.name()
                        + " closed at " + value + " before point " + e.getKey(), null));
            }
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("sync timeline " + context.name() + " is closed");
        }
    }

    /**
     * Describes the timeline: name, context, counter and number of pending points.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        lock.lock();
        try {
            return "SyncTimeline[" + context.name() + "#" + context.id() + " at " + value + ", "
                    + pending.size() + " pending" + (closed ? ", closed" : "") + "]";
        } finally {
            lock.unlock();
        }
    }
}
