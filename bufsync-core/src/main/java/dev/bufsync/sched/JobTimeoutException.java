package dev.bufsync.sched;

import java.time.Duration;

/**
 * The error of the finished fence of a job whose work did not finish within its timeout (the
 * kernel's TDR). The engine frees the job's credits and carries on; whatever the work does later
 * is ignored.
 */
public final class JobTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    JobTimeoutException(SubmittedJob job, Duration timeout) {
        super("job " + job.name() + " on " + job.entity().engine().name() + " did not finish within "
                + timeout.toMillis() + " ms");
    }
}
