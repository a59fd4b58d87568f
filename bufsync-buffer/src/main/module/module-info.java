/**
 * bufsync buffers: memory shared between devices and threads, with a reservation, attachments
 * with access rights, CPU access that waits on the right fences, the explicit/implicit fence
 * bridge, idle notification, and the dmabuf-sync facade ({@link dev.bufsync.buffer}). Built on
 * {@code dev.bufsync.core}, which it re-exports.
 *
 * <p>The module exports only the API package; implementation classes are package-private.
 */
module dev.bufsync.buffer {
    requires transitive dev.bufsync.core;

    exports dev.bufsync.buffer;
}
