package dev.bufsync.zookeeper;

/**
 * A write under a lock was refused because the transaction no longer holds the lock: its session
 * expired while it was paused and another transaction has locked the object since. ZooKeeper
 * refused the write atomically (the object's generation no longer matched), so no data was
 * changed. The transaction must be abandoned.
 */
public final class ZkLockLostException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ZkLockLostException(String message) {
        super(message);
    }
}
