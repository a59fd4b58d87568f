package dev.bufsync.cli.torture;

import dev.bufsync.buffer.Access;
import dev.bufsync.buffer.Attachment;
import dev.bufsync.buffer.SharedBuffer;
import dev.bufsync.exec.Exec;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceAbandonedException;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Reservation;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.Job;
import dev.bufsync.sched.JobCancelledException;
import dev.bufsync.sched.JobListener;
import dev.bufsync.sched.JobTimeoutException;
import dev.bufsync.sched.SubmittedJob;
import dev.bufsync.ww.WwClass;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The code around the library misbehaves and the library keeps its promises: a deep backlog
 * behind a hung job, listeners, executors, fence callbacks, failure reporters and log handlers
 * that throw, a device that drops its signaller, a buffer closed while a view is in use by I/O,
 * and a thread pool as the device. Each scenario states its promise and fails, naming it, if the
 * promise is broken; every wait is bounded.
 */
final class FaultSuite {
    private static final String SUITE = "faults";
    private static final int BACKLOG = 100_000;
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final Duration NEVER = Duration.ofHours(1);

    private FaultSuite() {
    }

    static List<Scenario> scenarios() {
        return List.of(
                scenario("backlog-release", run -> backlog(run, Ending.RELEASE)),
                scenario("backlog-close", run -> backlog(run, Ending.CLOSE)),
                scenario("backlog-timeout", run -> backlog(run, Ending.TIMEOUT)),
                scenario("throwing-listener", FaultSuite::throwingListener),
                scenario("throwing-executor", FaultSuite::throwingExecutor),
                scenario("throwing-reporter-and-log", FaultSuite::throwingReporterAndLog),
                scenario("throwing-fence-callback", FaultSuite::throwingFenceCallback),
                scenario("dropped-signaller", FaultSuite::droppedSignaller),
                scenario("buffer-close-in-use", FaultSuite::bufferCloseInUse),
                scenario("pool-one-writer", FaultSuite::poolOneWriter),
                scenario("exec-swallowed-backoff", FaultSuite::execSwallowedBackoff));
    }

    private static Scenario scenario(String name, Scenario.Body body) {
        return Scenario.of(SUITE, name, false, false, body);
    }

    /** A broken promise: the scenario fails with this message. */
    private static void require(boolean kept, String promise) {
        if (!kept) {
            throw new IllegalStateException("broken promise: " + promise);
        }
    }

    private static void awaitSignalled(Fence f, String promise) throws InterruptedException {
        require(f.await(PATIENCE), promise + " (" + f + " still pending after " + PATIENCE.toSeconds() + " s)");
    }

    /** An engine whose failure reporter counts what it is told instead of logging it. */
    private static Engine.Builder quiet(String name, AtomicLong reported) {
        return Engine.builder(name).timeout(NEVER).failureReporter((job, t) -> reported.incrementAndGet());
    }

    // ---------------------------------------------------------------- backlog behind a hung job

    private enum Ending { RELEASE, CLOSE, TIMEOUT }

