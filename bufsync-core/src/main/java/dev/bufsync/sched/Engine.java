package dev.bufsync.sched;

import dev.bufsync.check.SignallingSection;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.Fences;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/**
 * A job scheduler for one device (the kernel's {@code drm_gpu_scheduler}): jobs submitted through
 * its {@link Entity entities} start when their dependencies have signalled, highest
 * {@link Priority} first and, within a priority, the one that has waited longest first, while the
 * jobs in flight hold at most the engine's credits. A job that runs longer than its timeout
 * finishes with a {@link JobTimeoutException} and the engine carries on; closing the engine
 * finishes every job not finished yet with a {@link JobCancelledException}. Every job's fences
 * signal, always.
 *
 * <pre>{@code
 * try (Engine gpu = Engine.builder("gpu").credits(2).timeout(Duration.ofSeconds(5)).build()) {
 *     Entity queue = gpu.newEntity(Priority.NORMAL);
 *     SubmittedJob job = queue.submit(Job.builder("blit").reads(src).writes(dst)
 *             .runAsync(() -> device.blit(src, dst)).build());
 *     job.finished().await();
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> Work starts on the engine's executor: by default one thread per engine (the
 * device), so jobs start in order and synchronous work runs one at a time. The dispatcher has no
 * thread of its own: submission, dependency callbacks and completions dispatch on the thread that
 * causes them, briefly, under the engine lock.
 *
 * <p><b>In-order engines.</b> Like a hardware ring, an engine with its own device thread is assumed
 * to run its jobs one at a time and finish them in the order they start
 * ({@link Builder#inOrder(boolean)}). That is what lets a job depend only on the start of an earlier
 * job of the same engine (pipelining). Asynchronous work that can complete out of order must run on
 * an engine built with {@code inOrder(false)}; an engine given an executor is not in order unless
 * it says so.
 *
 * <p><b>Faults.</b> The listener, the executor and fence callbacks may throw anything: a job never
 * stays half-started (it runs and is timed, or fails with the throwable), credits come back, later
 * jobs run, and whatever could not go to a job's fence goes to the
 * {@linkplain Builder#failureReporter failure reporter}. However many finished jobs wait behind a
 * hung one for their in-order signal, they are signalled in a loop, never by recursion.
 */
public final class Engine implements AutoCloseable {
    /*
     * Overview.
     *
     * The engine lock guards the entities, their queues, the credits in use, the running list and
     * `closed` (volatile, so that a submission can be refused early without the lock; push
     * decides under it). dispatch() takes it, pops every job that can start (the head of an
     * entity's queue is the only candidate of that entity, so an entity's jobs start in order),
     * marks them running, and releases it before signalling their scheduled fences and handing
     * their work to the executor, so that no callback runs under the lock. The running list and a pass's
     * lists of jobs to start or fail are linked through fields of the jobs themselves, so that
     * dispatching allocates nothing under the lock (and nothing at all per job).
     *
     * Dispatching is serialised by `dispatchRequests`: the thread that moves it from 0 dispatches
     * until no request arrived during its pass; others only count their request and return. So a
     * chain of pipelined jobs starts iteratively, and the lock is taken by one dispatcher at a time.
     *
     * A job leaves RUNNING exactly once (SubmittedJob.claimDone): by its work's fence, its
     * timeout or a cancellation. Whoever claims it returns the credits, records the outcome, asks
     * its entity to drain (the entity's drainer signals finished fences in sequence order, in a
     * loop: Entity's Overview) and dispatches again.
     *
     * Every entity keeps its jobs not retired yet in its books, in sequence order, and
     * `allEntities` lists the entities, so that a fence of this engine leads to its job without a
     * map: for pipelining (a dependency on a job of this engine waits for its scheduled fence),
     * for refusing work that returns a later job's fence, and for the watchdog's wait-for graph.
     * `unfinishedCount` counts those jobs.
     *
     * Foreign code and who may throw where. The listener, the executor, fence callbacks (run when
     * the engine signals a fence), the work and the failure reporter are foreign code and may
     * throw anything; none runs under the engine lock or an entity's books lock.
     *   - Work: its throwable, or its fence's error, is the job's error.
     *   - Executor: a throwable from execute() (RejectedExecutionException, an Error) fails that
     *     job with it; the job still gets its timer if execute() had started it anyway.
     *   - Listener: its throwable goes to the failure reporter and changes nothing: onSubmit after
     *     the job is queued and wired, onStart after the job took its credits, between its
     *     scheduled fence and handing it to the executor (which happens anyway), onFinish after the
     *     finished fence signalled.
     *   - A throwable escaping a fence signal (a throwing callback failure handler) is reported;
     *     the fence has signalled, the loop goes on.
     *   - The failure reporter: if it throws, the engine logs both; if logging throws too, the
     *     throwable is dropped (there is no one left to tell).
     * Loops that continue past a throwable: dispatch (each job started is run and timed whatever
     * the previous one threw; a pass that throws is reported and requests that arrived meanwhile
     * are served), the entity's drain (each retired job is signalled and announced), close (each
     * victim is cancelled). Between arming and queueing, a throwable fails the job (its fences
     * signal with it) before it reaches the submitter.
     *
     * Timeouts: the one timer thread only hands an expired job to a new virtual thread, which
     * claims it and signals its fences, so a blocking callback delays no other timeout.
     */

