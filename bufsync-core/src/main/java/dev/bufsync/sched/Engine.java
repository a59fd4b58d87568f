package dev.bufsync.sched;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.Fences;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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
 * <p><b>In-order engines.</b> Like a hardware ring, an engine is assumed to finish its jobs in the
 * order they start ({@link Builder#inOrder(boolean)}, on by default). That is what lets a job
 * depend only on the start of an earlier job of the same engine (pipelining). Asynchronous work
 * that can complete out of order must run on an engine built with {@code inOrder(false)}.
 */
public final class Engine implements AutoCloseable {
    /*
     * Overview.
     *
     * The engine lock guards the entities, their queues, the credits in use, the running set and
     * `closed`. dispatch() takes it, pops every job that can start (the head of an entity's queue
     * is the only candidate of that entity, so an entity's jobs start in order), marks them
     * running, and releases it before signalling their scheduled fences and handing their work
     * to the executor, so that no callback runs under the lock.
     *
     * Dispatching is serialised by `dispatchRequests`: the thread that moves it from 0 dispatches
     * until no request arrived during its pass; others only count their request and return. So a
     * chain of pipelined jobs starts iteratively, and the lock is taken by one dispatcher at a time.
     *
     * A job leaves RUNNING exactly once (SubmittedJob.claimDone): by its work's fence, its
     * timeout or a cancellation. Whoever claims it returns the credits, signals the finished fence
     * (after the entity's previous one: finished fences of an entity signal in order) and
     * dispatches again.
     *
     * Every entity keeps its jobs not finished yet, in sequence order (they finish in that order),
     * and `allEntities` lists the entities, so that a fence of this engine leads to its job without
     * a map: for pipelining (a dependency on a job of this engine waits for its scheduled fence)
     * and for the watchdog's wait-for graph. `unfinishedCount` counts those jobs.
     */

    private static final ScheduledExecutorService TIMER = timer();

    private final String name;
    private final int creditLimit;
    private final Duration timeout;
    private final boolean inOrder;
    private final Executor executor;
    private final ExecutorService ownExecutor;                 // null when the caller gave one
    private final JobListener listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Priority, List<Entity>> entities = new EnumMap<>(Priority.class);  // guarded by lock
    private final Set<SubmittedJob> running = new LinkedHashSet<>();                     // guarded by lock
    private int creditsInUse;                                                            // guarded by lock
    private long pushed;                                                                 // guarded by lock: jobs queued so far
    private boolean closed;                                                              // guarded by lock
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
        this.inOrder = b.inOrder;
        this.listener = b.listener;
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
            inFlight = running.size();
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
            jobs.addAll(e.unfinished);
        }
        return jobs;
    }

    /** The unfinished job of this engine whose scheduled or finished fence {@code f} is, or null. */
    private SubmittedJob producerOf(Fence f) {
        for (Entity e : allEntities) {
            if (e.owns(f)) {
                for (SubmittedJob j : e.unfinished) {
                    if (j.seqno() == f.seqno()) {
                        return j;
                    }
                }
                return null;
            }
        }
        return null;
    }

    /**
     * Finishes every job that has not finished, queued or running, with a
     * {@link JobCancelledException} (their scheduled fences too, if they never started), refuses
     * further submissions, and stops the engine's own device thread. Work already running is not
     * interrupted; what it does afterwards is ignored. Idempotent.
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
            victims.addAll(running);
        } finally {
            lock.unlock();
        }
        for (SubmittedJob j : victims) {
            cancel(j, "engine " + name + " closed");
        }
        if (ownExecutor != null) {
            ownExecutor.shutdown();
        }
    }

    @Override
    public String toString() {
        EngineStats s = stats();
        return "Engine[" + name + ", credits " + creditLimit + ", queued " + s.queued() + ", in flight "
                + s.inFlight() + "]";
    }

    // ------------------------------------------------------------ submission (called by Entity)

    void checkOpen(Entity entity) {
        lock.lock();
        try {
            if (closed || entity.closed) {
                throw new IllegalStateException((closed ? "engine " + name : "entity " + entity.name())
                        + " is closed; cannot submit");
            }
        } finally {
            lock.unlock();
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

    /** Queues an armed job. Under the entity's submit lock. */
    void push(Entity entity, SubmittedJob job) {
        entity.unfinished.add(job);
        unfinishedCount.incrementAndGet();
        submitted.increment();
        lock.lock();
        try {
            if (closed || entity.closed) {
                job.claimDone();
            } else {
                job.order = ++pushed;
                entity.queue.add(job);
            }
        } finally {
            lock.unlock();
        }
    }

    /** After the buffers are unlocked: wire the dependencies, tell the listener, dispatch. */
    void armed(SubmittedJob job, int execRetries) {
        retries.add(execRetries);
        listener.onSubmit(job, execRetries);
        if (job.isDone()) {                                     // the engine closed meanwhile
            finishCancelled(job, "engine " + name + " closed");
            return;
        }
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
        job.pending.decrementAndGet();                         // armed: the +1 in SubmittedJob goes
        dispatch();
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
        for (SubmittedJob j : victims) {
            cancel(j, "entity " + entity.name() + " closed");
        }
        dispatch();
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
        try {
            do {
                dispatchRequests.set(1);
                dispatchOnce();
            } while (!dispatchRequests.compareAndSet(1, 0));
        } catch (RuntimeException | Error e) {
            dispatchRequests.set(0);        // let the next request dispatch; do not stall the engine
            throw e;
        }
    }

    private void dispatchOnce() {
        List<SubmittedJob> start = new ArrayList<>();
        List<SubmittedJob> fail = new ArrayList<>();
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
                    fail.add(next);
                    continue;
                }
                if (next.start()) {
                    creditsInUse += next.job().credits();
                    running.add(next);
                    start.add(next);
                }
            }
        } finally {
            lock.unlock();
        }
        for (SubmittedJob j : fail) {
            if (j.claimDone()) {
                DependencyFailedException e = new DependencyFailedException(j, j.blockingFailure());
                j.scheduledSignaller().trySignal(e);
                finish(j, e);
            }
        }
        for (SubmittedJob j : start) {
            run(j);
        }
    }

    /**
     * The ready head job to start next: highest priority first, then the one submitted first;
     * null if none is ready or the best one does not fit in the credits left. Under the lock.
     */
    private SubmittedJob pick() {
        for (Priority p : Priority.values()) {
            SubmittedJob best = null;
            for (Entity e : entities.get(p)) {
                SubmittedJob head = e.queue.peek();
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

    private void run(SubmittedJob job) {
        long now = System.nanoTime();
        job.startNanos = now;
        job.scheduledSignaller().trySignal();
        lastProgress.set(now);
        listener.onStart(job);
        try {
            executor.execute(() -> work(job));
        } catch (RuntimeException rejected) {
            complete(job, rejected);
        }
        armTimer(job);
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
                long left = limit.toNanos() - (System.nanoTime() - job.startNanos);
                job.timer = TIMER.schedule(() -> timeOut(job, limit), Math.max(0L, left), TimeUnit.NANOSECONDS);
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
        try {
            done = Objects.requireNonNull(job.job().work().start(job), "work returned no fence");
        } catch (Throwable t) {
            complete(job, t);
            return;
        }
        for (Fence leaf : Fences.unwrap(done)) {
            if (job.entity().owns(leaf) && Long.compareUnsigned(leaf.seqno(), job.seqno()) >= 0) {
                complete(job, new IllegalStateException("the work of " + job + " returned " + leaf
                        + ", a fence of its own job or of a later job of its entity: it would wait on"
                        + " its own future, so the job fails instead"));
                return;
            }
        }
        if (!done.addCallback(f -> complete(job, f.error()))) {
            complete(job, done.error());
        }
    }

    private void timeOut(SubmittedJob job, Duration limit) {
        if (job.claimDone()) {
            timedOut.increment();
            releaseCredits(job);
            finish(job, new JobTimeoutException(job, limit));
            dispatch();
            SchedEvents.timeout(this, job, limit);
        }
    }

    private void complete(SubmittedJob job, Throwable error) {
        if (!job.claimDone()) {
            return;
        }
        releaseCredits(job);
        if (error == null) {
            completed.increment();
        } else {
            failed.increment();
        }
        finish(job, error);
        dispatch();
    }

    private void cancel(SubmittedJob job, String why) {
        if (job.claimDone()) {
            releaseCredits(job);
            finishCancelled(job, why);
        }
    }

    private void finishCancelled(SubmittedJob job, String why) {
        cancelled.increment();
        JobCancelledException e = new JobCancelledException(job, why);
        job.scheduledSignaller().trySignal(e);
        finish(job, e);
    }

    private void releaseCredits(SubmittedJob job) {
        lock.lock();
        try {
            if (running.remove(job)) {
                creditsInUse -= job.job().credits();
            }
            if (job.timer != null) {
                job.timer.cancel(false);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Retires the job from the books, then signals its finished fence, in entity order: a caller
     * that sees the fence signalled sees the job counted as finished.
     */
    private void finish(SubmittedJob job, Throwable error) {
        job.signalFinishedInOrder(error, () -> {
            SubmittedJob head = job.entity().unfinished.poll();   // retired in order: the head
            assert head == job : head + " retired before " + job;
            unfinishedCount.decrementAndGet();
            fencesSignaled.add(2);
        }, () -> {
            lastProgress.set(job.finished().timestamp());
            SchedEvents.finished(this, job, error);
            listener.onFinish(job);
        });
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
        private boolean inOrder = true;
        private Executor executor;
        private JobListener listener = JobListener.NONE;

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
         * Declares whether the engine finishes jobs in the order they start (default {@code true}),
         * which allows pipelining dependencies on its own jobs.
         *
         * @param inOrder whether work completes in start order
         * @return this builder
         */
        public Builder inOrder(boolean inOrder) {
            this.inOrder = inOrder;
            return this;
        }

        /**
         * Runs work on {@code executor} instead of the engine's own device thread; the engine does
         * not shut it down. {@code Runnable::run} runs work on the thread that dispatches it.
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
         * @param listener the listener; its methods must be quick and must not block
         * @return this builder
         */
        public Builder listener(JobListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
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
