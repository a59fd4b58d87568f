/**
 * bufsync: deadlock-free buffer synchronization. Wound/wait mutexes ({@link dev.bufsync.ww}).
 * Fences that only their producer can signal, with arrays, chains and merge ({@link dev.bufsync.fence}).
 *
 * <p>The module exports only API packages; implementation classes are package-private.
 */
module dev.bufsync.core {
    exports dev.bufsync.ww;
    exports dev.bufsync.fence;
}
