package dev.bufsync.exec;

import dev.bufsync.resv.HasReservation;
import dev.bufsync.ww.WwSharedMutex;

/**
 * Thrown when an {@link Exec} is asked to lock an object it already holds and duplicates are not
 * ignored (the kernel's {@code -EALREADY} from {@code drm_exec_lock_obj}). Nothing changed; the
 * object stays locked once.
 */
public final class ExecDuplicateException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient HasReservation object;

    ExecDuplicateException(HasReservation object) {
        super(object.reservation().name() + " is already locked by this Exec; use"
                + " Exec.Option.IGNORE_DUPLICATES if the caller may list an object twice");
        this.object = object;
    }

    ExecDuplicateException(WwSharedMutex lock) {
        super(lock + " is already locked by this Exec; use"
                + " Exec.Option.IGNORE_DUPLICATES if the caller may list an object twice");
        this.object = null;
    }

    /**
     * The object that was locked twice.
     *
     * @return the object, or {@code null} if it was a {@link WwSharedMutex}
     */
    public HasReservation object() {
        return object;
    }
}
