package dev.bufsync.sched;

import java.util.concurrent.CancellationException;

/**
 * The error of the fences of a job that was cancelled because its entity or engine was closed
 * before it finished (the kernel's {@code -ECANCELED}).
 */
public final class JobCancelledException extends CancellationException {
    private static final long serialVersionUID = 1L;

    JobCancelledException(SubmittedJob job, String why) {
        super("job " + job.name() + " cancelled: " + why);
    }
}
