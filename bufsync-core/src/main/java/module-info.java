/**
 * bufsync: deadlock-free buffer synchronization. Wound/wait mutexes ({@link dev.bufsync.ww}).
 *
 * <p>The module exports only API packages; implementation classes are package-private.
 */
module dev.bufsync.core {
    exports dev.bufsync.ww;
}