    /**
     * A hundred thousand quick jobs finish behind one hung job and wait for their in-order signal;
     * then the hung job finishes, the engine closes, or the hung job times out. Every finished
     * fence must signal (no recursion, no stack overflow), and no job may stay pending.
     */
    private static Scenario.Outcome backlog(TortureRun run, Ending ending) throws Exception {
        AtomicLong reported = new AtomicLong();
        Engine engine = quiet("backlog-" + ending.name().toLowerCase(java.util.Locale.ROOT), reported)
                .credits(2).inOrder(false).build();
        try {
            Entity e = engine.newEntity("e");
            Signaller device = FenceContext.create("hung-device").next();
            Job.Builder head = Job.builder("hung").runAsync(device::fence);
            if (ending == Ending.TIMEOUT) {
                head.timeout(Duration.ofSeconds(2));
            }
            SubmittedJob hung = e.submit(head.build());
            CountDownLatch ran = new CountDownLatch(BACKLOG);
            Job quick = Job.builder("quick").run(ran::countDown).build();
            List<SubmittedJob> jobs = new ArrayList<>(BACKLOG);
            for (int i = 0; i < BACKLOG; i++) {
                jobs.add(e.submit(quick));
                if (i % 1000 == 0) {
                    run.tick();
                }
            }
            require(ran.await(PATIENCE.toSeconds(), TimeUnit.SECONDS), "every quick job behind the hung one runs");
            // A job's body returns before the engine records its work as finished; close cancels
            // what is still running then, so the ending waits for every record.
            awaitCount(() -> engine.stats().completed(), BACKLOG, "every quick job's work is recorded as finished");
            switch (ending) {
                case RELEASE -> device.signal();
                case CLOSE -> engine.close();
                case TIMEOUT -> { }
            }
            awaitSignalled(jobs.get(BACKLOG - 1).finished(), "the last job of the backlog finishes");
            long pending = jobs.stream().filter(j -> !j.finished().isSignaled()).count();
            require(pending == 0, "every finished fence of the backlog signals, " + pending + " pending");
            long failed = jobs.stream().filter(j -> j.finished().error() != null).count();
            require(failed == 0, "every quick job keeps its own outcome, " + failed + " failed");
            Throwable headError = hung.finished().error();
            switch (ending) {
                case RELEASE -> require(headError == null, "the released head succeeds, not " + headError);
                case CLOSE -> require(headError instanceof JobCancelledException, "close cancels the head, not " + headError);
                case TIMEOUT -> require(headError instanceof JobTimeoutException, "the head times out, not " + headError);
            }
            require(!engine.hasPendingJobs(), "no job pending afterwards");
            require(engine.stats().fencesPending() == 0, "no fence pending afterwards: " + engine.stats());
            require(reported.get() == 0, "nothing to report, but " + reported.get() + " failures were reported");
            run.tick();
            return Scenario.Outcome.passed(BACKLOG, 0);
        } finally {
            engine.close();
        }
    }

    // ---------------------------------------------------------------- throwing listeners and executors

