package dev.bufsync.sched;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.Signaller;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A job that has been submitted to an {@link Entity}: it has a sequence number in its entity and
 * two fences, {@link #scheduled()} (signals when the job starts on its engine) and
 * {@link #finished()} (signals when its work is done, with an error if it failed, timed out, was
 * cancelled or a dependency failed). Both always signal, exactly once (the kernel's
 * {@code drm_sched_fence}).
 *
 * <p>Finished fences of one entity signal in sequence order, even when the work of a later job
 * finishes first: a buffer may then trust the later fence to stand for the earlier ones.
 */
public final class SubmittedJob {
    /*
     * Overview.
     *
     * Life cycle (state, CAS by whoever moves it): QUEUED -> RUNNING -> DONE, or QUEUED -> DONE
     * (cancelled, or a dependency failed). DONE is claimed once, by the first of: the work's
     * completion, the timeout, a cancellation; the others find it claimed and do nothing. That
     * makes the finished fence signal exactly once and the credits come back exactly once.
     *
     * Dependencies: `pending` counts the dependency fences not signalled yet; each fence's
     * callback decrements it and asks the engine to dispatch. `failed` is the first dependency
     * that signalled with an error (CAS from null).
     *
     * Retirement: the claimer of DONE records the outcome (`outcome`, then `recorded`, a release
     * write) and asks the entity to drain; the entity's single drainer signals finished fences
     * from the head of its books while the head has its outcome recorded (Entity.drain). So an
     * entity's finished fences signal in order without any fence waiting on another.
     *
     * `work` holds the fence the work returned while the job runs: the engine's books reach the
     * job, so the fence stays reachable and a dropped Signaller is reaped (the fence signals
     * abandoned) instead of stalling the job until its timeout.
     *
     * Fields written before the job is published to the queue (under the entity lock) are plain
     * and final or effectively final; the engine lock orders the rest.
     */

    static final int QUEUED = 0, RUNNING = 1, DONE = 2;

    private final Job job;
    private final Entity entity;
    private final Signaller scheduled;
    private final Signaller finished;
    volatile long order;                         // engine-wide queue order, 0 until queued; set under the engine lock
    final List<Fence> dependencies = new ArrayList<>();   // written before publication, then read-only
    final AtomicInteger pending = new AtomicInteger(1);   // dependencies not signalled + 1 until armed
    @SuppressWarnings("unused")
    private volatile int state;                  // STATE: CAS by the engine, the timer, cancellation
    private volatile Fence failed;               // the first failed dependency; CAS from null
    volatile long startNanos;                    // written by the starting thread, after the scheduled signal
    ScheduledFuture<?> timer;                    // guarded by the engine lock
    volatile Fence work;                         // the work's fence, kept reachable; written by the runner
    SubmittedJob runningPrev;                    // the engine's running list: guarded by the engine lock
    SubmittedJob runningNext;                    // likewise
    boolean inRunning;                           // likewise: in the running list (holds its credits)
    SubmittedJob nextTaken;                      // a dispatch pass's list: written by the dispatching thread only
    private Throwable outcome;                   // the finished fence's error; written by the DONE claimer
    private volatile boolean recorded;           // outcome written (release); read by the drainer

    SubmittedJob(Job job, Entity entity, Signaller scheduled, Signaller finished) {
        this.job = job;
        this.entity = entity;
        this.scheduled = scheduled;
        this.finished = finished;
    }

    /**
     * The job's name.
     *
     * @return the name of the {@link Job}
     */
    public String name() {
        return job.name();
    }

    /**
     * The job description that was submitted.
     *
     * @return the job
     */
    public Job job() {
        return job;
    }

    /**
     * The entity it was submitted to.
     *
     * @return the entity
     */
    public Entity entity() {
        return entity;
    }

    /**
     * The sequence number of the job in its entity (the seqno of both of its fences).
     *
     * @return the sequence number
     */
    public long seqno() {
        return finished.fence().seqno();
    }

    /**
     * The fence that signals when the job starts running, or with the job's error if it never
     * starts.
     *
     * @return the scheduled fence
     */
    public Fence scheduled() {
        return scheduled.fence();
    }

    /**
     * The fence that signals when the job's work is done; with an error if the work failed, timed
     * out ({@link JobTimeoutException}), was cancelled ({@link JobCancelledException}) or did not
     * run because a dependency failed ({@link DependencyFailedException}).
     *
     * @return the finished fence
     */
    public Fence finished() {
        return finished.fence();
    }

    /**
     * The fences the job waited for when it was submitted (after merging per context).
     *
     * @return an immutable list
     */
    public List<Fence> dependencies() {
        return List.copyOf(dependencies);
    }

    /**
     * When the job started, in {@link System#nanoTime()} units, or 0 if it has not: the
     * timestamp of its {@linkplain #scheduled() scheduled} fence, recorded just after that fence
     * signals (its callbacks, which run inside the signal, ask the fence's
     * {@link Fence#timestamp()}).
     *
     * @return the start time
     */
    public long startNanos() {
        return startNanos;
    }

    @Override
    public String toString() {
        return "job " + job.name() + " (" + entity.name() + " #" + seqno() + ", " + stateName() + ")";
    }

    // ------------------------------------------------------------ engine side

    String stateName() {
        return switch (state) {
            case QUEUED -> failed != null ? "queued, dependency failed" : pending.get() > 0 ? "waiting" : "ready";
            case RUNNING -> "running";
            default -> "done";
        };
    }

    /** Ready to leave the queue: every dependency signalled, or one failed. */
    boolean ready() {
        return pending.get() == 0 || (failed != null && !job.ignoresDependencyErrors());
    }

    /** The dependency that failed, if the job must not run because of it. */
    Fence blockingFailure() {
        return job.ignoresDependencyErrors() ? null : failed;
    }

    /** Called by a dependency's callback; returns whether the job may have become ready. */
    boolean dependencySignalled(Fence dependency) {
        if (dependency.error() != null) {
            FAILED.compareAndSet(this, null, dependency);
        }
        return pending.decrementAndGet() == 0 || blockingFailure() != null;
    }

    boolean start() {
        return STATE.compareAndSet(this, QUEUED, RUNNING);
    }

    /** Claims the one transition to DONE. */
    boolean claimDone() {
        for (;;) {
            int s = state;
            if (s == DONE) {
                return false;
            }
            if (STATE.compareAndSet(this, s, DONE)) {
                return true;
            }
        }
    }

    boolean isDone() {
        return state == DONE;
    }

    Signaller scheduledSignaller() {
        return scheduled;
    }

    /** Records how the job finished; by the claimer of DONE, once. The entity drains it. */
    void record(Throwable error) {
        outcome = error;
        work = null;
        recorded = true;                         // publishes outcome [pairs with isRecorded]
    }

    boolean isRecorded() {
        return recorded;
    }

    /** The recorded outcome: null for success, else the error the finished fence signals with. */
    Throwable outcome() {
        return outcome;
    }

    /** Signals the finished fence with the recorded outcome; by the entity's drainer. */
    void signalFinished() {
        Throwable error = outcome;
        if (error != null) {
            finished.trySignal(error);
        } else {
            finished.trySignal();
        }
    }

    // VarHandle mechanics
    private static final VarHandle STATE;
    private static final VarHandle FAILED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(SubmittedJob.class, "state", int.class);
            FAILED = l.findVarHandle(SubmittedJob.class, "failed", Fence.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