    private static final ScheduledExecutorService TIMER = timer();
    private static final System.Logger LOG = System.getLogger("dev.bufsync.sched");
    private static final Thread.Builder TIMEOUT_THREADS = Thread.ofVirtual().name("bufsync-sched-timeout");
    private static final Priority[] PRIORITIES = Priority.values();     // highest first; never written

    private final String name;
    private final int creditLimit;
    private final Duration timeout;
    private final boolean inOrder;
    private final Executor executor;
    private final ExecutorService ownExecutor;                 // null when the caller gave one
    private final JobListener listener;
    private final BiConsumer<? super SubmittedJob, ? super Throwable> failureReporter;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Priority, List<Entity>> entities = new EnumMap<>(Priority.class);  // guarded by lock
    private SubmittedJob runningFirst;                                                   // guarded by lock: running list
    private SubmittedJob runningLast;                                                    // guarded by lock
    private int runningCount;                                                            // guarded by lock
    private int creditsInUse;                                                            // guarded by lock
    private long pushed;                                                                 // guarded by lock: jobs queued so far
    private volatile boolean closed;                                                     // written under lock; see checkOpen
    private final List<Entity> allEntities = new CopyOnWriteArrayList<>();   // every entity ever made
    private final AtomicInteger unfinishedCount = new AtomicInteger();
    private final AtomicLong lastProgress = new AtomicLong(System.nanoTime());
    private final AtomicInteger dispatchRequests = new AtomicInteger();   // > 0 while a thread dispatches
    private final LongAdder submitted = new LongAdder();
    private final LongAdder completed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder timedOut = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final LongAdder fencesSignaled = new LongAdder();
    private final LongAdder retries = new LongAdder();

