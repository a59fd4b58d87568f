package dev.bufsync.zookeeper;

/**
 * The ZooKeeper session of this client expired (or the client was closed) while a transaction or
 * fence context begun under it was live. ZooKeeper has already released what the session held:
 * its locks are free for others, and its pending fences are signalled with an error by the first
 * client that notices the producer gone. The transaction or context cannot continue; begin a new
 * one, which runs under the client's new session.
 *
 * <p>This is distinct from a back-off ({@link ZkBackoffException}), which a transaction survives,
 * and from {@link ZkLockLostException}, which reports that a write was refused.
 */
public final class ZkSessionLostException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ZkSessionLostException(String message) {
        super(message);
    }

    ZkSessionLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
