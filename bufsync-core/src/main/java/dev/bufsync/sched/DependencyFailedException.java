package dev.bufsync.sched;

import dev.bufsync.fence.Fence;

/**
 * The error of the fences of a job that did not run because a fence it depended on signalled with
 * an error; the cause is that error. Jobs built with {@link Job.Builder#ignoreDependencyErrors()}
 * run anyway.
 */
public final class DependencyFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DependencyFailedException(SubmittedJob job, Fence dependency) {
        super("job " + job.name() + " did not run: its dependency " + dependency + " failed",
                dependency.error());
    }
}
