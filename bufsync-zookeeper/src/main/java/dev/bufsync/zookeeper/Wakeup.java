package dev.bufsync.zookeeper;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;

/**
 * The wake-up of one waiting thread: a watcher that every watch of the wait is set with, and the
 * permits its events leave. The waiter drains, reads with watches, decides, then parks here, so an
 * event between the read and the park is never lost.
 */
final class Wakeup implements Watcher {
    private final Semaphore permits = new Semaphore(0);   // released by ZooKeeper's event thread
                                                          // and by the cluster on session loss

    @Override
    public void process(WatchedEvent event) {
        permits.release();
    }

    /** Wakes the waiter (session loss, close). */
    void wake() {
        permits.release();
    }

    /** Forgets the events seen so far; call before the reads that decide whether to wait. */
    void drain() {
        permits.drainPermits();
    }

    /**
     * Parks until an event, the deadline or an interrupt.
     *
     * @return false if the deadline passed with no event
     */
    boolean park(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        return left > 0 && permits.tryAcquire(left, TimeUnit.NANOSECONDS);
    }
}
