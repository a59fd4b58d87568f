package dev.bufsync.sched;

import dev.bufsync.exec.Exec;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Usage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A submission queue of an {@link Engine} (the kernel's {@code drm_sched_entity}): its jobs start
 * in the order they were submitted, at the entity's {@link Priority}, each once its dependencies
 * have signalled. An entity owns two fence contexts, one for its jobs' scheduled fences and one for
 * their finished fences.
 *
 * <p>{@link #submit(Job)} is the whole command submission: lock every buffer of the job with an
 * {@link Exec}, run the job's {@linkplain Job.Builder#whileLocked validation}, derive the
 * dependencies from the buffers' reservations (a writer waits for every
 * reader and writer, a reader for writers only), arm the job (the point of no return: it gets its
 * sequence number and fences), publish its finished fence on every buffer, unlock, and queue it.
 * The job runs when its dependencies signal, by callback; nothing polls.
 *
 * <p><b>Dependencies.</b> One per fence context, the later kept (the kernel's
 * {@code drm_sched_job_add_dependency}). On an in-order engine, a dependency on an earlier job of
 * the same entity is dropped (the queue runs it first) and one on a job of another entity of the
 * same engine waits only for that job to start (pipelining), unless the job says
 * {@link Job.Builder#noPipelining()}. Every dependency exists before the job is armed and the job's
 * own fences only after, so submissions cannot form a cycle. The one way left to wait on one's own
 * future, work that hands back a fence of its own job or of a later job of its entity (directly or
 * inside a container), is refused: the job fails with an {@link IllegalStateException} saying so.
 *
 * <p>Entities are made with {@link Engine#newEntity}; {@link #close()} cancels the jobs that have
 * not started.
 */
public final class Entity implements AutoCloseable {
    /*
     * Overview.
     *
     * `submitLock` serialises arm-and-push, so that the queue order is the sequence order, as the
     * kernel requires drm_sched_job_arm and drm_sched_entity_push_job to run under one lock. It is
     * taken while the job's buffers are locked (buffers, then submitLock: never the reverse). The
     * queue itself and `closed` are guarded by the engine lock, which the dispatcher takes.
     */

    private final Engine engine;
    private final String name;
    private final Priority priority;
    private final FenceContext scheduledContext;
    private final FenceContext finishedContext;
    private final ReentrantLock submitLock = new ReentrantLock();
    final ArrayDeque<SubmittedJob> queue = new ArrayDeque<>();   // guarded by the engine lock
    final Queue<SubmittedJob> unfinished = new ConcurrentLinkedQueue<>();  // pushed, not finished; seqno order
    boolean closed;                                                // guarded by the engine lock
    private Fence lastFinished;                                    // guarded by submitLock

    Entity(Engine engine, String name, Priority priority) {
        this.engine = engine;
        this.name = name;
        this.priority = priority;
        this.scheduledContext = FenceContext.create(name + ".scheduled");
        this.finishedContext = FenceContext.create(name);
    }

    /**
     * The engine this entity feeds.
     *
     * @return the engine
     */
    public Engine engine() {
        return engine;
    }

    /**
     * The entity's name; also the name of its finished-fence context.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The priority of the entity's jobs.
     *
     * @return the priority
     */
    public Priority priority() {
        return priority;
    }

    /**
     * The context of the entity's finished fences.
     *
     * @return the context id
     */
    public long finishedContext() {
        return finishedContext.id();
    }

    /**
     * Submits a job: locks its buffers, derives its dependencies, publishes its finished fence on
     * every buffer (as WRITE on the buffers it writes, READ on those it only reads) and queues it.
     *
     * @param job the job
     * @return the submitted job, with its fences
     * @throws InterruptedException if interrupted while locking the buffers; nothing was submitted
     * @throws IllegalStateException if the entity or its engine is closed
     * @throws IllegalArgumentException if the job needs more credits than the engine has
     * @throws RuntimeException whatever the job's {@linkplain Job.Builder#whileLocked validation}
     *     throws; nothing was submitted
     */
    public SubmittedJob submit(Job job) throws InterruptedException {
        if (job.credits() > engine.creditLimit()) {
            throw new IllegalArgumentException("job " + job.name() + " needs " + job.credits()
                    + " credits but engine " + engine.name() + " has " + engine.creditLimit());
        }
        SubmittedJob submitted;
        int retries;
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE, Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                for (HasReservation b : job.writes()) {
                    e.prepare(b, 1);
                }
                for (HasReservation b : job.reads()) {
                    e.prepare(b, 1);
                }
            });
            retries = exec.retries();
            job.whileLocked().run();
            Map<Long, Fence> deps = Map.of();         // made a LinkedHashMap by the first dependency
            for (HasReservation b : job.writes()) {
                deps = addDependencies(deps, b.reservation().fences(Usage.beforeWrite()));
            }
            for (HasReservation b : job.reads()) {
                deps = addDependencies(deps, b.reservation().fences(Usage.beforeRead()));
            }
            for (Fence f : job.dependencies()) {
                deps = addDependencies(deps, Fences.unwrap(f));
            }
            submitLock.lock();
            try {
                engine.checkOpen(this);
                submitted = arm(job);
                for (Fence dependency : deps.values()) {
                    Fence wait = engine.dependencyFor(this, job, dependency);
                    if (wait != null) {
                        submitted.dependencies.add(wait);
                    }
                }
                for (HasReservation b : job.writes()) {
                    b.reservation().addFence(submitted.finished(), Usage.WRITE);
                }
                for (HasReservation b : job.reads()) {
                    b.reservation().addFence(submitted.finished(), Usage.READ);
                }
                engine.push(this, submitted);
            } finally {
                submitLock.unlock();
            }
        }
        engine.armed(submitted, retries);
        return submitted;
    }

    /**
     * Cancels the jobs of this entity that have not started (their fences signal with a
     * {@link JobCancelledException}) and refuses further submissions; started jobs finish.
     */
    @Override
    public void close() {
        engine.closeEntity(this);
    }

    @Override
    public String toString() {
        return "Entity[" + name + ", " + priority + ", engine " + engine.name() + "]";
    }

    // ------------------------------------------------------------ internals

    /**
     * Adds the unsignalled fences of {@code fences} to {@code deps}, keeping the later one per
     * context; returns the map, a new {@code LinkedHashMap} if {@code deps} was the empty one.
     */
    private static Map<Long, Fence> addDependencies(Map<Long, Fence> deps, List<Fence> fences) {
        for (Fence f : fences) {
            if (f.isSignaled()) {
                continue;
            }
            if (deps.isEmpty()) {
                deps = new LinkedHashMap<>();
            }
            deps.merge(f.context(), f, (old, now) -> now.isLater(old) ? now : old);
        }
        return deps;
    }

    /** The point of no return: sequence number and fences. Under submitLock. */
    private SubmittedJob arm(Job job) {
        Signaller scheduled = scheduledContext.next();
        Signaller finished = finishedContext.next();
        SubmittedJob s = new SubmittedJob(job, this, scheduled, finished, lastFinished);
        lastFinished = finished.fence();
        return s;
    }

    /** Tells whether {@code f} is a fence of this entity (scheduled or finished). */
    boolean owns(Fence f) {
        return f.context() == finishedContext.id() || f.context() == scheduledContext.id();
    }
}
