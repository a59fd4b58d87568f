package dev.bufsync.cli.demo;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The naive mode's plain per-buffer lock: a {@code ReentrantLock} that knows its buffer and tells
 * its owner, so that a deadlock can be reported as "thread → holds buffer → waits for buffer".
 */
final class BufferLock extends ReentrantLock {
    private static final long serialVersionUID = 1L;

    final String buffer;

    BufferLock(String buffer) {
        this.buffer = buffer;
    }

    /** The thread holding the lock, or null. */
    Thread holder() {
        return getOwner();
    }
}
