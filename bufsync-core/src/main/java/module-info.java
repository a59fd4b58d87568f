/**
 * bufsync: deadlock-free buffer synchronization. Wound/wait mutexes ({@link dev.bufsync.ww}).
 * Fences that only their producer can signal, with arrays, chains and merge ({@link dev.bufsync.fence}).
 * Reservation objects: a mutex plus the fences of one object ({@link dev.bufsync.resv}). The
 * lock-all transaction that retries by itself ({@link dev.bufsync.exec}). A job scheduler that
 * derives dependencies from the buffers a job reads and writes ({@link dev.bufsync.sched}).
 * MXBeans for classes and engines ({@link dev.bufsync.management}); the packages also emit JDK
 * Flight Recorder events, on by default in every recording.
 *
 * <p>The module exports only API packages; implementation classes are package-private.
 */
module dev.bufsync.core {
    requires java.management;
    requires jdk.jfr;

    exports dev.bufsync.ww;
    exports dev.bufsync.fence;
    exports dev.bufsync.resv;
    exports dev.bufsync.exec;
    exports dev.bufsync.sched;
    exports dev.bufsync.check;
    exports dev.bufsync.management;
}
