package dev.bufsync.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.LogCapture;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The kernel's drm_sched KUnit suite (drivers/gpu/drm/scheduler/tests/tests_basic.c) with a mock
 * device whose jobs finish when the test says so, plus the rules of submission.
 */
class EngineTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    /** A device whose work finishes when the test advances it, like the kernel's mock scheduler. */
    static final class MockDevice {
        private final FenceContext hardware = FenceContext.create("mock-hw");
        final ConcurrentLinkedQueue<Signaller> running = new ConcurrentLinkedQueue<>();
        final List<String> started = new CopyOnWriteArrayList<>();

        Work work(String name) {
            return job -> {
                started.add(name);
                Signaller s = hardware.next();
                running.add(s);
                return s.fence();
            };
        }

        /** Finishes the oldest running job's work; false if none runs. */
        boolean advance() {
            Signaller s = running.poll();
            if (s == null) {
                return false;
            }
            s.signal();
            return true;
        }

        void awaitRunning(int n) {
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (running.size() < n) {
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("timed out waiting for " + n + " running jobs; running " + running.size());
                }
                Thread.onSpinWait();
            }
        }

        void finishAll() {
            Signaller s;
            while ((s = running.poll()) != null) {
                s.trySignal();
            }
        }
    }

    private final MockDevice device = new MockDevice();
    private final List<Engine> engines = new ArrayList<>();
    private final WwClass buffers = WwClass.builder("sched-test").algorithm(WwClass.Algorithm.WAIT_DIE)
            .injectBackoff(false).build();

    private Engine engine(String name, int credits) {
        Engine e = Engine.builder(name).credits(credits).timeout(Duration.ofSeconds(30)).build();
        engines.add(e);
        return e;
    }

    @AfterEach
    void closeEngines() {
        device.finishAll();
        engines.forEach(Engine::close);
    }

    private Job job(String name) {
        return Job.builder(name).work(device.work(name)).build();
    }

    static void await(Fence f) throws InterruptedException {
        assertThat(f.await(WAIT)).as("%s signalled in time", f).isTrue();
    }

    // ---------------------------------------------------------------- drm_sched_basic_tests

    /** drm_sched_basic_submit: one job is scheduled, runs, and finishes when the device advances. */
    @Test
    void singleSubmit() throws Exception {
        Entity entity = engine("basic", 1).newEntity("e");
        SubmittedJob s = entity.submit(job("one"));
        await(s.scheduled());
        device.awaitRunning(1);
        assertThat(s.finished().isSignaled()).isFalse();
        assertThat(entity.engine().stats().fencesPending()).as("both fences, until the job retires").isEqualTo(2);
        assertThat(device.advance()).isTrue();
        await(s.finished());
        assertThat(s.finished().error()).isNull();
        assertThat(s.seqno()).isEqualTo(s.scheduled().seqno());
        EngineStats stats = entity.engine().stats();
        assertThat(stats.submitted()).isEqualTo(1);
        assertThat(stats.completed()).isEqualTo(1);
        assertThat(stats.fencesPending()).isZero();
    }

    /**
     * drm_sched_basic_test: queue depth 100 over 1 or 4 entities, with or without a dependency
     * chain across entities; every job finishes, and a chained job never starts before its
     * predecessor finished.
     */
    @ParameterizedTest(name = "entities={0}, chain={1}")
    @CsvSource({"1,false", "1,true", "4,false", "4,true"})
    void hundredJobs(int entityCount, boolean chain) throws Exception {
        Engine engine = Engine.builder("basic").credits(4).executor(Runnable::run).build();
        engines.add(engine);
        List<Entity> entities = new ArrayList<>();
        for (int i = 0; i < entityCount; i++) {
            entities.add(engine.newEntity("e" + i));
        }
        List<SubmittedJob> jobs = new ArrayList<>();
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        SubmittedJob previous = null;
        for (int i = 0; i < 100; i++) {
            final int n = i;
            final SubmittedJob before = previous;
            Job.Builder b = Job.builder("job-" + i).run(() -> {
                if (chain && before != null && !before.finished().isSignaled()) {
                    throw new AssertionError("job-" + n + " ran before its dependency finished");
                }
                order.add(n);
            });
            if (chain && previous != null) {
                b.dependsOn(previous.finished()).noPipelining();
            }
            previous = entities.get(i % entityCount).submit(b.build());
            jobs.add(previous);
        }
        for (SubmittedJob j : jobs) {
            await(j.finished());
            assertThat(j.finished().error()).as(j.name()).isNull();
        }
        assertThat(order).hasSize(100);
        if (chain || entityCount == 1) {
            List<Integer> sorted = new ArrayList<>(order);
            Collections.sort(sorted);
            assertThat(order).isEqualTo(sorted);
        }
        assertThat(engine.stats().completed()).isEqualTo(100);
    }

    /**
     * drm_sched_basic_entity_cleanup: with half of a 100-job chained queue still pending, closing
     * the entity cancels the rest, and every fence signals.
     */
    @Test
    void entityCleanupCancelsPending() throws Exception {
        Entity entity = engine("cleanup", 1).newEntity("e");
        List<SubmittedJob> jobs = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            jobs.add(entity.submit(job("job-" + i)));
        }
        for (int i = 0; i < 50; i++) {
            device.awaitRunning(1);
            device.advance();
        }
        await(jobs.get(49).finished());
        device.awaitRunning(1);
        entity.close();
        device.finishAll();
        for (int i = 0; i < 100; i++) {
            SubmittedJob j = jobs.get(i);
            await(j.finished());
            await(j.scheduled());
            if (i < 50) {
                assertThat(j.finished().error()).as(j.name()).isNull();
            } else if (i > 50) {
                assertThat(j.finished().error()).as(j.name()).isInstanceOf(JobCancelledException.class)
                        .hasMessageContaining("entity e closed");
                assertThat(j.scheduled().error()).isInstanceOf(JobCancelledException.class);
            }
        }
        assertThatThrownBy(() -> entity.submit(job("late"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("entity e is closed");
    }

    /** drm_sched_basic_cancel: closing the engine cancels queued and running jobs (-ECANCELED). */
    @Test
    void engineCloseCancelsEverything() throws Exception {
        Engine engine = engine("cancel", 1);
        Entity entity = engine.newEntity("e");
        SubmittedJob running = entity.submit(job("running"));
        SubmittedJob queued = entity.submit(job("queued"));
        device.awaitRunning(1);
        engine.close();
        await(running.finished());
        await(queued.finished());
        assertThat(running.finished().error()).isInstanceOf(JobCancelledException.class);
        assertThat(queued.finished().error()).isInstanceOf(JobCancelledException.class)
                .hasMessageContaining("engine cancel closed");
        assertThat(engine.stats().cancelled()).isEqualTo(2);
        assertThat(engine.stats().queued()).as("the queues emptied").isZero();
        device.advance();                         // the device finishing late changes nothing
        assertThat(running.finished().error()).isInstanceOf(JobCancelledException.class);
        assertThat(engine.stats().completed()).isZero();
        assertThatThrownBy(() -> entity.submit(job("late"))).isInstanceOf(IllegalStateException.class)
                .hasMessage("engine cancel is closed; cannot submit");
        assertThatThrownBy(() -> engine.newEntity("late")).isInstanceOf(IllegalStateException.class)
                .hasMessage("engine cancel is closed");
    }

    /**
     * The running jobs are a list linked through the jobs: one finished from the middle leaves
     * the others counted, and closing the engine still cancels exactly those.
     */
    @Test
    void runningJobFinishedFromTheMiddle() throws Exception {
        Engine engine = engine("middle", 3);
        Entity entity = engine.newEntity("e");
        SubmittedJob first = entity.submit(job("first"));
        SubmittedJob middle = entity.submit(job("middle"));
        SubmittedJob last = entity.submit(job("last"));
        device.awaitRunning(3);
        assertThat(engine.stats().inFlight()).isEqualTo(3);
        Signaller firstWork = device.running.poll();
        Signaller middleWork = device.running.poll();
        middleWork.signal();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (engine.stats().inFlight() != 2) {                // middle's credits come back
            assertThat(System.nanoTime() - deadline).as("middle job released").isNegative();
            Thread.onSpinWait();
        }
        engine.close();
        await(last.finished());
        assertThat(first.finished().error()).isInstanceOf(JobCancelledException.class);
        assertThat(middle.finished().error()).isNull();
        assertThat(last.finished().error()).isInstanceOf(JobCancelledException.class);
        assertThat(engine.stats().cancelled()).isEqualTo(2);
        assertThat(engine.stats().inFlight()).isZero();
        firstWork.signal();                                     // finishing late changes nothing
        assertThat(first.finished().error()).isInstanceOf(JobCancelledException.class);
    }

    /** A job's start time is its scheduled fence's signal time: one clock read for both. */
    @Test
    void startTimeIsTheScheduledFencesSignalTime() throws Exception {
        Entity entity = engine("start-time", 1).newEntity("e");
        SubmittedJob s = entity.submit(job("timed"));
        await(s.scheduled());
        device.awaitRunning(1);
        device.advance();
        await(s.finished());
        assertThat(s.startNanos()).isNotZero().isEqualTo(s.scheduled().timestamp());
    }

    /**
     * drm_sched_basic_timeout: a job that runs past its timeout finishes with a timeout error and
     * the engine carries on with the next job.
     */
    @Test
    void timeoutFinishesTheJobAndTheEngineCarriesOn() throws Exception {
        Engine engine = engine("timeout", 1);
        Entity entity = engine.newEntity("e");
        SubmittedJob stuck = entity.submit(Job.builder("stuck").work(device.work("stuck"))
                .timeout(Duration.ofMillis(200)).build());
        SubmittedJob next = entity.submit(job("next"));
        await(stuck.finished());
        assertThat(stuck.finished().error()).isInstanceOf(JobTimeoutException.class)
                .hasMessageContaining("stuck").hasMessageContaining("200 ms");
        device.awaitRunning(2);
        device.advance();                         // the stuck work finishing late is ignored
        device.advance();
        await(next.finished());
        assertThat(next.finished().error()).isNull();
        assertThat(engine.stats().timedOut()).isEqualTo(1);
        assertThat(engine.stats().completed()).as("the late completion of the timed-out job counts nothing").isEqualTo(1);
        assertThat(stuck.finished().error()).isInstanceOf(JobTimeoutException.class);
    }

    /**
     * A job's timeout counts from its start: the time its start took (here a slow listener) is
     * spent from the timeout, not added to it. Reads the job's timer, as armed.
     */
    @Test
    void theTimeoutCountsFromTheStart() throws Exception {
        Duration limit = Duration.ofHours(1);
        long slowStart = TimeUnit.MILLISECONDS.toNanos(200);
        Engine engine = Engine.builder("from-start").timeout(limit).executor(Runnable::run).listener(new JobListener() {
            @Override
            public void onStart(SubmittedJob job) {
                while (System.nanoTime() - job.startNanos() < slowStart) {
                    LockSupport.parkNanos(slowStart / 10);
                }
            }
        }).build();
        engines.add(engine);
        SubmittedJob s = engine.newEntity("e").submit(job("timed"));
        assertThat(s.timer.getDelay(TimeUnit.NANOSECONDS)).isLessThanOrEqualTo(limit.toNanos() - slowStart);
    }

    /** drm_sched_basic_credits: with credit limit 1 the second job starts only after the first. */
    @Test
    void creditLimitOne() throws Exception {
        Entity a = engine("credits", 1).newEntity("a");
        Entity b = a.engine().newEntity("b");
        SubmittedJob first = a.submit(job("first"));
        SubmittedJob second = b.submit(job("second"));
        device.awaitRunning(1);
        assertThat(second.scheduled().isSignaled()).isFalse();
        assertThat(device.started).containsExactly("first");
        device.advance();
        await(second.scheduled());
        device.awaitRunning(1);
        assertThat(device.started).containsExactly("first", "second");
        await(first.finished());
        device.advance();
        await(second.finished());
        assertThatThrownBy(() -> a.submit(Job.builder("big").credits(2).work(device.work("big")).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs 2 credits");
    }

    // ---------------------------------------------------------------- submission rules

    /**
     * Dependencies come from the buffers by the usage rule: a writer waits for readers and writers,
     * a reader only for writers; the job's finished fence is published as WRITE or READ.
     */
    @Test
    void dependenciesFollowTheUsageRule() throws Exception {
        Engine one = engine("one", 4);
        Engine two = engine("two", 4);
        Reservation buf = new Reservation(buffers, "buf");
        SubmittedJob writer = one.newEntity("w").submit(Job.builder("writer").writes(buf).work(device.work("writer")).build());
        SubmittedJob reader1 = two.newEntity("r1").submit(Job.builder("reader1").reads(buf).work(device.work("reader1")).build());
        assertThat(reader1.dependencies()).containsExactly(writer.finished());
        assertThat(buf.fences(Usage.WRITE)).containsExactly(writer.finished());
        assertThat(buf.fences(Usage.READ)).containsExactlyInAnyOrder(writer.finished(), reader1.finished());
        SubmittedJob reader2 = two.newEntity("r2").submit(Job.builder("reader2").reads(buf).work(device.work("reader2")).build());
        assertThat(reader2.dependencies()).containsExactly(writer.finished());   // not reader1
        Engine three = engine("three", 4);
        SubmittedJob writer2 = three.newEntity("w2").submit(Job.builder("writer2").writes(buf).work(device.work("writer2")).build());
        assertThat(writer2.dependencies()).containsExactlyInAnyOrder(writer.finished(), reader1.finished(),
                reader2.finished());
        device.awaitRunning(1);
        assertThat(device.started).containsExactly("writer");
        device.advance();
        device.awaitRunning(2);
        assertThat(device.started).containsExactlyInAnyOrder("writer", "reader1", "reader2");
        assertThat(writer2.scheduled().isSignaled()).isFalse();
        device.advance();
        device.advance();
        await(writer2.scheduled());
        device.awaitRunning(1);
        device.advance();
        await(writer2.finished());
    }

    /** On an in-order engine a dependency on another entity's job waits only for it to start. */
    @Test
    void sameEngineDependenciesArePipelined() throws Exception {
        Engine engine = engine("pipe", 2);
        Reservation buf = new Reservation(buffers, "buf");
        SubmittedJob writer = engine.newEntity("a").submit(Job.builder("w").writes(buf).work(device.work("w")).build());
        SubmittedJob reader = engine.newEntity("b").submit(Job.builder("r").reads(buf).work(device.work("r")).build());
        SubmittedJob strict = engine.newEntity("c").submit(Job.builder("s").reads(buf).noPipelining()
                .work(device.work("s")).build());
        assertThat(reader.dependencies()).containsExactly(writer.scheduled());
        assertThat(strict.dependencies()).containsExactly(writer.finished());
        device.awaitRunning(2);
        assertThat(device.started).containsExactly("w", "r");
        device.advance();
        await(strict.scheduled());
        device.finishAll();
    }

    /**
     * The validation runs while every buffer is locked, before arming; when it throws, nothing is
     * submitted and the buffers are unlocked.
     */
    @Test
    void validationRunsUnderTheLocksAndCanAbort() throws Exception {
        Entity e = engine("validate", 1).newEntity("e");
        Reservation a = new Reservation(buffers, "a");
        Reservation b = new Reservation(buffers, "b");
        List<Boolean> heldDuringValidation = new CopyOnWriteArrayList<>();
        SubmittedJob ok = e.submit(Job.builder("ok").reads(a).writes(b).whileLocked(() -> {
            heldDuringValidation.add(a.mutex().isHeldByCurrentThread() && b.mutex().isHeldByCurrentThread());
            heldDuringValidation.add(b.fences(Usage.BOOKKEEP).isEmpty());     // not published yet
        }).work(device.work("ok")).build());
        assertThat(heldDuringValidation).containsExactly(true, true);
        assertThatThrownBy(() -> e.submit(Job.builder("invalid").writes(a).whileLocked(() -> {
            throw new IllegalArgumentException("buffer a is too small");
        }).work(device.work("invalid")).build())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("buffer a is too small");
        assertThat(a.isLocked() || b.isLocked()).isFalse();
        assertThat(a.fences(Usage.BOOKKEEP)).containsExactly(ok.finished());
        assertThat(e.engine().stats().submitted()).isEqualTo(1);
        device.awaitRunning(1);
        device.advance();
        await(ok.finished());
    }

    /** A failed dependency fails the dependent job without running it, unless it opts out. */
    @Test
    void failedDependencyFailsTheDependent() throws Exception {
        Engine engine = engine("deps", 4);
        Signaller external = FenceContext.create("external").next();
        Entity e = engine.newEntity("e");
        List<String> ran = new CopyOnWriteArrayList<>();
        SubmittedJob strict = e.submit(Job.builder("strict").dependsOn(external.fence())
                .run(() -> ran.add("strict")).build());
        SubmittedJob lenient = engine.newEntity("f").submit(Job.builder("lenient").dependsOn(external.fence())
                .ignoreDependencyErrors().run(() -> ran.add("lenient")).build());
        external.signal(new IllegalStateException("device lost"));
        await(strict.finished());
        await(lenient.finished());
        assertThat(strict.finished().error()).isInstanceOf(DependencyFailedException.class)
                .hasMessageContaining("strict").hasRootCauseMessage("device lost");
        assertThat(strict.scheduled().error()).isInstanceOf(DependencyFailedException.class);
        assertThat(lenient.finished().error()).isNull();
        assertThat(ran).containsExactly("lenient");
    }

    /** Work that hands back its own finished fence (here inside an array) is refused, not hung. */
    @Test
    void workReturningItsOwnFutureFails() throws Exception {
        Entity e = engine("self", 1).newEntity("e");
        AtomicReference<SubmittedJob> self = new AtomicReference<>();
        SubmittedJob s = e.submit(Job.builder("ouroboros").work(job -> {
            self.set(job);
            return dev.bufsync.fence.FenceArray.allOf(job.finished(), dev.bufsync.fence.Fences.stub());
        }).build());
        await(s.finished());
        assertThat(s.finished().error()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("ouroboros").hasMessageContaining("its own future");
        assertThat(self.get()).isSameAs(s);
    }

    /** Work that throws fails its job with that exception; the engine carries on. */
    @Test
    void workThatThrowsFailsTheJob() throws Exception {
        Entity e = engine("throws", 1).newEntity("e");
        SubmittedJob bad = e.submit(Job.builder("bad").run(() -> {
            throw new IllegalArgumentException("bad input");
        }).build());
        SubmittedJob good = e.submit(Job.builder("good").run(() -> { }).build());
        await(good.finished());
        assertThat(bad.finished().error()).isInstanceOf(IllegalArgumentException.class).hasMessage("bad input");
        assertThat(good.finished().error()).isNull();
        assertThat(e.engine().stats().failed()).isEqualTo(1);
    }

    /** Finished fences of an entity signal in order even when later work finishes first. */
    @Test
    void finishedFencesSignalInEntityOrder() throws Exception {
        Engine engine = Engine.builder("order").credits(2).inOrder(false).build();
        engines.add(engine);
        Entity e = engine.newEntity("e");
        SubmittedJob first = e.submit(job("first"));
        SubmittedJob second = e.submit(job("second"));
        device.awaitRunning(2);
        Signaller firstWork = device.running.poll();
        device.advance();                         // the second job's work finishes first
        assertThat(second.finished().await(Duration.ofMillis(50))).isFalse();
        firstWork.signal();
        await(second.finished());
        assertThat(first.finished().timestamp()).isLessThanOrEqualTo(second.finished().timestamp());
    }

    /** A higher-priority ready job starts before a lower-priority one that was submitted earlier. */
    @Test
    void higherPriorityStartsFirst() throws Exception {
        Engine engine = engine("prio", 1);
        Entity low = engine.newEntity("low", Priority.LOW);
        Entity high = engine.newEntity("high", Priority.HIGH);
        SubmittedJob blocker = low.submit(job("blocker"));
        device.awaitRunning(1);
        low.submit(job("low-job"));
        high.submit(job("high-job"));
        device.advance();
        device.awaitRunning(1);
        assertThat(device.started).containsExactly("blocker", "high-job");
        device.advance();
        device.awaitRunning(1);
        assertThat(device.started).containsExactly("blocker", "high-job", "low-job");
        device.advance();
        await(blocker.finished());
    }

    /** Among ready jobs of one priority the one submitted first starts first, whatever its entity. */
    @ParameterizedTest(name = "the older job from entity {0}")
    @CsvSource({"a", "b"})
    void samePriorityStartsInSubmissionOrder(String olderFrom) throws Exception {
        Engine engine = engine("fifo", 1);
        Entity a = engine.newEntity("a");
        Entity b = engine.newEntity("b");
        SubmittedJob blocker = a.submit(job("blocker"));
        device.awaitRunning(1);
        Entity older = olderFrom.equals("a") ? a : b;
        Entity younger = older == a ? b : a;
        older.submit(job("older"));
        younger.submit(job("younger"));
        device.advance();
        device.awaitRunning(1);
        assertThat(device.started).containsExactly("blocker", "older");
        device.advance();
        device.awaitRunning(1);
        assertThat(device.started).containsExactly("blocker", "older", "younger");
        await(blocker.finished());
    }

    /**
     * A higher-priority job that does not fit in the credits left holds back lower priorities;
     * closing its entity lets them start at once.
     */
    @Test
    void closingABlockingEntityLetsLowerPrioritiesStart() throws Exception {
        Engine engine = engine("unblock", 2);
        Entity low = engine.newEntity("low", Priority.LOW);
        Entity high = engine.newEntity("high", Priority.HIGH);
        low.submit(job("running"));                                  // one credit of two
        device.awaitRunning(1);
        SubmittedJob big = high.submit(Job.builder("big").credits(2).work(device.work("big")).build());
        SubmittedJob small = low.submit(job("small"));
        assertThat(small.scheduled().isSignaled()).as("held back by the job that does not fit").isFalse();
        high.close();
        assertThat(big.finished().error()).isInstanceOf(JobCancelledException.class);
        assertThat(small.scheduled().isSignaled()).as("started by the close").isTrue();
    }

    /** Credits given back at once start every queued job that now fits, not only the first. */
    @Test
    void freedCreditsStartEveryJobThatFits() throws Exception {
        Engine engine = engine("refill", 2);
        Entity a = engine.newEntity("a");
        Entity b = engine.newEntity("b");
        SubmittedJob big = a.submit(Job.builder("big").credits(2).work(device.work("big")).build());
        device.awaitRunning(1);
        SubmittedJob x = b.submit(job("x"));
        SubmittedJob y = b.submit(job("y"));
        assertThat(x.scheduled().isSignaled()).as("no credit for x yet").isFalse();
        device.advance();
        await(big.finished());
        await(x.scheduled());
        await(y.scheduled());
        device.awaitRunning(2);
        assertThat(device.started).containsExactly("big", "x", "y");
    }

    /** Cancelling a queued job gives back no credits: the running job still holds the only one. */
    @Test
    void cancellingAQueuedJobFreesNoCredits() throws Exception {
        Engine engine = engine("queued-cancel", 1);
        Entity a = engine.newEntity("a");
        Entity b = engine.newEntity("b");
        Entity c = engine.newEntity("c");
        a.submit(job("running"));
        device.awaitRunning(1);
        SubmittedJob queued = b.submit(job("queued"));
        b.close();
        assertThat(queued.finished().error()).isInstanceOf(JobCancelledException.class);
        SubmittedJob third = c.submit(job("third"));
        assertThat(third.scheduled().isSignaled()).as("no credit while 'running' runs").isFalse();
        assertThat(engine.stats().inFlight()).isEqualTo(1);
        device.advance();
        await(third.scheduled());
        device.awaitRunning(1);                       // its work runs after the scheduled fence signals
        assertThat(device.started).containsExactly("running", "third");
    }

    /** An entity takes submissions from one thread after another (the submit lock is let go). */
    @Test
    void anEntityTakesSubmissionsFromSeveralThreads() throws Exception {
        Entity entity = engine("threads", 2).newEntity("e");
        SubmittedJob first = entity.submit(job("first"));
        FutureTask<SubmittedJob> second = new FutureTask<>(() -> entity.submit(job("second")));
        Thread.ofPlatform().name("second-submitter").start(second);
        SubmittedJob submitted = second.get(WAIT.toSeconds(), TimeUnit.SECONDS);  // times out if blocked
        await(first.scheduled());
        await(submitted.scheduled());
    }

    // ---------------------------------------------------------------- settings and introspection

    /** Credits below 1 and timeouts that are not positive are refused, naming the engine. */
    @Test
    void builderRefusesBadSettings() {
        assertThatThrownBy(() -> Engine.builder("bad").credits(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("engine bad: credits must be at least 1, not 0");
        assertThat(Engine.builder("one").credits(1).build()).satisfies(e -> {
            engines.add(e);
            assertThat(e.creditLimit()).isEqualTo(1);
        });
        assertThatThrownBy(() -> Engine.builder("bad").timeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("engine bad: timeout must be positive");
        assertThatThrownBy(() -> Engine.builder("bad").timeout(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout must be positive");
    }

    /**
     * What inOrder declares overrides the default of the executor: pipelining follows it, and on
     * an in-order engine a dependency on an earlier job of the same entity is dropped.
     */
    @Test
    void inOrderDeclarationOverridesTheDefault() throws Exception {
        Engine unordered = Engine.builder("unordered").credits(2).inOrder(false).build();
        Engine serial = Engine.builder("serial").credits(2).inOrder(true).executor(Runnable::run).build();
        engines.add(unordered);
        engines.add(serial);
        for (Engine engine : engines) {
            Reservation buf = new Reservation(buffers, "buf-" + engine.name());
            SubmittedJob writer = engine.newEntity("w").submit(Job.builder("w").writes(buf).work(device.work("w")).build());
            SubmittedJob reader = engine.newEntity("r").submit(Job.builder("r").reads(buf).work(device.work("r")).build());
            assertThat(reader.dependencies()).as(engine.name())
                    .containsExactly(engine == serial ? writer.scheduled() : writer.finished());
            SubmittedJob sameEntity = writer.entity().submit(Job.builder("r2").reads(buf).work(device.work("r2")).build());
            if (engine == serial) {
                assertThat(sameEntity.dependencies()).as("the queue runs the writer first").isEmpty();
            } else {
                assertThat(sameEntity.dependencies()).containsExactly(writer.finished());
            }
        }
    }

    /**
     * The engine's own device thread is a daemon named after it (an engine left open does not keep
     * the JVM alive), and it ends when the engine closes.
     */
    @Test
    void ownDeviceThreadIsADaemonThatEndsWithTheEngine() throws Exception {
        Engine engine = engine("gpu", 1);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        await(engine.newEntity("e").submit(Job.builder("where").run(() -> ranOn.set(Thread.currentThread())).build())
                .finished());
        Thread device = ranOn.get();
        assertThat(device.getName()).isEqualTo("gpu-device");
        assertThat(device.isDaemon()).isTrue();
        engine.close();
        device.join(WAIT.toMillis());
        assertThat(device.isAlive()).as("the device thread ended with the engine").isFalse();
    }

    /** Reading the stats and closing an entity or the engine let go of the engine lock: another thread takes it. */
    @Test
    void statsAndClosesReleaseTheEngineLock() throws Exception {
        Engine engine = engine("lock", 1);
        engine.stats();
        assertLockFreeForOthers(engine);
        engine.newEntity("e").close();
        assertLockFreeForOthers(engine);
        engine.close();
        assertLockFreeForOthers(engine);
    }

    /** Another thread can take the engine lock (reading the stats takes it). */
    private static void assertLockFreeForOthers(Engine engine) throws InterruptedException {
        Thread other = Thread.ofPlatform().daemon().start(engine::stats);
        other.join(WAIT.toMillis());
        assertThat(other.isAlive()).as("another thread blocked on the engine lock").isFalse();
    }

    /** The engine's last progress is its latest signal: a job's start, then its finish. */
    @Test
    void lastProgressIsTheLatestSignal() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        Engine engine = Engine.builder("progress").timeout(Duration.ofSeconds(30)).listener(new JobListener() {
            @Override
            public void onStart(SubmittedJob job) {
                started.countDown();
            }

            @Override
            public void onFinish(SubmittedJob job) {
                finished.countDown();
            }
        }).build();
        engines.add(engine);
        SubmittedJob s = engine.newEntity("e").submit(job("p"));
        assertThat(started.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(engine.lastProgressNanos()).isEqualTo(s.scheduled().timestamp());
        device.awaitRunning(1);
        device.advance();
        assertThat(finished.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(engine.lastProgressNanos()).isEqualTo(s.finished().timestamp());
    }

    /** Back-offs while locking a job's buffers are counted in the stats and told to the listener. */
    @Test
    void submissionBackoffsAreCounted() throws Exception {
        WwClass injecting = WwClass.builder("sched-inject").algorithm(WwClass.Algorithm.WAIT_DIE).injectBackoff(true).build();
        List<Reservation> many = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            many.add(new Reservation(injecting, "b" + i));
        }
        AtomicInteger told = new AtomicInteger(-1);
        Engine engine = Engine.builder("backoffs").listener(new JobListener() {
            @Override
            public void onSubmit(SubmittedJob job, int retries) {
                told.set(retries);
            }
        }).build();
        engines.add(engine);
        await(engine.newEntity("e").submit(Job.builder("wide").writes(many).run(() -> { }).build()).finished());
        assertThat(told.get()).as("back-offs injected with 40 buffers").isPositive();
        assertThat(engine.stats().retries()).isEqualTo(told.get());
    }

    /** toString gives the name, the credits and what is queued and in flight. */
    @Test
    void toStringDescribesTheEngine() throws Exception {
        Engine engine = engine("described", 2);
        Entity e = engine.newEntity("e");
        e.submit(Job.builder("big").credits(2).work(device.work("big")).build());
        e.submit(job("next"));
        device.awaitRunning(1);
        assertThat(engine).hasToString("Engine[described, credits 2, queued 1, in flight 1]");
    }

    // ---------------------------------------------------------------- the wait-for graph

    /**
     * The graph names the job that will signal each fence waited for: the scheduled fence of a
     * job of the same engine (a pipelined dependency), the finished fence of one on another.
     */
    @Test
    void describeWaitsNamesTheProducers() throws Exception {
        Engine gpu = engine("gpu", 1);
        Engine display = engine("display", 1);
        Reservation frame = new Reservation(buffers, "frame");
        Entity render = gpu.newEntity("render");
        render.submit(job("blocker"));                               // holds gpu's only credit
        device.awaitRunning(1);
        render.submit(Job.builder("draw").writes(frame).work(device.work("draw")).build());
        gpu.newEntity("post").submit(Job.builder("blur").reads(frame).work(device.work("blur")).build());
        display.newEntity("scanout").submit(Job.builder("show").reads(frame).work(device.work("show")).build());
        List<Engine> both = List.of(gpu, display);
        assertThat(gpu.describeWaits(both)).contains("  job blur (post #")
                .contains(", the scheduled fence of job draw (render #").contains(" on gpu\n");
        assertThat(display.describeWaits(both)).contains("  job show (scanout #").contains(" on display: reads [frame]")
                .contains(", the finished fence of job draw (render #");
    }

    /** A job whose work is done but whose finished fence waits for an earlier job is not listed as waiting. */
    @Test
    void describeWaitsLeavesOutJobsDoneButNotRetired() throws Exception {
        Engine engine = Engine.builder("retiring").credits(2).executor(Runnable::run).build();
        engines.add(engine);
        Entity e = engine.newEntity("e");
        e.submit(job("first"));
        SubmittedJob second = e.submit(Job.builder("second").run(() -> { }).build());
        assertThat(second.finished().isSignaled()).as("retires after the first").isFalse();
        assertThat(engine.describeWaits(List.of(engine))).contains("job first").doesNotContain("job second");
    }

    /**
     * The graph lists every unfinished job of an entity (16, the books' first size, then more)
     * after earlier jobs retired, and finds the job of each fence in the books, at their head
     * and further in.
     */
    @Test
    void describeWaitsFollowsTheBooksAfterRetirements() throws Exception {
        Engine engine = engine("books", 1);
        Engine other = engine("other", 1);
        Entity e = engine.newEntity("e");
        SubmittedJob retired = e.submit(job("retired"));
        device.awaitRunning(1);
        device.advance();
        await(retired.finished());
        List<SubmittedJob> queued = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            queued.add(e.submit(job("q" + i)));
        }
        assertThat(jobLines(engine)).hasSize(16);
        Entity d = other.newEntity("d");
        d.submit(Job.builder("on-head").dependsOn(queued.get(0).finished()).work(device.work("on-head")).build());
        d.submit(Job.builder("further").dependsOn(queued.get(5).finished()).work(device.work("further")).build());
        String graph = other.describeWaits(List.of(engine, other));
        assertThat(graph).contains(", the finished fence of job q0 (e #").contains(", the finished fence of job q5 (e #");
        for (int i = 16; i < 20; i++) {
            queued.add(e.submit(job("q" + i)));
        }
        assertThat(jobLines(engine)).hasSize(20).last().asString().startsWith("  job q19 (e #");
    }

    private static List<String> jobLines(Engine engine) {
        return engine.describeWaits(List.of(engine)).lines().filter(l -> l.startsWith("  job ")).toList();
    }

    /** The watchdog reports the wait-for graph when nothing progresses while jobs wait. */
    @Test
    void watchdogReportsWhoWaitsForWhom() throws Exception {
        Engine engine = engine("dog", 1);
        Reservation buf = new Reservation(buffers, "frame-3");
        Signaller external = FenceContext.create("camera-sensor").next();
        SubmittedJob waiting = engine.newEntity("e").submit(Job.builder("encode").reads(buf)
                .dependsOn(external.fence()).run(() -> { }).build());
        CountDownLatch reported = new CountDownLatch(1);
        AtomicReference<String> report = new AtomicReference<>();
        try (Watchdog dog = Watchdog.start(Duration.ofMillis(100), r -> {
            report.set(r);
            reported.countDown();
        }, engine)) {
            assertThat(reported.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
        assertThat(report.get()).contains("no fence signalled").contains("job encode")
                .contains("reads [frame-3]").contains("waits for").contains("camera-sensor")
                .contains("produced outside these engines");
        external.signal();
        await(waiting.finished());
    }

    /** A reporter that throws does not end the watching: the next stall is reported too. */
    @Test
    void watchdogSurvivesAThrowingReporter() throws Exception {
        Engine engine = engine("dog", 1);
        Reservation buf = new Reservation(buffers, "frame-4");
        FenceContext sensor = FenceContext.create("sensor");
        Signaller first = sensor.next();
        SubmittedJob waiting = engine.newEntity("e").submit(Job.builder("encode").reads(buf)
                .dependsOn(first.fence()).run(() -> { }).build());
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch firstReport = new CountDownLatch(1);
        CountDownLatch secondReport = new CountDownLatch(1);
        try (LogCapture log = LogCapture.of("dev.bufsync.sched");
             Watchdog dog = Watchdog.start(Duration.ofMillis(100), r -> {
            if (calls.incrementAndGet() == 1) {
                firstReport.countDown();
                throw new IllegalStateException("reporter fails");
            }
            secondReport.countDown();
        }, engine)) {
            assertThat(firstReport.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            first.signal();
            await(waiting.finished());
            Signaller second = sensor.next();
            SubmittedJob next = engine.newEntity("f").submit(Job.builder("encode").reads(buf)
                    .dependsOn(second.fence()).run(() -> { }).build());
            assertThat(secondReport.await(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .as("the watchdog still reports after its reporter threw").isTrue();
            assertThat(log.records()).anySatisfy(r -> {
                assertThat(r.getMessage()).isEqualTo("watchdog: reporting a stall threw; watching on");
                assertThat(r.getThrown()).hasMessage("reporter fails");
            });
            second.signal();
            await(next.finished());
        }
    }
}
