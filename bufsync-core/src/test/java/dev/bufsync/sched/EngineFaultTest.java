package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.LogCapture;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceAbandonedException;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine keeps its promises when the code around it misbehaves: deep backlogs behind a hung
 * job, throwing listeners and executors, a device that drops its signaller, a thread pool as the
 * device, work that returns a later job's fence, a callback that blocks the thread timing out.
 */
class EngineFaultTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration NEVER = Duration.ofHours(1);
    private static final int BACKLOG = 100_000;

    private final List<Engine> engines = new ArrayList<>();
    private final List<Throwable> reported = new CopyOnWriteArrayList<>();
    private final WwClass buffers = WwClass.builder("sched-fault-test").algorithm(WwClass.Algorithm.WAIT_DIE)
            .injectBackoff(false).build();

    private Engine engine(Engine.Builder b) {
        Engine e = b.failureReporter((job, t) -> reported.add(t)).build();
        engines.add(e);
        return e;
    }

    @AfterEach
    void closeEngines() {
        engines.forEach(Engine::close);
    }

    private static void await(Fence f) throws InterruptedException {
        assertThat(f.await(WAIT)).as("%s signalled in time", f).isTrue();
    }

    /** A job whose work hands back a fence that signals only when the test says so. */
    private static Job hung(String name, Signaller device) {
        return Job.builder(name).runAsync(device::fence).build();
    }

    /** Submits {@code n} quick jobs; each counts {@code ran} down when its work has run. */
    private static List<SubmittedJob> backlog(Entity e, int n, CountDownLatch ran) throws InterruptedException {
        Job quick = Job.builder("quick").run(ran::countDown).build();
        List<SubmittedJob> jobs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            jobs.add(e.submit(quick));
        }
        return jobs;
    }

    private static void assertAllSignalledCleanly(List<SubmittedJob> jobs) {
        long pending = jobs.stream().filter(j -> !j.finished().isSignaled()).count();
        assertThat(pending).as("finished fences still pending").isZero();
        assertThat(jobs).allSatisfy(j -> assertThat(j.finished().error()).isNull());
    }

    // ---------------------------------------------------------------- item 1: backlogs

    /**
     * A hundred thousand finished jobs wait behind one hung job for their in-order signal; when it
     * finishes, every finished fence signals, without recursion (the old callback chain overflowed
     * the stack at about 10,000 jobs and left the rest pending).
     */
    @ParameterizedTest(name = "inOrder={0}")
    @ValueSource(booleans = {false, true})
    void backlogBehindAHungJobSignalsWithoutRecursion(boolean inOrder) throws Exception {
        Engine engine = engine(Engine.builder("backlog").credits(2).inOrder(inOrder).timeout(NEVER));
        Entity e = engine.newEntity("e");
        Signaller device = FenceContext.create("hung-device").next();
        SubmittedJob head = e.submit(hung("head", device));
        CountDownLatch ran = new CountDownLatch(BACKLOG);
        List<SubmittedJob> jobs = backlog(e, BACKLOG, ran);
        assertThat(ran.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("every quick job ran").isTrue();
        assertThat(jobs.get(BACKLOG - 1).finished().isSignaled()).as("waits for the head, in order").isFalse();

        device.signal();

        await(jobs.get(BACKLOG - 1).finished());
        assertThat(head.finished().error()).isNull();
        assertAllSignalledCleanly(jobs);
        assertThat(engine.hasPendingJobs()).isFalse();
        assertThat(engine.stats().fencesPending()).isZero();
        assertThat(reported).isEmpty();
    }

    /**
     * The same backlog with one credit and work that runs and finishes inline (executor
     * {@code Runnable::run}): each finish starts the next job on the same stack. Dispatch requests
     * that arrive during a dispatch are served by the running pass's loop, not by recursion, so the
     * whole backlog finishes on one bounded stack once the head does.
     */
    @Test
    void inlineBacklogBehindAHungJobRunsWithoutRecursion() throws Exception {
        Engine engine = engine(Engine.builder("inline-backlog").credits(1).timeout(NEVER).executor(Runnable::run));
        Entity e = engine.newEntity("e");
        Signaller device = FenceContext.create("hung-inline-device").next();
        SubmittedJob head = e.submit(hung("head", device));
        CountDownLatch ran = new CountDownLatch(BACKLOG);
        List<SubmittedJob> jobs = backlog(e, BACKLOG, ran);
        assertThat(ran.getCount()).as("nothing runs while the head holds the only credit").isEqualTo(BACKLOG);

        device.signal();

        assertThat(ran.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("every quick job ran").isTrue();
        await(jobs.get(BACKLOG - 1).finished());
        assertThat(head.finished().error()).isNull();
        assertAllSignalledCleanly(jobs);
        assertThat(reported).isEmpty();
    }

    /**
     * Work finishing out of order on four threads at once: the drain still signals the entity's
     * finished fences strictly in sequence order, each once, callbacks included.
     */
    @Test
    void concurrentOutOfOrderCompletionsSignalInSequenceOrder() throws Exception {
        int n = 5_000;
        ExecutorService devices = Executors.newFixedThreadPool(4);
        try {
            Engine engine = engine(Engine.builder("drain").credits(16).inOrder(false).timeout(NEVER).executor(devices));
            Entity e = engine.newEntity("e");
            FenceContext hardware = FenceContext.create("hardware");
            List<Long> order = java.util.Collections.synchronizedList(new ArrayList<>());
            Job job = Job.builder("j").runAsync(() -> {
                Signaller done = hardware.next();
                devices.execute(done::signal);            // completes on another device thread, in any order
                return done.fence();
            }).build();
            List<SubmittedJob> jobs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                SubmittedJob s = e.submit(job);
                s.finished().whenSignaled(f -> order.add(f.seqno()));
                jobs.add(s);
            }
            await(jobs.get(n - 1).finished());
            List<Long> expected = jobs.stream().map(SubmittedJob::seqno).toList();
            assertThat(order).containsExactlyElementsOf(expected);
            assertAllSignalledCleanly(jobs);
        } finally {
            devices.shutdownNow();
        }
    }

    /** Closing an engine with such a backlog leaves no fence pending and no job unfinished. */
    @Test
    void closeWithABacklogLeavesNoPendingFence() throws Exception {
        Engine engine = engine(Engine.builder("close-backlog").credits(2).inOrder(false).timeout(NEVER));
        Entity e = engine.newEntity("e");
        Signaller device = FenceContext.create("hung-device").next();
        SubmittedJob head = e.submit(hung("head", device));
        CountDownLatch ran = new CountDownLatch(BACKLOG);
        List<SubmittedJob> jobs = backlog(e, BACKLOG, ran);
        assertThat(ran.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

        engine.close();

        assertThat(head.finished().error()).isInstanceOf(JobCancelledException.class);
        assertAllSignalledCleanly(jobs);              // their work had finished: their own outcome
        assertThat(engine.hasPendingJobs()).isFalse();
        assertThat(engine.stats().fencesPending()).isZero();
        device.signal();                               // late completion of cancelled work: ignored
        assertThat(head.finished().error()).isInstanceOf(JobCancelledException.class);
    }

    /** A hung head that times out lets every job behind it finish. */
    @Test
    void aHungHeadThatTimesOutReleasesTheBacklog() throws Exception {
        Engine engine = engine(Engine.builder("timeout-backlog").credits(2).inOrder(false).timeout(NEVER));
        Entity e = engine.newEntity("e");
        Signaller device = FenceContext.create("hung-device").next();
        SubmittedJob head = e.submit(Job.builder("head").runAsync(device::fence).timeout(Duration.ofSeconds(2)).build());
        CountDownLatch ran = new CountDownLatch(BACKLOG);
        List<SubmittedJob> jobs = backlog(e, BACKLOG, ran);

        await(jobs.get(BACKLOG - 1).finished());

        assertThat(head.finished().error()).isInstanceOf(JobTimeoutException.class);
        assertAllSignalledCleanly(jobs);
        assertThat(engine.hasPendingJobs()).isFalse();
        engine.close();
        assertThat(engine.hasPendingJobs()).isFalse();
        assertThat(engine.stats().fencesPending()).isZero();
    }

    /** Closing twice, an entity or an engine, is harmless. */
    @Test
    void closeIsIdempotent() throws Exception {
        Engine engine = engine(Engine.builder("idempotent"));
        Entity e = engine.newEntity("e");
        e.close();
        e.close();
        engine.close();
        engine.close();
        assertThat(engine.hasPendingJobs()).isFalse();
    }

    // ---------------------------------------------------------------- item 4: listeners, executors

    /** A listener that throws in onSubmit: the submission stands (its fence is on the buffer) and runs. */
    @Test
    void aThrowingOnSubmitNeitherFailsTheSubmissionNorStallsTheJob() throws Exception {
        Engine engine = engine(Engine.builder("on-submit").listener(new JobListener() {
            @Override
            public void onSubmit(SubmittedJob job, int retries) {
                throw new IllegalStateException("listener broke in onSubmit");
            }
        }));
        Reservation buf = new Reservation(buffers, "buf");
        AtomicReference<SubmittedJob> submitted = new AtomicReference<>();
        assertThatCode(() -> submitted.set(engine.newEntity("e").submit(Job.builder("w").writes(buf).run(() -> { })
                .build()))).doesNotThrowAnyException();
        await(submitted.get().finished());
        assertThat(submitted.get().finished().error()).isNull();
        assertThat(reported).singleElement().extracting(Throwable::getMessage).isEqualTo("listener broke in onSubmit");
    }

    /**
     * A listener that throws in onStart: the job still runs and is timed, returns its only credit,
     * and the next job runs (the old engine left it RUNNING with the credit and no timer).
     */
    @Test
    void aThrowingOnStartNeitherWedgesTheJobNorTheEngine() throws Exception {
        AtomicBoolean thrown = new AtomicBoolean();
        Engine engine = engine(Engine.builder("on-start").credits(1).timeout(NEVER).listener(new JobListener() {
            @Override
            public void onStart(SubmittedJob job) {
                if (thrown.compareAndSet(false, true)) {
                    throw new IllegalStateException("listener broke in onStart");
                }
            }
        }));
        Entity e = engine.newEntity("e");
        SubmittedJob first = e.submit(Job.builder("first").run(() -> { }).build());
        SubmittedJob second = e.submit(Job.builder("second").run(() -> { }).build());
        await(second.finished());
        assertThat(first.finished().error()).isNull();
        assertThat(second.finished().error()).isNull();
        assertThat(engine.stats().inFlight()).isZero();
        assertThat(reported).singleElement().extracting(Throwable::getMessage).isEqualTo("listener broke in onStart");
    }

    /** A job whose onStart threw still has its timer: hung work times out instead of holding the credit. */
    @Test
    void aThrowingOnStartLeavesNoJobWithoutItsTimer() throws Exception {
        Engine engine = engine(Engine.builder("on-start-timer").credits(1).timeout(NEVER).listener(throwingOnStart()));
        Signaller never = FenceContext.create("never").next();
        Entity e = engine.newEntity("e");
        SubmittedJob hung = e.submit(Job.builder("hung").runAsync(never::fence).timeout(Duration.ofMillis(100)).build());
        SubmittedJob next = e.submit(Job.builder("next").run(() -> { }).build());
        await(hung.finished());
        assertThat(hung.finished().error()).isInstanceOf(JobTimeoutException.class);
        await(next.finished());
        assertThat(next.finished().error()).isNull();
    }

    /** A listener that throws in onFinish (and a reporter that throws too): every fence signals, in order. */
    @Test
    void aThrowingOnFinishAndReporterLoseNoFence() throws Exception {
        CountDownLatch told = new CountDownLatch(3);
        Engine engine = Engine.builder("on-finish").timeout(NEVER).listener(new JobListener() {
            @Override
            public void onFinish(SubmittedJob job) {
                throw new IllegalStateException("listener broke in onFinish");
            }
        }).failureReporter((job, t) -> {
            reported.add(t);
            told.countDown();
            throw new IllegalStateException("reporter broke too");
        }).build();
        engines.add(engine);
        Entity e = engine.newEntity("e");
        List<SubmittedJob> jobs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            jobs.add(e.submit(Job.builder("j" + i).run(() -> { }).build()));
        }
        await(jobs.get(2).finished());
        assertAllSignalledCleanly(jobs);
        assertThat(told.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("every onFinish failure reported").isTrue();
        assertThat(reported).hasSize(3);
        assertThat(engine.hasPendingJobs()).isFalse();
    }

    /**
     * A throwable after arming (here a buffer that breaks its contract and hands out another
     * reservation when the fence is published): the submitter gets it, and the fence already
     * published on the other buffer signals with it instead of staying pending for ever.
     */
    @Test
    void aThrowableWhilePublishingFailsTheArmedJobsFences() throws Exception {
        Engine engine = engine(Engine.builder("publish").timeout(NEVER));
        Reservation good = new Reservation(buffers, "good");
        AtomicInteger callsAfterLocking = new AtomicInteger();
        Job job = failsWhilePublishing(good, callsAfterLocking);
        assertThatThrownBy(() -> engine.newEntity("e").submit(job)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("impostor");
        assertThat(callsAfterLocking.get()).as("the impostor came when publishing").isGreaterThanOrEqualTo(2);
        assertThat(good.fences(Usage.BOOKKEEP)).as("the fence published on the first buffer is not pending")
                .allSatisfy(f -> assertThat(f.isSignaled()).isTrue());
        assertThat(engine.hasPendingJobs()).isFalse();
        assertThat(engine.stats().fencesPending()).isZero();
        assertThat(engine.stats().failed()).isEqualTo(1);
    }

    /**
     * The scheduled fence of a job failed while publishing signals too, with the same throwable:
     * held in its entity's books behind a hung job, it is what a pipelined reader of the buffer
     * waits for, and that reader fails instead of waiting for ever.
     */
    @Test
    void aThrowableWhilePublishingSignalsTheScheduledFenceToo() throws Exception {
        Engine engine = engine(Engine.builder("publish-scheduled").timeout(NEVER));
        Signaller device = FenceContext.create("hung-device").next();
        Entity e = engine.newEntity("e");
        e.submit(hung("head", device));                  // keeps the failed job in e's books
        Reservation good = new Reservation(buffers, "good");
        assertThatThrownBy(() -> e.submit(failsWhilePublishing(good, new AtomicInteger())))
                .isInstanceOf(IllegalStateException.class);
        SubmittedJob reader = engine.newEntity("r").submit(Job.builder("reader").reads(good).run(() -> { }).build());
        assertThat(reader.dependencies()).as("the failed job's scheduled fence").singleElement().satisfies(f -> {
            assertThat(f.isSignaled()).isTrue();
            assertThat(f.error()).isInstanceOf(IllegalStateException.class).hasMessageContaining("impostor");
        });
        await(reader.finished());
        assertThat(reader.finished().error()).isInstanceOf(DependencyFailedException.class);
        device.signal();
    }

    /**
     * A job writing {@code good} and a buffer that breaks its contract: once locked, it hands out
     * another reservation, unlocked, so publishing the job's fence on it throws.
     * {@code callsAfterLocking} counts its calls from the validation on.
     */
    private Job failsWhilePublishing(Reservation good, AtomicInteger callsAfterLocking) {
        Reservation flakyOwn = new Reservation(buffers, "flaky");
        Reservation impostor = new Reservation(buffers, "impostor");
        AtomicBoolean locked = new AtomicBoolean();
        HasReservation flaky = () -> locked.get() && callsAfterLocking.incrementAndGet() > 1 ? impostor : flakyOwn;
        return Job.builder("publish").writes(good, flaky).whileLocked(() -> locked.set(true)).run(() -> { }).build();
    }

    /**
     * The entity closes while its job is being published (here by the buffer, as it is asked for
     * its reservation): the job is refused when queued and cancelled before submit returns, not
     * left in a queue nobody dispatches.
     */
    @Test
    void aCloseWhilePublishingCancelsTheJob() throws Exception {
        Engine engine = engine(Engine.builder("close-publish").timeout(NEVER));
        Entity e = engine.newEntity("e");
        Reservation own = new Reservation(buffers, "closing");
        AtomicBoolean locked = new AtomicBoolean();
        AtomicInteger callsAfterLocking = new AtomicInteger();
        HasReservation closing = () -> {
            if (locked.get() && callsAfterLocking.incrementAndGet() == 2) {   // publishing: armed by now
                e.close();
            }
            return own;
        };
        AtomicBoolean ran = new AtomicBoolean();
        SubmittedJob s = e.submit(Job.builder("late").writes(closing).whileLocked(() -> locked.set(true))
                .run(() -> ran.set(true)).build());
        assertThat(s.finished().isSignaled()).as("cancelled before submit returned").isTrue();
        assertThat(s.finished().error()).isInstanceOf(JobCancelledException.class)
                .hasMessageContaining("entity e or engine close-publish closed");
        assertThat(s.scheduled().error()).isInstanceOf(JobCancelledException.class);
        assertThat(engine.stats().cancelled()).isEqualTo(1);
        assertThat(engine.hasPendingJobs()).isFalse();
        assertThat(ran).isFalse();
    }

    /**
     * A timeout too long for a long of nanoseconds (ChronoUnit.FOREVER's) means no timeout: the
     * old engine failed every job that outlived its start with an ArithmeticException.
     */
    @Test
    void aTimeoutBeyondLongNanosecondsNeverExpires() throws Exception {
        Engine engine = engine(Engine.builder("forever").timeout(ChronoUnit.FOREVER.getDuration()).executor(Runnable::run));
        Signaller device = FenceContext.create("device").next();
        SubmittedJob s = engine.newEntity("e").submit(Job.builder("long").runAsync(device::fence).build());
        assertThat(s.finished().isSignaled()).as("still running: %s", s.finished().error()).isFalse();
        device.signal();
        assertThat(s.finished().isSignaled()).isTrue();
        assertThat(s.finished().error()).isNull();
    }

    /** Work the executor gets round to only after its job was cancelled does not run. */
    @Test
    void workOfAJobCancelledBeforeTheExecutorRanItNeverRuns() throws Exception {
        Queue<Runnable> handedOver = new ConcurrentLinkedQueue<>();
        Engine engine = engine(Engine.builder("late-executor").timeout(NEVER).executor(handedOver::add));
        AtomicBoolean ran = new AtomicBoolean();
        SubmittedJob s = engine.newEntity("e").submit(Job.builder("cancelled").run(() -> ran.set(true)).build());
        assertThat(s.scheduled().isSignaled()).isTrue();
        engine.close();
        assertThat(s.finished().error()).isInstanceOf(JobCancelledException.class);
        assertThat(handedOver).hasSize(1);
        handedOver.poll().run();
        assertThat(ran).as("the work of the cancelled job ran").isFalse();
    }

    /** The default failure reporter logs the throwable with the job it concerns. */
    @Test
    void theDefaultReporterLogsTheFailureWithItsJob() throws Exception {
        try (LogCapture log = LogCapture.of("dev.bufsync.sched")) {
            Engine engine = Engine.builder("default-reporter").timeout(NEVER).executor(Runnable::run)
                    .listener(throwingOnStart()).build();
            engines.add(engine);
            SubmittedJob s = engine.newEntity("e").submit(Job.builder("logged").run(() -> { }).build());
            assertThat(s.finished().error()).isNull();
            assertThat(log.records()).singleElement().satisfies(r -> {
                assertThat(r.getMessage()).startsWith("job logged (e #")
                        .endsWith("running): a listener, executor or fence callback threw; the engine carries on");
                assertThat(r.getThrown()).hasMessage("listener broke in onStart");
            });
        }
    }

    /** A failure reporter that throws: the engine logs the failure with its job, then the reporter's throwable. */
    @Test
    void aThrowingReporterIsLoggedWithTheFailure() throws Exception {
        try (LogCapture log = LogCapture.of("dev.bufsync.sched")) {
            Engine engine = Engine.builder("reporter-throws").timeout(NEVER).executor(Runnable::run)
                    .listener(throwingOnStart()).failureReporter((job, t) -> {
                        throw new IllegalStateException("reporter broke");
                    }).build();
            engines.add(engine);
            SubmittedJob s = engine.newEntity("e").submit(Job.builder("j").run(() -> { }).build());
            assertThat(s.finished().error()).isNull();
            assertThat(log.records()).hasSize(2);
            assertThat(log.records().get(0).getMessage()).startsWith("job j (e #").contains("a listener, executor");
            assertThat(log.records().get(0).getThrown()).hasMessage("listener broke in onStart");
            assertThat(log.records().get(1).getMessage()).isEqualTo("engine reporter-throws: the failure reporter threw");
            assertThat(log.records().get(1).getThrown()).hasMessage("reporter broke");
        }
    }

    private static JobListener throwingOnStart() {
        return new JobListener() {
            @Override
            public void onStart(SubmittedJob job) {
                throw new IllegalStateException("listener broke in onStart");
            }
        };
    }

    /** An executor that rejects fails that job with the rejection; the engine carries on. */
    @Test
    void aRejectingExecutorFailsTheJobAndTheEngineCarriesOn() throws Exception {
        AtomicBoolean rejected = new AtomicBoolean();
        Engine engine = engine(Engine.builder("reject").timeout(NEVER).executor(r -> {
            if (rejected.compareAndSet(false, true)) {
                throw new RejectedExecutionException("queue full");
            }
            r.run();
        }));
        Entity e = engine.newEntity("e");
        SubmittedJob first = e.submit(Job.builder("first").run(() -> { }).build());
        SubmittedJob second = e.submit(Job.builder("second").run(() -> { }).build());
        await(second.finished());
        assertThat(first.finished().error()).isInstanceOf(RejectedExecutionException.class).hasMessage("queue full");
        assertThat(second.finished().error()).isNull();
        assertThat(engine.stats().inFlight()).isZero();
    }

    /** A device error, thrown by the executor. */
    static final class DeviceError extends Error {
        DeviceError(String message) {
            super(message);
        }
    }

    /**
     * An executor that throws an Error fails that job with it; the submitter is not hit and the
     * next job runs (the old engine let the Error out of submit, the job RUNNING without a timer).
     */
    @Test
    void anExecutorThrowingAnErrorFailsTheJobAndTheEngineCarriesOn() throws Exception {
        AtomicBoolean thrown = new AtomicBoolean();
        Engine engine = engine(Engine.builder("error").credits(1).timeout(NEVER).executor(r -> {
            if (thrown.compareAndSet(false, true)) {
                throw new DeviceError("device fell off the bus");
            }
            r.run();
        }));
        Entity e = engine.newEntity("e");
        AtomicReference<SubmittedJob> first = new AtomicReference<>();
        assertThatCode(() -> first.set(e.submit(Job.builder("first").run(() -> { }).build())))
                .doesNotThrowAnyException();
        SubmittedJob second = e.submit(Job.builder("second").run(() -> { }).build());
        await(second.finished());
        assertThat(first.get().finished().error()).isInstanceOf(DeviceError.class);
        assertThat(second.finished().error()).isNull();
        assertThat(engine.hasPendingJobs()).isFalse();
    }

    // ---------------------------------------------------------------- item 5: dropped signaller

    /**
     * A device that drops its signaller: the engine keeps the work's fence reachable, so the reaper
     * abandons it and the job fails promptly, not at its timeout (an hour here).
     */
    @Test
    void aDroppedSignallerFailsTheJobPromptly() throws Exception {
        Engine engine = engine(Engine.builder("dropped").timeout(NEVER));
        SubmittedJob job = engine.newEntity("e").submit(Job.builder("forgotten")
                .runAsync(() -> FenceContext.create("careless-device").next().fence()).build());
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!job.finished().await(Duration.ofMillis(50)) && System.nanoTime() - deadline < 0) {
            System.gc();
        }
        assertThat(job.finished().isSignaled()).as("abandoned before its timeout").isTrue();
        assertThat(job.finished().error()).isInstanceOf(FenceAbandonedException.class);
    }

    // ---------------------------------------------------------------- item 7: one writer at a time

    /**
     * With a thread pool as the device, two jobs writing one buffer never run at once, whether
     * they come from one entity or two (the old engine assumed a serial device and ran two).
     * Each writer waits a little for a second one to show up, so an overlap cannot go unseen.
     */
    @Test
    void aThreadPoolNeverRunsTwoWritersOfOneBuffer() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Engine engine = engine(Engine.builder("pool").credits(4).timeout(NEVER).executor(pool));
            Reservation buf = new Reservation(buffers, "buf");
            AtomicInteger writers = new AtomicInteger();
            AtomicInteger most = new AtomicInteger();
            CountDownLatch overlap = new CountDownLatch(1);
            Job write = Job.builder("write").writes(buf).run(() -> {
                int now = writers.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                if (now > 1) {
                    overlap.countDown();
                }
                try {
                    overlap.await(300, TimeUnit.MILLISECONDS);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                } finally {
                    writers.decrementAndGet();
                }
            }).build();
            Entity a = engine.newEntity("a");
            Entity b = engine.newEntity("b");
            List<SubmittedJob> jobs = List.of(a.submit(write), a.submit(write), b.submit(write), a.submit(write),
                    b.submit(write));
            for (SubmittedJob j : jobs) {
                await(j.finished());
            }
            assertThat(most.get()).as("most writers of one buffer at once").isEqualTo(1);
            assertAllSignalledCleanly(jobs);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The engine's own device thread is serial: pipelining stays on by default. */
    @Test
    void pipeliningStaysOnForTheOwnDeviceThreadOnly() throws Exception {
        Reservation buf = new Reservation(buffers, "buf");
        Signaller device = FenceContext.create("device").next();
        Engine own = engine(Engine.builder("own").credits(2).timeout(NEVER));
        SubmittedJob writer = own.newEntity("w").submit(Job.builder("w").writes(buf).runAsync(device::fence).build());
        SubmittedJob reader = own.newEntity("r").submit(Job.builder("r").reads(buf).run(() -> { }).build());
        assertThat(reader.dependencies()).containsExactly(writer.scheduled());
        Engine pooled = engine(Engine.builder("pooled").credits(2).timeout(NEVER).executor(Runnable::run));
        Reservation other = new Reservation(buffers, "other");
        SubmittedJob w2 = pooled.newEntity("w").submit(Job.builder("w").writes(other).runAsync(device::fence).build());
        SubmittedJob r2 = pooled.newEntity("r").submit(Job.builder("r").reads(other).run(() -> { }).build());
        assertThat(r2.dependencies()).containsExactly(w2.finished());
        device.signal();
        await(reader.finished());
        await(r2.finished());
    }

    // ---------------------------------------------------------------- item 10: a later job's fence

    /**
     * Work that hands back the finished fence of a job of another entity submitted after it (which
     * waits for it) is refused; the old engine waited until the timeout.
     */
    @Test
    void workReturningALaterJobsFenceOfAnotherEntityFails() throws Exception {
        Engine engine = engine(Engine.builder("later").credits(2).timeout(NEVER));
        Signaller gate = FenceContext.create("gate").next();
        AtomicReference<SubmittedJob> later = new AtomicReference<>();
        SubmittedJob first = engine.newEntity("a").submit(Job.builder("first").dependsOn(gate.fence())
                .runAsync(() -> later.get().finished()).build());
        later.set(engine.newEntity("b").submit(Job.builder("second").dependsOn(first.finished()).noPipelining()
                .run(() -> { }).build()));
        gate.signal();
        await(first.finished());
        assertThat(first.finished().error()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("first").hasMessageContaining("submitted after it");
        await(later.get().finished());
        assertThat(later.get().finished().error()).isInstanceOf(DependencyFailedException.class);
    }

    /** An earlier job's fence of another entity is a fine thing for work to wait for. */
    @Test
    void workReturningAnEarlierJobsFenceOfAnotherEntityWaitsForIt() throws Exception {
        Engine engine = engine(Engine.builder("earlier").credits(2).timeout(NEVER));
        Signaller device = FenceContext.create("device").next();
        SubmittedJob earlier = engine.newEntity("a").submit(hung("earlier", device));
        SubmittedJob waiter = engine.newEntity("b").submit(Job.builder("waiter").runAsync(earlier::finished).build());
        assertThat(waiter.finished().await(Duration.ofMillis(50))).isFalse();
        device.signal();
        await(waiter.finished());
        assertThat(waiter.finished().error()).isNull();
    }

    // ---------------------------------------------------------------- suspected: the timer thread

    /**
     * A callback that blocks on a timed-out job's fence does not hold up the timeouts of another
     * engine (the old engine ran it on the single timer thread, which then timed nothing out).
     */
    @Test
    void aBlockingTimeoutCallbackDelaysNoOtherTimeout() throws Exception {
        Engine slow = engine(Engine.builder("slow").timeout(NEVER));
        Engine other = engine(Engine.builder("other").timeout(NEVER));
        Signaller stuck = FenceContext.create("stuck").next();
        Signaller alsoStuck = FenceContext.create("also-stuck").next();
        CountDownLatch blocking = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        SubmittedJob x = slow.newEntity("x").submit(Job.builder("x").runAsync(stuck::fence)
                .timeout(Duration.ofSeconds(2)).build());
        assertThat(x.finished().addCallback(f -> {
            blocking.countDown();
            try {
                release.await(2 * WAIT.toSeconds(), TimeUnit.SECONDS);   // longer than the test waits for y
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })).as("registered before the timeout").isTrue();
        try {
            assertThat(blocking.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            SubmittedJob y = other.newEntity("y").submit(Job.builder("y").runAsync(alsoStuck::fence)
                    .timeout(Duration.ofMillis(100)).build());
            await(y.finished());
            assertThat(y.finished().error()).isInstanceOf(JobTimeoutException.class);
        } finally {
            release.countDown();
        }
        await(x.finished());
    }
}
