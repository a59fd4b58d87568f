package dev.bufsync.sched;

import dev.bufsync.fence.Fence;
import dev.bufsync.resv.HasReservation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * An immutable description of a command submission: the buffers it reads and writes, any explicit
 * fence it depends on, and the {@link Work} to run. Submitting it to an {@link Entity} locks its
 * buffers, derives its dependencies from their reservations, publishes its finished fence on them
 * and queues it (see {@link Entity#submit(Job)}).
 *
 * <pre>{@code
 * Job job = Job.builder("encode-42")
 *         .reads(frame)
 *         .writes(bitstream)
 *         .work(Work.async(() -> encoder.start(frame, bitstream)))
 *         .build();
 * SubmittedJob s = encoderQueue.submit(job);
 * s.finished().await();
 * }</pre>
 *
 * <p>A buffer listed both as read and written is written. A job may be submitted more than once;
 * each submission is a separate run with its own fences.
 */
public final class Job {
    private final String name;
    private final List<HasReservation> reads;
    private final List<HasReservation> writes;
    private final List<Fence> dependencies;
    private final Work work;
    private final int credits;
    private final Duration timeout;           // null: the engine's
    private final boolean ignoreDependencyErrors;
    private final boolean pipelined;
    private final Runnable whileLocked;

    private Job(Builder b) {
        this.name = b.name;
        this.writes = List.copyOf(b.writes);
        List<HasReservation> onlyRead = new ArrayList<>();
        for (HasReservation r : b.reads) {
            if (!containsSame(writes, r) && !containsSame(onlyRead, r)) {
                onlyRead.add(r);
            }
        }
        this.reads = List.copyOf(onlyRead);
        this.dependencies = List.copyOf(b.dependencies);
        this.work = b.work;
        this.credits = b.credits;
        this.timeout = b.timeout;
        this.ignoreDependencyErrors = b.ignoreDependencyErrors;
        this.pipelined = b.pipelined;
        this.whileLocked = b.whileLocked;
    }

    private static boolean containsSame(List<HasReservation> list, HasReservation r) {
        for (HasReservation x : list) {
            if (x.reservation() == r.reservation()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts a description.
     *
     * @param name a name for diagnostics and traces
     * @return a builder
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * The name given at creation.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * The buffers the job only reads (a buffer also written is listed under {@link #writes()}).
     *
     * @return an immutable list
     */
    public List<HasReservation> reads() {
        return reads;
    }

    /**
     * The buffers the job writes.
     *
     * @return an immutable list
     */
    public List<HasReservation> writes() {
        return writes;
    }

    /**
     * The fences the job depends on besides those of its buffers.
     *
     * @return an immutable list
     */
    public List<Fence> dependencies() {
        return dependencies;
    }

    /**
     * The work to run.
     *
     * @return the work
     */
    public Work work() {
        return work;
    }

    /**
     * How many of the engine's credits the job takes while it runs.
     *
     * @return the credits, at least 1
     */
    public int credits() {
        return credits;
    }

    /**
     * The job's own timeout, or {@code null} to use the engine's.
     *
     * @return the timeout or {@code null}
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * Whether the job runs even if a dependency failed.
     *
     * @return {@code true} if dependency errors are ignored
     */
    public boolean ignoresDependencyErrors() {
        return ignoreDependencyErrors;
    }

    /**
     * Whether a dependency on a job of the same engine waits only until that job has started.
     *
     * @return {@code true} unless built with {@link Builder#noPipelining()}
     */
    public boolean pipelined() {
        return pipelined;
    }

    /**
     * What runs at submission while every buffer of the job is locked, before the job is armed.
     *
     * @return the action (a no-op by default)
     */
    public Runnable whileLocked() {
        return whileLocked;
    }

    @Override
    public String toString() {
        return "Job[" + name + ", reads=" + names(reads) + ", writes=" + names(writes) + "]";
    }

    static List<String> names(List<HasReservation> objects) {
        List<String> out = new ArrayList<>(objects.size());
        for (HasReservation o : objects) {
            out.add(o.reservation().name());
        }
        return out;
    }

    /** Builds a {@link Job}. */
    public static final class Builder {
        private final String name;
        private final List<HasReservation> reads = new ArrayList<>();
        private final List<HasReservation> writes = new ArrayList<>();
        private final List<Fence> dependencies = new ArrayList<>();
        private Work work;
        private int credits = 1;
        private Duration timeout;
        private boolean ignoreDependencyErrors;
        private boolean pipelined = true;
        private Runnable whileLocked = () -> { };

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * Adds buffers the job reads: it waits for their writers, and later writers wait for it.
         *
         * @param buffers the buffers
         * @return this builder
         */
        public Builder reads(HasReservation... buffers) {
            return reads(Arrays.asList(buffers));
        }

        /**
         * Adds buffers the job reads.
         *
         * @param buffers the buffers
         * @return this builder
         */
        public Builder reads(Collection<? extends HasReservation> buffers) {
            for (HasReservation b : buffers) {
                reads.add(Objects.requireNonNull(b, "buffer"));
            }
            return this;
        }

        /**
         * Adds buffers the job writes: it waits for their readers and writers, and every later
         * user waits for it.
         *
         * @param buffers the buffers
         * @return this builder
         */
        public Builder writes(HasReservation... buffers) {
            return writes(Arrays.asList(buffers));
        }

        /**
         * Adds buffers the job writes.
         *
         * @param buffers the buffers
         * @return this builder
         */
        public Builder writes(Collection<? extends HasReservation> buffers) {
            for (HasReservation b : buffers) {
                if (!containsSame(writes, b)) {
                    writes.add(Objects.requireNonNull(b, "buffer"));
                }
            }
            return this;
        }

        /**
         * Adds fences the job waits for besides those of its buffers. They must exist already; a
         * fence of the job's own entity that is not earlier than the job is refused at submission.
         *
         * @param fences the fences
         * @return this builder
         */
        public Builder dependsOn(Fence... fences) {
            for (Fence f : fences) {
                dependencies.add(Objects.requireNonNull(f, "fence"));
            }
            return this;
        }

        /**
         * Sets the work.
         *
         * @param work what the job does
         * @return this builder
         */
        public Builder work(Work work) {
            this.work = Objects.requireNonNull(work, "work");
            return this;
        }

        /**
         * Sets synchronous work; see {@link Work#sync(Runnable)}.
         *
         * @param body the work
         * @return this builder
         */
        public Builder run(Runnable body) {
            return work(Work.sync(body));
        }

        /**
         * Sets asynchronous work returning a fence; see {@link Work#async(Supplier)}.
         *
         * @param start starts the work
         * @return this builder
         */
        public Builder runAsync(Supplier<? extends Fence> start) {
            return work(Work.async(start));
        }

        /**
         * Sets asynchronous work returning a stage; see {@link Work#stage(Supplier)}.
         *
         * @param start starts the work
         * @return this builder
         */
        public Builder runStage(Supplier<? extends CompletionStage<?>> start) {
            return work(Work.stage(start));
        }

        /**
         * Sets how many of the engine's credits the job takes (default 1).
         *
         * @param credits at least 1, at most the engine's limit
         * @return this builder
         * @throws IllegalArgumentException if {@code credits} is less than 1
         */
        public Builder credits(int credits) {
            if (credits < 1) {
                throw new IllegalArgumentException("job " + name + ": credits must be at least 1, not " + credits);
            }
            this.credits = credits;
            return this;
        }

        /**
         * Overrides the engine's timeout for this job.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException if {@code timeout} is not positive
         */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("job " + name + ": timeout must be positive, not " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Runs the job even if a dependency signals with an error (by default the job does not run
         * and its fences carry a {@link DependencyFailedException}).
         *
         * @return this builder
         */
        public Builder ignoreDependencyErrors() {
            this.ignoreDependencyErrors = true;
            return this;
        }

        /**
         * Makes a dependency on a job of the same engine wait for that job to finish, not only to
         * start (the kernel's {@code DRM_SCHED_FENCE_DONT_PIPELINE}).
         *
         * @return this builder
         */
        public Builder noPipelining() {
            this.pipelined = false;
            return this;
        }

        /**
         * Runs {@code action} at submission while every buffer of the job is locked and before the
         * job is armed, as a driver validates its buffers (moves them, checks their size) between
         * locking them and committing the submission. If it throws, nothing is submitted, the
         * buffers are unlocked, and the exception propagates out of {@link Entity#submit(Job)}.
         *
         * @param action the validation; it runs on the submitting thread, once per submission
         * @return this builder
         */
        public Builder whileLocked(Runnable action) {
            this.whileLocked = Objects.requireNonNull(action, "action");
            return this;
        }

        /**
         * Creates the job.
         *
         * @return the job
         * @throws IllegalStateException if no work was set
         */
        public Job build() {
            if (work == null) {
                throw new IllegalStateException("job " + name + " has no work; call work(...), run(...),"
                        + " runAsync(...) or runStage(...)");
            }
            return new Job(this);
        }
    }
}