    private Engine(Builder b) {
        this.name = b.name;
        this.creditLimit = b.credits;
        this.timeout = b.timeout;
        this.inOrder = b.inOrder != null ? b.inOrder : b.executor == null;
        this.listener = b.listener;
        this.failureReporter = b.failureReporter;
        if (b.executor != null) {
            this.executor = b.executor;
            this.ownExecutor = null;
        } else {
            this.ownExecutor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name + "-device");
                t.setDaemon(true);
                return t;
            });
            this.executor = ownExecutor;
        }
        for (Priority p : Priority.values()) {
            entities.put(p, new ArrayList<>());
        }
    }

    /**
     * Starts building an engine.
     *
     * @param name the device's name, for diagnostics and traces
     * @return a builder (1 credit, a 10 s timeout, its own device thread, in order)
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Creates a submission queue of this engine at {@link Priority#NORMAL}.
     *
     * @param name the entity's name
     * @return the entity
     */
    public Entity newEntity(String name) {
        return newEntity(name, Priority.NORMAL);
    }

    /**
     * Creates a submission queue of this engine.
     *
     * @param name the entity's name
     * @param priority the priority of its jobs
     * @return the entity
     * @throws IllegalStateException if the engine is closed
     */
    public Entity newEntity(String name, Priority priority) {
        Entity e = new Entity(this, name, priority);
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("engine " + this.name + " is closed");
            }
            entities.get(priority).add(e);
            allEntities.add(e);
        } finally {
            lock.unlock();
        }
        return e;
    }

    /**
     * The device's name.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The most credits the jobs in flight may hold together.
     *
     * @return the credit limit
     */
    public int creditLimit() {
        return creditLimit;
    }

    /**
     * The counters of this engine.
     *
     * @return a snapshot
     */
    public EngineStats stats() {
        int queued = 0;
        int inFlight;
        lock.lock();
        try {
            for (List<Entity> list : entities.values()) {
                for (Entity e : list) {
                    queued += e.queue.size();
                }
            }
            inFlight = runningCount;
        } finally {
            lock.unlock();
        }
        return new EngineStats(submitted.sum(), completed.sum(), failed.sum(), timedOut.sum(),
                cancelled.sum(), queued, inFlight, 2 * submitted.sum(), fencesSignaled.sum(), retries.sum());
    }

    /**
     * When a fence of this engine last signalled, in {@link System#nanoTime()} units.
     *
     * @return the time of the last progress
     */
    public long lastProgressNanos() {
        return lastProgress.get();
    }

    /**
     * Tells whether any job of this engine has not finished.
     *
     * @return {@code true} if jobs are queued or running
     */
    public boolean hasPendingJobs() {
        return unfinishedCount.get() > 0;
    }

    /**
     * Describes every unfinished job: its state, the buffers it reads and writes, and each fence it
     * still waits for with the job (of any engine) that will signal it.
     *
     * @param engines the engines whose jobs may produce the fences, this one included
     * @return the wait-for graph, one job per line with its waits indented below
     */
    public String describeWaits(List<Engine> engines) {
        StringBuilder sb = new StringBuilder();
        for (SubmittedJob job : unfinishedJobs()) {
            if (job.isDone()) {
                continue;                                   // finished, waiting to retire in order
            }
            sb.append("  ").append(job).append(" on ").append(name).append(": reads ")
                    .append(Job.names(job.job().reads())).append(", writes ")
                    .append(Job.names(job.job().writes())).append('\n');
            for (Fence f : job.dependencies) {
                if (!f.isSignaled()) {
                    sb.append("    waits for ").append(f).append(producer(f, engines)).append('\n');
                }
            }
        }
        return sb.toString();
    }

    private static String producer(Fence f, List<Engine> engines) {
        for (Engine e : engines) {
            SubmittedJob j = e.producerOf(f);
            if (j != null) {
                return (j.finished() == f ? ", the finished fence of " : ", the scheduled fence of ") + j
                        + " on " + e.name;
            }
        }
        return ", produced outside these engines";
    }

    /** The unfinished jobs of every entity, in sequence order per entity. */
    private List<SubmittedJob> unfinishedJobs() {
        List<SubmittedJob> jobs = new ArrayList<>();
        for (Entity e : allEntities) {
            jobs.addAll(e.unfinished());
        }
        return jobs;
    }

    /**
     * The unretired job of this engine whose scheduled or finished fence {@code f} is, or null:
     * one look per entity, then one index into the owner's books.
     */
    private SubmittedJob producerOf(Fence f) {
        for (Entity e : allEntities) {
            if (e.owns(f)) {
                return e.bySeqno(f.seqno());
            }
        }
        return null;
    }

    /**
     * Finishes every job that has not finished, queued or running, with a
     * {@link JobCancelledException} (their scheduled fences too, if they never started), refuses
     * further submissions, and stops the engine's own device thread. Work already running is not
     * interrupted; what it does afterwards is ignored. Jobs whose work finished but whose finished
     * fence waited for an earlier job of their entity signal with their own outcome. No fence is
     * left pending: each signals before close returns, or right after on the thread that is
     * signalling its entity's fences at that moment (or submitting the job: the submission cancels
     * it); then {@link #hasPendingJobs()} is false.
     * Idempotent; a throwable from a callback on a cancelled fence is reported, and the other
     * jobs are cancelled all the same.
     */
    @Override
    public void close() {
        List<SubmittedJob> victims = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (List<Entity> list : entities.values()) {
                for (Entity e : list) {
                    e.closed = true;
                    victims.addAll(e.queue);
                    e.queue.clear();
                }
            }
            for (SubmittedJob j = runningFirst; j != null; j = j.runningNext) {
                victims.add(j);
            }
        } finally {
            lock.unlock();
        }
        try {
            for (SubmittedJob j : victims) {
                try {
                    cancel(j, "engine " + name + " closed");
                } catch (Throwable t) {
                    report(j, t);
                }
            }
        } finally {
            if (ownExecutor != null) {
                ownExecutor.shutdown();
            }
        }
    }

    @Override
    public String toString() {
        EngineStats s = stats();
        return "Engine[" + name + ", credits " + creditLimit + ", queued " + s.queued() + ", in flight "
                + s.inFlight() + "]";
    }

    // ------------------------------------------------------------ submission (called by Entity)

    /**
     * Refuses a submission to a closed engine or entity before anything is armed. Reads the flags
     * without the lock: a close that comes after this check is caught by {@link #push}, under the
     * lock, and the job is cancelled.
     */
    void checkOpen(Entity entity) {
        boolean engineClosed = closed;
        if (engineClosed || entity.closed) {
            throw new IllegalStateException((engineClosed ? "engine " + name : "entity " + entity.name())
                    + " is closed; cannot submit");
        }
    }

    /**
     * The fence a job of {@code entity} must wait for instead of {@code dependency}, or null if it
     * need not wait: earlier jobs of the same entity run first; on an in-order engine a job of
     * another entity only has to have started.
     */
    Fence dependencyFor(Entity entity, Job job, Fence dependency) {
        if (inOrder && entity.owns(dependency)) {
            return null;
        }
        if (inOrder && job.pipelined()) {
            SubmittedJob producer = producerOf(dependency);
            if (producer != null && producer.finished() == dependency) {
                return producer.scheduled();
            }
        }
        return dependency;
    }

    /** Enters an armed job in its entity's books and the counts. Under the entity's submit lock. */
    void enter(Entity entity, SubmittedJob job) {
        entity.enter(job);
        unfinishedCount.incrementAndGet();
        submitted.increment();
    }

    /**
     * Queues an entered job, unless the engine or entity closed: then returns false and
     * {@link #armed} cancels it. Under the entity's submit lock.
     */
    boolean push(Entity entity, SubmittedJob job) {
        lock.lock();
        try {
            if (closed || entity.closed) {
                return false;
            }
            job.order = ++pushed;
            entity.queue.add(job);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Fails an entered job that could not be queued: {@code t} was thrown while publishing it. */
    void abort(SubmittedJob job, Throwable t) {
        if (job.claimDone()) {
            failed.increment();
            signalScheduled(job, t);
            finish(job, t);
        }
    }

    /**
     * After the buffers are unlocked: wire the dependencies, dispatch, tell the listener. A
     * job found closed by {@link #push} is cancelled here, outside every lock.
     */
    void armed(SubmittedJob job, int execRetries, boolean queued) {
        retries.add(execRetries);
        if (!queued) {
            cancel(job, "entity " + job.entity().name() + " or engine " + name + " closed");
        } else {
            try {
                for (Fence f : job.dependencies) {
                    job.pending.incrementAndGet();
                    if (!f.addCallback(signalled -> {
                        if (job.dependencySignalled(signalled)) {
                            dispatch();
                        }
                    })) {
                        job.dependencySignalled(f);
                    }
                }
            } catch (Throwable t) {
                abort(job, t);                      // a callback could not be added: never wedge
            }
            job.pending.decrementAndGet();         // armed: the +1 in SubmittedJob goes
            dispatch();
        }
        try {
            listener.onSubmit(job, execRetries);
        } catch (Throwable t) {
            report(job, t);
        }
    }

    void closeEntity(Entity entity) {
        List<SubmittedJob> victims;
        lock.lock();
        try {
            if (entity.closed) {
                return;
            }
            entity.closed = true;
            victims = new ArrayList<>(entity.queue);
            entity.queue.clear();
            entities.get(entity.priority()).remove(entity);
        } finally {
            lock.unlock();
        }
        try {
            for (SubmittedJob j : victims) {
                try {
                    cancel(j, "entity " + entity.name() + " closed");
                } catch (Throwable t) {
                    report(j, t);
                }
            }
        } finally {
            dispatch();
        }
    }

    // ------------------------------------------------------------ dispatch and completion

    /**
     * Starts every job that can start now. Only one thread dispatches at a time: a request that
     * arrives meanwhile (from a callback of a job being started, say) makes that thread go round
     * once more instead of recursing or waiting.
     */
    void dispatch() {
        if (dispatchRequests.getAndIncrement() != 0) {
            return;
        }
        do {
            dispatchRequests.set(1);
            try {
                dispatchOnce();
            } catch (Throwable t) {
                report(null, t);            // reported; requests that came meanwhile still go round
            }
        } while (!dispatchRequests.compareAndSet(1, 0));
    }

    private void dispatchOnce() {
        SubmittedJob started = null;        // this pass's jobs, linked by nextTaken, newest first
        SubmittedJob failing = null;        // likewise: a dependency failed
        lock.lock();
        try {
            if (closed) {
                return;
            }
            for (;;) {
                SubmittedJob next = pick();
                if (next == null) {
                    break;
                }
                next.entity().queue.poll();
                if (next.blockingFailure() != null) {
                    next.nextTaken = failing;
                    failing = next;
                } else if (next.start()) {
                    creditsInUse += next.job().credits();
                    addRunning(next);
                    next.nextTaken = started;
                    started = next;
                }
            }
        } finally {
            lock.unlock();
        }
        for (SubmittedJob j = oldestFirst(failing); j != null; j = untake(j)) {
            if (j.claimDone()) {
                DependencyFailedException e = new DependencyFailedException(j, j.blockingFailure());
                signalScheduled(j, e);
                finish(j, e);
            }
        }
        for (SubmittedJob j = oldestFirst(started); j != null; j = untake(j)) {
            run(j);                         // never throws: each started job runs and is timed
        }
    }

    /** Reverses a list linked by {@code nextTaken}; returns its new head. */
    private static SubmittedJob oldestFirst(SubmittedJob newestFirst) {
        SubmittedJob reversed = null;
        while (newestFirst != null) {
            SubmittedJob j = newestFirst;
            newestFirst = j.nextTaken;
            j.nextTaken = reversed;
            reversed = j;
        }
        return reversed;
    }

    /** Unlinks {@code j} from its dispatch list; returns the next one. */
    private static SubmittedJob untake(SubmittedJob j) {
        SubmittedJob next = j.nextTaken;
        j.nextTaken = null;
        return next;
    }

    /** Appends a job that took its credits to the running list. Under the lock; allocates nothing. */
    private void addRunning(SubmittedJob job) {
        job.runningPrev = runningLast;
        if (runningLast == null) {
            runningFirst = job;
        } else {
            runningLast.runningNext = job;
        }
        runningLast = job;
        job.inRunning = true;
        runningCount++;
    }

    /** Unlinks a job from the running list; {@code false} if it was not in it. Under the lock. */
    private boolean removeRunning(SubmittedJob job) {
        if (!job.inRunning) {
            return false;
        }
        SubmittedJob prev = job.runningPrev;
        SubmittedJob next = job.runningNext;
        if (prev == null) {
            runningFirst = next;
        } else {
            prev.runningNext = next;
        }
        if (next == null) {
            runningLast = prev;
        } else {
            next.runningPrev = prev;
        }
        job.runningPrev = null;
        job.runningNext = null;
        job.inRunning = false;
        runningCount--;
        return true;
    }

    /**
     * The ready head job to start next: highest priority first, then the one submitted first;
     * null if none is ready or the best one does not fit in the credits left. Under the lock.
     */
    private SubmittedJob pick() {
        for (Priority p : PRIORITIES) {
            SubmittedJob best = null;
            for (Entity e : entities.get(p)) {
                SubmittedJob head = e.queue.peek();
                while (head != null && head.isDone()) {     // failed while arming: skip it
                    e.queue.poll();
                    head = e.queue.peek();
                }
                if (head != null && head.ready() && (best == null || head.order < best.order)) {
                    best = head;
                }
            }
            if (best != null) {
                boolean fits = best.blockingFailure() != null
                        || creditsInUse + best.job().credits() <= creditLimit;
                return fits ? best : null;
            }
        }
        return null;
    }

    /**
     * Starts a job that took its credits: signals its scheduled fence, tells the listener, hands
     * the work to the executor and arms the timer. Each step's throwable is caught: a throwing
     * listener or signal is reported, a throwing executor fails the job; the timer is armed
     * whatever happened, unless the job is done, so no job stays RUNNING without one.
     */
    private void run(SubmittedJob job) {
        signalScheduled(job, null);
        long now = signalTime(job.scheduled());         // the start: one clock read for both
        job.startNanos = now;
        lastProgress.set(now);
        try {
            listener.onStart(job);
        } catch (Throwable t) {
            report(job, t);
        }
        try {
            executor.execute(() -> work(job));
        } catch (Throwable rejected) {
            complete(job, rejected);
        }
        try {
            armTimer(job);
        } catch (Throwable t) {
            complete(job, t);                       // no timer, no job: fail it now
        }
    }

    /**
     * When {@code f} signalled, read from the fence instead of the clock again (a clock read is
     * a large part of a job's cost on some machines); the clock if it is still pending, which
     * only a signal that threw before it took effect leaves behind.
     */
    private static long signalTime(Fence f) {
        return f.isSignaled() ? f.timestamp() : System.nanoTime();
    }

    /** Signals the job's scheduled fence ({@code error} null: started); a throwable is reported. */
    private void signalScheduled(SubmittedJob job, Throwable error) {
        try {
            if (error == null) {
                job.scheduledSignaller().trySignal();
            } else {
                job.scheduledSignaller().trySignal(error);
            }
        } catch (Throwable t) {
            report(job, t);
        }
    }

    /**
     * Arms the job's timeout once its work is under way, unless it is done already (work run
     * inline usually is, and then costs no timer). Under the lock, so that a completion either
     * sees the timer and cancels it, or happened before and no timer is armed.
     */
    private void armTimer(SubmittedJob job) {
        if (job.isDone()) {
            return;                                     // done stays done: no timer, no lock
        }
        Duration limit = job.job().timeout() != null ? job.job().timeout() : timeout;
        lock.lock();
        try {
            if (!job.isDone()) {
                long left = nanos(limit) - (System.nanoTime() - job.startNanos);
                job.timer = TIMER.schedule(() -> expire(job, limit), Math.max(0L, left), TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    private void work(SubmittedJob job) {
        if (job.isDone()) {
            return;
        }
        Fence done;
        try (SignallingSection section = SignallingSection.begin(job.finished())) {   // its fence depends on the work
            done = Objects.requireNonNull(job.job().work().start(job), "work returned no fence");
            job.work = done;                            // reachable while the job is: reaped if dropped
            IllegalStateException refused = refusal(job, done);
            if (refused != null) {
                complete(job, refused);
                return;
            }
            if (!done.addCallback(f -> complete(job, f.error()))) {
                complete(job, done.error());
            }
        } catch (Throwable t) {
            complete(job, t);
        }
    }

    /**
     * Why the job must not wait for {@code done}, or null: a fence of its own job or a later job
     * of its entity, or of a job of another entity of this engine queued after it. Such a job
     * may wait for this one, so waiting for its fence could never end.
     */
    private IllegalStateException refusal(SubmittedJob job, Fence done) {
        for (Fence leaf : Fences.unwrap(done)) {
            if (job.entity().owns(leaf)) {
                if (Long.compareUnsigned(leaf.seqno(), job.seqno()) >= 0) {
                    return new IllegalStateException("the work of " + job + " returned " + leaf
                            + ", a fence of its own job or of a later job of its entity: it would wait on"
                            + " its own future, so the job fails instead");
                }
                continue;
            }
            SubmittedJob producer = producerOf(leaf);
            if (producer != null && (producer.order == 0 || producer.order > job.order)) {
                return new IllegalStateException("the work of " + job + " returned " + leaf + ", a fence of "
                        + producer + ", which was submitted after it and may wait for it: the job fails"
                        + " instead of waiting on its own future");
            }
        }
        return null;
    }

    /** On the timer thread: hands the expired job to a thread of its own, so callbacks never block the timer. */
    private void expire(SubmittedJob job, Duration limit) {
        if (job.isDone()) {
            return;
        }
        try {
            TIMEOUT_THREADS.start(() -> timeOut(job, limit));
        } catch (Throwable t) {
            timeOut(job, limit);                        // no thread to be had: time it out here
        }
    }

    private void timeOut(SubmittedJob job, Duration limit) {
        if (job.claimDone()) {
            timedOut.increment();
            try {
                releaseCredits(job);
            } finally {
                finish(job, new JobTimeoutException(job, limit));
                dispatch();
            }
            SchedEvents.timeout(this, job, limit);
        }
    }

    private void complete(SubmittedJob job, Throwable error) {
        if (!job.claimDone()) {
            return;
        }
        if (error == null) {
            completed.increment();
        } else {
            failed.increment();
        }
        try {
            releaseCredits(job);
        } finally {
            finish(job, error);
            dispatch();
        }
    }

    private void cancel(SubmittedJob job, String why) {
        if (job.claimDone()) {
            cancelled.increment();
            JobCancelledException e = new JobCancelledException(job, why);
            try {
                releaseCredits(job);
                signalScheduled(job, e);
            } finally {
                finish(job, e);
            }
        }
    }

    private void releaseCredits(SubmittedJob job) {
        lock.lock();
        try {
            if (removeRunning(job)) {
                creditsInUse -= job.job().credits();
            }
            if (job.timer != null) {
                job.timer.cancel(false);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Records the outcome of a job just claimed DONE and lets its entity retire it in order. */
    private void finish(SubmittedJob job, Throwable error) {
        try (SignallingSection section = SignallingSection.begin(job.finished())) {   // up to its signal
            job.record(error);
            job.entity().drain();
        }
    }

    /**
     * Retires a job from the engine's books, records its JobFinished event, then signals its
     * finished fence and tells the listener: a caller that sees the fence signalled sees the job
     * counted as finished and its event recorded. By the
     * entity's drainer, in sequence order; never throws (a throwable is reported).
     */
    void retire(SubmittedJob job) {
        unfinishedCount.decrementAndGet();
        fencesSignaled.add(2);
        try {
            SchedEvents.finished(this, job);          // before the signal: whoever sees the fence
        } catch (Throwable t) {                       // signalled finds the job's event recorded
            report(job, t);
        }
        try {
            job.signalFinished();
        } catch (Throwable t) {
            report(job, t);
        }
        lastProgress.set(signalTime(job.finished()));
        try {
            listener.onFinish(job);
        } catch (Throwable t) {
            report(job, t);
        }
    }

    /**
     * Tells the failure reporter about a throwable the engine caught and could not hand to a
     * job's fence; if the reporter throws, logs both; if logging throws, gives up. Never throws.
     */
    private void report(SubmittedJob job, Throwable failure) {
        try {
            failureReporter.accept(job, failure);
        } catch (Throwable reporterFailure) {
            try {                                       // both, apart: never mutate the user's throwable
                logFailure(job, failure);
                LOG.log(System.Logger.Level.ERROR, "engine " + name + ": the failure reporter threw", reporterFailure);
            } catch (Throwable ignored) {
                // the logging itself failed: nobody is left to tell
            }
        }
    }

    private static void logFailure(SubmittedJob job, Throwable failure) {
        LOG.log(System.Logger.Level.ERROR, (job != null ? job + ": " : "")
                + "a listener, executor or fence callback threw; the engine carries on", failure);
    }

    /**
     * A timeout in nanoseconds, saturating: one beyond {@code Long.MAX_VALUE} nanoseconds (some
     * 292 years, {@code ChronoUnit.FOREVER}'s for one) is as good as for ever, not an error.
     */
    static long nanos(Duration timeout) {
        try {
            return timeout.toNanos();
        } catch (ArithmeticException beyondLong) {
            return Long.MAX_VALUE;
        }
    }

    private static ScheduledExecutorService timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "bufsync-sched-timeouts");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        return t;
    }

    /** Options for a new {@link Engine}. */
    public static final class Builder {
        private final String name;
        private int credits = 1;
        private Duration timeout = Duration.ofSeconds(10);
        private Boolean inOrder;                  // null: true with the engine's own thread, else false
        private Executor executor;
        private JobListener listener = JobListener.NONE;
        private BiConsumer<? super SubmittedJob, ? super Throwable> failureReporter = Engine::logFailure;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * Sets how many credits the jobs in flight may hold together (the kernel's credit limit).
         *
         * @param credits at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code credits} is less than 1
         */
        public Builder credits(int credits) {
            if (credits < 1) {
                throw new IllegalArgumentException("engine " + name + ": credits must be at least 1, not " + credits);
            }
            this.credits = credits;
            return this;
        }

        /**
         * Sets how long a job may run before it finishes with a {@link JobTimeoutException}.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is not positive
         */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("engine " + name + ": timeout must be positive, not " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Declares whether the engine is a serial device: it runs the work of one job at a time,
         * in the order the jobs start, and finishes them in that order. That allows pipelining: a
         * dependency on an earlier job of the same entity is dropped and one on a job of another
         * entity waits only for its start. Default: {@code true} with the engine's own device
         * thread, {@code false} with an {@linkplain #executor executor} (a thread pool would run
         * two writers of one buffer at once); declare {@code true} with an executor only if it,
         * and the device behind it, is serial ({@code Runnable::run} is: the engine dispatches
         * on one thread at a time).
         *
         * @param inOrder whether work runs and completes one job at a time, in start order
         * @return this builder
         */
        public Builder inOrder(boolean inOrder) {
            this.inOrder = inOrder;
            return this;
        }

        /**
         * Runs work on {@code executor} instead of the engine's own device thread; the engine does
         * not shut it down. {@code Runnable::run} runs work on the thread that dispatches it. The
         * engine is then not in order unless {@link #inOrder(boolean)} says so. If
         * {@code execute} throws (a {@code RejectedExecutionException}, an {@code Error}), the job
         * fails with that throwable and the engine carries on.
         *
         * @param executor where {@link Work#start} runs
         * @return this builder
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * Tells {@code listener} about every submission, start and finish (for traces and metrics).
         *
         * @param listener the listener; its methods must be quick and must not block; what they
         *     throw goes to the {@linkplain #failureReporter failure reporter} and changes nothing
         * @return this builder
         */
        public Builder listener(JobListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Receives every throwable the engine catches and cannot hand to a job's fence: thrown by
         * the {@linkplain #listener listener}, or escaping a fence signal (a throwing callback
         * failure handler), with the job concerned (null if none). The engine carries on. The
         * default logs at {@code ERROR} to the {@link System.Logger} named {@code dev.bufsync.sched};
         * if the reporter throws, both are logged there.
         *
         * @param reporter the reporter; it must be quick and must not block
         * @return this builder
         */
        public Builder failureReporter(BiConsumer<? super SubmittedJob, ? super Throwable> reporter) {
            this.failureReporter = Objects.requireNonNull(reporter, "reporter");
            return this;
        }

        /**
         * Creates the engine.
         *
         * @return the engine; close it
         */
        public Engine build() {
            return new Engine(this);
        }
    }
}
