package dev.bufsync.resv;

/**
 * An object whose access is synchronized by a {@link Reservation}: a buffer, a page table, any
 * object that operations lock together and attach fences to. {@link dev.bufsync.exec.Exec} locks
 * anything that has one.
 */
@FunctionalInterface
public interface HasReservation {
    /**
     * The reservation of this object; the same one every time.
     *
     * @return the reservation
     */
    Reservation reservation();
}