    /**
     * A listener that throws in onSubmit, onStart and onFinish of every job: every submission
     * returns its job, every job runs and finishes, its credit comes back, every throwable is
     * reported.
     */
    private static Scenario.Outcome throwingListener(TortureRun run) throws Exception {
        int n = 200;
        AtomicLong reported = new AtomicLong();
        JobListener hostile = new JobListener() {
            @Override
            public void onSubmit(SubmittedJob job, int retries) {
                throw new IllegalStateException("onSubmit of " + job);
            }

            @Override
            public void onStart(SubmittedJob job) {
                throw new StackOverflowError("onStart of " + job);
            }

            @Override
            public void onFinish(SubmittedJob job) {
                throw new OutOfMemoryError("onFinish of " + job);
            }
        };
        try (Engine engine = quiet("throwing-listener", reported).credits(1).listener(hostile).build()) {
            Reservation buffer = new Reservation(run.newExactClass("throwing-listener"), "buffer");
            Entity e = engine.newEntity("e");
            AtomicInteger ran = new AtomicInteger();
            Job job = Job.builder("job").writes(buffer).run(ran::incrementAndGet).build();
            List<SubmittedJob> jobs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                jobs.add(e.submit(job));                    // must not throw: the fence is on the buffer
                run.tick();
            }
            awaitSignalled(jobs.get(n - 1).finished(), "every job finishes although the listener throws");
            require(ran.get() == n, "every job runs once, " + ran.get() + " of " + n + " ran");
            require(jobs.stream().allMatch(j -> j.finished().error() == null), "a listener's throwable fails no job");
            require(engine.stats().inFlight() == 0, "no job stays running: " + engine.stats());
            awaitCount(reported::get, 3L * n, "every listener throwable is reported");
            return Scenario.Outcome.passed(n, 0);
        }
    }

    /** Waits, up to PATIENCE, until {@code count} reaches {@code expected}; the promise fails if it does not. */
    private static void awaitCount(LongSupplier count, long expected, String promise) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (count.getAsLong() < expected && System.nanoTime() - deadline < 0) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        long reached = count.getAsLong();
        require(reached == expected, promise + ": " + reached + " of " + expected);
    }

    /**
     * Submits {@code n} jobs that do nothing, named {@code job-0} on, to a new entity {@code e} of
     * {@code engine}, ticking {@code run} after each submission, then waits for every one of them.
     *
     * @return the jobs in submission order, each finished (its fence signalled, with or without
     *         an error)
     * @throws IllegalStateException naming {@code promise} if a job is still pending after
     *         {@link #PATIENCE}
     */
    private static List<SubmittedJob> submitEmptyJobsAndAwait(Engine engine, int n, TortureRun run, String promise)
            throws InterruptedException {
        Entity e = engine.newEntity("e");
        List<SubmittedJob> jobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            jobs.add(e.submit(Job.builder("job-" + i).run(() -> { }).build()));
            run.tick();
        }
        for (SubmittedJob j : jobs) {
            awaitSignalled(j.finished(), promise);
        }
        return jobs;
    }

    /** A device error thrown by an executor. */
    private static final class DeviceError extends Error {
        DeviceError(String message) {
            super(message);
        }
    }

    /**
     * An executor that rejects every third job and throws an Error for every third other one: those
     * jobs fail with that throwable, the others run, and the engine is idle afterwards.
     */
    private static Scenario.Outcome throwingExecutor(TortureRun run) throws Exception {
        int n = 300;
        AtomicInteger calls = new AtomicInteger();
        AtomicLong reported = new AtomicLong();
        try (Engine engine = quiet("throwing-executor", reported).credits(2).executor(r -> {
            switch (calls.getAndIncrement() % 3) {
                case 0 -> throw new RejectedExecutionException("device queue full");
                case 1 -> throw new DeviceError("device fell off the bus");
                default -> r.run();
            }
        }).build()) {
            List<SubmittedJob> jobs = submitEmptyJobsAndAwait(engine, n, run,
                    "every job finishes although the executor throws");
            long rejected = jobs.stream().filter(j -> j.finished().error() instanceof RejectedExecutionException).count();
            long errors = jobs.stream().filter(j -> j.finished().error() instanceof DeviceError).count();
            long ok = jobs.stream().filter(j -> j.finished().error() == null).count();
            require(rejected == n / 3 && errors == n / 3 && ok == n / 3, "each job fails with what the executor"
                    + " threw for it, or runs: " + rejected + " rejected, " + errors + " errors, " + ok + " ran");
            require(!engine.hasPendingJobs() && engine.stats().inFlight() == 0, "the engine is idle: " + engine.stats());
            return Scenario.Outcome.passed(n, 0);
        }
    }

    /**
     * A listener, a failure reporter and the log handler behind it all throw: the engine's jobs
     * still finish in order, and nothing escapes to the submitter.
     */
    private static Scenario.Outcome throwingReporterAndLog(TortureRun run) throws Exception {
        int n = 100;
        Logger log = Logger.getLogger("dev.bufsync.sched");
        Handler throwing = new ThrowingHandler();
        boolean parents = log.getUseParentHandlers();
        log.addHandler(throwing);
        log.setUseParentHandlers(false);
        AtomicLong reports = new AtomicLong();
        try (Engine engine = Engine.builder("throwing-reporter").timeout(NEVER).listener(new JobListener() {
            @Override
            public void onFinish(SubmittedJob job) {
                throw new IllegalStateException("listener broke");
            }
        }).failureReporter((job, t) -> {
            reports.incrementAndGet();
            throw new IllegalStateException("reporter broke");
        }).build()) {
            List<SubmittedJob> jobs = submitEmptyJobsAndAwait(engine, n, run,
                    "every job finishes although listener, reporter and log handler throw");
            awaitCount(reports::get, n, "the reporter is told about every listener throwable");
            require(!engine.hasPendingJobs(), "no job pending afterwards");
            return Scenario.Outcome.passed(n, 0);
        } finally {
            log.removeHandler(throwing);
            log.setUseParentHandlers(parents);
        }
    }

    /**
     * Callbacks that throw a RuntimeException and an Error, a callback exception handler that
     * throws, and a log handler behind it that throws too: signal() returns normally, the other
     * callback runs, and a thread parked in await() wakes.
     */
    private static Scenario.Outcome throwingFenceCallback(TortureRun run) throws Exception {
        int n = 200;
        Logger log = Logger.getLogger("dev.bufsync.fence");
        Handler throwing = new ThrowingHandler();
        boolean parents = log.getUseParentHandlers();
        log.addHandler(throwing);
        log.setUseParentHandlers(false);
        AtomicLong handled = new AtomicLong();
        Fences.setCallbackExceptionHandler((f, t) -> {
            handled.incrementAndGet();
            throw new IllegalStateException("callback exception handler broke");
        });
        try {
            FenceContext context = FenceContext.create("throwing-callbacks");
            AtomicInteger ran = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                Signaller s = context.next();
                Fence f = s.fence();
                f.addCallback(x -> {
                    throw new IllegalStateException("callback broke");
                });
                f.addCallback(x -> {
                    throw new StackOverflowError("callback overflowed");
                });
                f.addCallback(x -> ran.incrementAndGet());
                CountDownLatch woke = new CountDownLatch(1);
                Thread waiter = run.newThread("waiter-" + i, () -> {
                    try {
                        if (f.await(PATIENCE)) {
                            woke.countDown();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                awaitParked(waiter);
                try {
                    s.signal();
                } catch (Throwable t) {
                    require(false, "signal() returns normally whatever the callbacks throw, but threw " + t);
                }
                require(ran.get() == i + 1, "the callback after two throwing ones runs");
                require(woke.await(PATIENCE.toSeconds(), TimeUnit.SECONDS), "a thread parked in await() wakes");
                run.tick();
            }
            require(handled.get() == 2L * n, "every callback throwable reaches the handler: " + handled.get()
                    + " of " + 2 * n);
            return Scenario.Outcome.passed(n, 0);
        } finally {
            Fences.setCallbackExceptionHandler(null);
            log.removeHandler(throwing);
            log.setUseParentHandlers(parents);
        }
    }

    /** Waits until {@code t} is parked (or has ended), so that a signal finds it waiting. */
    private static void awaitParked(Thread t) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (t.isAlive() && t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING) {
            require(System.nanoTime() - deadline < 0, t.getName() + " parks in await()");
            Thread.onSpinWait();
        }
    }

    /** A log handler that throws on every record. */
    private static final class ThrowingHandler extends Handler {
        @Override
        public void publish(LogRecord record) {
            throw new IllegalStateException("log handler broke");
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    // ---------------------------------------------------------------- dropped signaller

    /**
     * A device that drops its signaller: the job fails with FenceAbandonedException once the
     * garbage collector finds the signaller, long before its one-hour timeout.
     */
    private static Scenario.Outcome droppedSignaller(TortureRun run) throws Exception {
        AtomicLong abandoned = new AtomicLong();
        Fences.setAbandonedHandler(f -> abandoned.incrementAndGet());
        try (Engine engine = quiet("dropped-signaller", new AtomicLong()).build()) {
            SubmittedJob job = engine.newEntity("e").submit(Job.builder("forgotten")
                    .runAsync(() -> FenceContext.create("careless-device").next().fence()).build());
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            long rounds = 0;
            while (!job.finished().await(Duration.ofMillis(50)) && System.nanoTime() - deadline < 0) {
                System.gc();
                rounds++;
                run.tick();
            }
            require(job.finished().isSignaled(), "a job whose device dropped its signaller fails before its timeout");
            require(job.finished().error() instanceof FenceAbandonedException,
                    "it fails with FenceAbandonedException, not " + job.finished().error());
            return Scenario.Outcome.passed(rounds + 1, 0);
        } finally {
            Fences.setAbandonedHandler(null);
        }
    }

    // ---------------------------------------------------------------- buffer close while in use

    /**
     * A view of a buffer is the target of a pending NIO read: the close throws, naming the buffer,
     * and changes nothing (still closing, memory and attachment intact); after the read, a second
     * close frees the memory, and a third does nothing.
     */
    private static Scenario.Outcome bufferCloseInUse(TortureRun run) throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("nio-target", 64);
        Attachment nic = buf.attach("nic", Access.WRITE);
        MemorySegment view = nic.map();
        try (AsynchronousServerSocketChannel server = AsynchronousServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                AsynchronousSocketChannel client = AsynchronousSocketChannel.open()) {
            client.connect(server.getLocalAddress()).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            try (AsynchronousSocketChannel peer = server.accept().get(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                Future<Integer> read = client.read(view.asByteBuffer());
                run.tick();
                IllegalStateException refused = null;
                try {
                    buf.close();
                } catch (IllegalStateException e) {
                    refused = e;
                }
                require(refused != null && refused.getMessage().contains("nio-target"),
                        "a close while I/O holds a view throws, naming the buffer: " + refused);
                require(buf.isClosed() && nic.isAttached() && buf.attachments().size() == 1,
                        "the failed close leaves the buffer closing with its attachment: " + buf);
                view.set(ValueLayout.JAVA_BYTE, 8, (byte) 7);   // throws if the memory were freed
                peer.write(ByteBuffer.wrap(new byte[] {1, 2, 3})).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                require(read.get(PATIENCE.toSeconds(), TimeUnit.SECONDS) == 3, "the read completes");
            }
        }
        buf.close();
        require(!nic.isAttached() && buf.attachments().isEmpty(), "the retried close detaches: " + buf);
        boolean freed;
        try {
            view.get(ValueLayout.JAVA_BYTE, 0);
            freed = false;
        } catch (IllegalStateException expected) {
            freed = true;
        }
        require(freed, "the retried close frees the memory");
        buf.close();
        run.tick();
        return Scenario.Outcome.passed(3, 0);
    }

    // ---------------------------------------------------------------- one writer at a time

    /**
     * A thread pool as the device, two entities writing one buffer: never two writers at once
     * (an engine given an executor does not pipeline unless it says it is serial).
     */
    private static Scenario.Outcome poolOneWriter(TortureRun run) throws Exception {
        int n = 200;
        ExecutorService pool = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(run.threads(), r, "faults-pool");
            t.setDaemon(true);
            return t;
        });
        try (Engine engine = quiet("pool-one-writer", new AtomicLong()).credits(4).executor(pool).build()) {
            Reservation buffer = new Reservation(run.newExactClass("pool-one-writer"), "buffer");
            AtomicInteger writers = new AtomicInteger();
            AtomicInteger most = new AtomicInteger();
            Job write = Job.builder("write").writes(buffer).run(() -> {
                most.accumulateAndGet(writers.incrementAndGet(), Math::max);
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));   // widen the window
                writers.decrementAndGet();
            }).build();
            Entity a = engine.newEntity("a");
            Entity b = engine.newEntity("b");
            List<SubmittedJob> jobs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                jobs.add((i % 3 == 0 ? b : a).submit(write));
                run.tick();
            }
            for (SubmittedJob j : jobs) {
                awaitSignalled(j.finished(), "every writer finishes");
            }
            require(most.get() == 1, "one writer of a buffer at a time, but " + most.get() + " wrote at once");
            return Scenario.Outcome.passed(n, 0);
        } finally {
            pool.shutdownNow();
        }
    }

    // ---------------------------------------------------------------- a swallowed back-off

    /**
     * An exec body that catches RuntimeException around its locks, under real contention: an older
     * transaction holds the middle object (wait-die: the younger one must back off). The exec must
     * not return holding part of the set: untilAllLocked throws IllegalStateException naming the
     * rule, and close leaves nothing of it locked. Each round has a class of its own: a thread
     * takes its stamps in blocks, so in a class this thread had used before, a transaction it
     * begins after the holder's could still be the older one.
     */
    private static Scenario.Outcome execSwallowedBackoff(TortureRun run) throws Exception {
        int rounds = 20;
        long swallowed = 0;
        for (int r = 0; r < rounds; r++) {
            WwClass cls = WwClass.builder("exec-swallow-" + r).algorithm(WwClass.Algorithm.WAIT_DIE)
                    .injectBackoff(false).build();
            Reservation first = new Reservation(cls, "first");
            Reservation middle = new Reservation(cls, "middle");
            Reservation last = new Reservation(cls, "last");
            CountDownLatch olderHolds = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Thread older = run.newThread("older-" + r, () -> {
                try (Exec exec = Exec.begin()) {
                    exec.untilAllLocked(e -> e.lock(middle));
                    olderHolds.countDown();
                    release.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                require(olderHolds.await(PATIENCE.toSeconds(), TimeUnit.SECONDS), "the older transaction locks");
                AtomicInteger caught = new AtomicInteger();
                IllegalStateException refused = null;
                try (Exec exec = Exec.begin()) {
                    try {
                        exec.untilAllLocked(e -> {
                            try {
                                e.lock(first);
                                e.lock(middle);
                                e.lock(last);
                            } catch (RuntimeException hostile) {
                                caught.incrementAndGet();           // swallows the contention signal
                            }
                        });
                    } catch (IllegalStateException e) {
                        refused = e;
                    }
                    require(caught.get() > 0, "the younger transaction meets the older one's lock");
                    require(refused != null, "a body that swallowed the back-off does not return holding "
                            + exec.locked().size() + " of 3 objects");
                    require(refused.getMessage().contains("RuntimeException"), "the refusal names the rule: "
                            + refused.getMessage());
                }
                require(!first.isLocked() && !last.isLocked(), "the refused transaction leaves nothing locked");
                swallowed += caught.get();
                run.tick();
            } finally {
                release.countDown();
                older.join(PATIENCE.toMillis());
            }
        }
        return Scenario.Outcome.passed(rounds, swallowed);
    }
}
