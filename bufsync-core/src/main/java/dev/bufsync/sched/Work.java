package dev.bufsync.sched;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.Fences;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * What a job does on its device: starts the work and returns the fence that signals when the
 * device has finished it (the kernel's {@code run_job} returning the hardware fence). The
 * factories cover the three shapes of work: synchronous, fence-returning and
 * {@code CompletionStage}-returning.
 *
 * <p>The engine calls {@link #start} on its executor, once, after every dependency has signalled.
 * An exception thrown by {@code start}, or an error of the returned fence, becomes the error of the
 * job's finished fence.
 */
@FunctionalInterface
public interface Work {
    /**
     * Starts the work of {@code job}.
     *
     * @param job the job being run
     * @return the fence that signals when the work is done (a signalled fence if it is done already)
     * @throws Exception if the work failed; the job's finished fence carries it
     */
    Fence start(SubmittedJob job) throws Exception;

    /**
     * Synchronous work: runs {@code body} and is done when it returns.
     *
     * @param body the work
     * @return the work
     */
    static Work sync(Runnable body) {
        Objects.requireNonNull(body, "body");
        return job -> {
            body.run();
            return Fences.stub();
        };
    }

    /**
     * Asynchronous work that hands back a fence, such as a device's completion fence.
     *
     * @param start starts the work and returns its fence
     * @return the work
     */
    static Work async(Supplier<? extends Fence> start) {
        Objects.requireNonNull(start, "start");
        return job -> start.get();
    }

    /**
     * Asynchronous work that hands back a {@link CompletionStage}; its exception becomes the job's
     * error.
     *
     * @param start starts the work and returns its stage
     * @return the work
     */
    static Work stage(Supplier<? extends CompletionStage<?>> start) {
        Objects.requireNonNull(start, "start");
        return job -> Fence.from(start.get());
    }
}
