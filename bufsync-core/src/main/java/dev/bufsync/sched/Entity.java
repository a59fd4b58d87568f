package dev.bufsync.sched;

import dev.bufsync.exec.Exec;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Usage;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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
     * queue itself and `closed` are guarded by the engine lock, which the dispatcher takes (`closed` is
     * volatile besides, for the early check before arming).
     *
     * The books: every armed job not retired yet, in sequence order, in a ring guarded by
     * `booksLock` (a leaf lock: nothing else is taken, nothing is allocated and no foreign code
     * runs under it; a bigger ring or a snapshot array is allocated before taking it). Jobs enter
     * at arming, under submitLock (so only one thread adds, and the ring only shrinks while that
     * thread allocates); sequence numbers are consecutive, so the job of a fence is found by
     * index, not by a scan.
     *
     * Retirement is a drain loop, not a chain of callbacks: a job that finished records its outcome
     * and calls drain(). `drainRequests` serialises draining as `dispatchRequests` serialises
     * dispatching: the thread that moves it from 0 retires heads whose outcome is recorded (retire
     * from the engine's books, signal the finished fence, tell the listener) until the head is
     * not finished or the books are empty, and goes round again while requests arrived meanwhile;
     * others only count their request. A finished fence's callbacks may finish more jobs of this
     * entity: they only request, so the stack depth stays constant whatever the backlog. Each
     * step's throwable is caught, reported and the loop continues: one throwing callback cannot
     * leave a later fence pending.
     */

    private final Engine engine;
    private final String name;
    private final Priority priority;
    private final FenceContext scheduledContext;
    private final FenceContext finishedContext;
    private final ReentrantLock submitLock = new ReentrantLock();
    final ArrayDeque<SubmittedJob> queue = new ArrayDeque<>();   // guarded by the engine lock
    private final ReentrantLock booksLock = new ReentrantLock();
    private SubmittedJob[] books = new SubmittedJob[16];          // guarded by booksLock: a ring
    private int booksHead;                                         // guarded by booksLock
    private int booksSize;                                         // guarded by booksLock
    private final AtomicInteger drainRequests = new AtomicInteger();   // > 0 while a thread drains
    volatile boolean closed;                                       // written under the engine lock; see Engine.checkOpen

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
     * @throws Error (or a RuntimeException) if publishing the job's fence failed after it was
     *     armed: its fences signal with that throwable, the job does not run. If unlocking the
     *     buffers fails after the job was queued, the job runs and the throwable propagates. What
     *     the engine's {@link JobListener} throws never reaches the submitter: once the fence is on
     *     the buffers the submission stands, and the listener's throwable goes to the engine's
     *     {@linkplain Engine.Builder#failureReporter failure reporter}.
     */
    public SubmittedJob submit(Job job) throws InterruptedException {
        if (job.credits() > engine.creditLimit()) {
            throw new IllegalArgumentException("job " + job.name() + " needs " + job.credits()
                    + " credits but engine " + engine.name() + " has " + engine.creditLimit());
        }
        SubmittedJob pushed = null;
        int retries = 0;
        boolean queued = false;
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
                SubmittedJob submitted = arm(job);
                engine.enter(this, submitted);     // from here on its fences must signal, whatever throws
                try {
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
                } catch (Throwable t) {
                    engine.abort(submitted, t);    // its fences signal with t; the caller is told
                    throw t;
                }
                queued = engine.push(this, submitted);
                pushed = submitted;
            } finally {
                submitLock.unlock();
            }
        } finally {
            if (pushed != null) {                   // queued: arm it even if unlocking threw
                engine.armed(pushed, retries, queued);
            }
        }
        return pushed;
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
        return new SubmittedJob(job, this, scheduled, finished);
    }

    // ------------------------------------------------------------ the books and retirement

    /** Enters a just-armed job in the books, after the jobs armed before it. Under submitLock. */
    void enter(SubmittedJob job) {
        SubmittedJob[] grown = null;
        booksLock.lock();
        try {
            if (booksSize == books.length) {
                int length = books.length;
                booksLock.unlock();                    // allocate outside; only we add, so it still fits
                try {
                    grown = new SubmittedJob[length * 2];
                } finally {
                    booksLock.lock();
                }
                for (int i = 0; i < booksSize; i++) {
                    grown[i] = books[(booksHead + i) % books.length];
                }
                books = grown;
                booksHead = 0;
            }
            books[(booksHead + booksSize) % books.length] = job;
            booksSize++;
        } finally {
            booksLock.unlock();
        }
    }

    /** The unretired job whose fences have sequence number {@code seqno}, or null. */
    SubmittedJob bySeqno(long seqno) {
        booksLock.lock();
        try {
            if (booksSize == 0) {
                return null;
            }
            long index = seqno - books[booksHead].seqno();
            return index >= 0 && index < booksSize ? books[(int) ((booksHead + index) % books.length)] : null;
        } finally {
            booksLock.unlock();
        }
    }

    /** The unretired jobs, in sequence order. */
    List<SubmittedJob> unfinished() {
        for (SubmittedJob[] copy = new SubmittedJob[16]; ; copy = new SubmittedJob[2 * copy.length]) {
            int n;
            booksLock.lock();
            try {
                n = booksSize;
                if (n > copy.length) {
                    continue;                           // allocate a bigger copy outside the lock
                }
                for (int i = 0; i < n; i++) {
                    copy[i] = books[(booksHead + i) % books.length];
                }
            } finally {
                booksLock.unlock();
            }
            return Arrays.asList(copy).subList(0, n);
        }
    }

    /** Removes and returns the head of the books if its outcome is recorded, else null. */
    private SubmittedJob pollRecorded() {
        booksLock.lock();
        try {
            SubmittedJob head = books[booksHead];
            if (head == null || !head.isRecorded()) {
                return null;
            }
            books[booksHead] = null;
            booksHead = (booksHead + 1) % books.length;
            booksSize--;
            return head;
        } finally {
            booksLock.unlock();
        }
    }

    /**
     * Retires every finished job at the head of the books, in order (see Overview). Returns at
     * once if another thread drains: that thread goes round again for this request.
     */
    void drain() {
        if (drainRequests.getAndIncrement() != 0) {
            return;
        }
        do {
            drainRequests.set(1);
            for (SubmittedJob job; (job = pollRecorded()) != null; ) {
                engine.retire(job);
            }
        } while (!drainRequests.compareAndSet(1, 0));
    }

    /** Tells whether {@code f} is a fence of this entity (scheduled or finished). */
    boolean owns(Fence f) {
        return f.context() == finishedContext.id() || f.context() == scheduledContext.id();
    }
}
