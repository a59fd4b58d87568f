package dev.bufsync.cli.demo;

import dev.bufsync.buffer.Access;
import dev.bufsync.buffer.SharedBuffer;
import dev.bufsync.cli.Interrupts;
import dev.bufsync.cli.Output;
import dev.bufsync.fence.Fence;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.EngineStats;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.Job;
import dev.bufsync.sched.JobListener;
import dev.bufsync.sched.SubmittedJob;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One run of the demo's scenario under one locking mode: several drivers (a camera, a GPU, an
 * encoder, a display, ...) share a pool of buffers; each submits jobs that read 1-3 and write 1-2
 * random buffers, listed in random order, to its own device (an {@link Engine}). A submission
 * locks the job's buffers, validates each (a short parked wait, as a driver checks its buffers),
 * publishes the job's finished fence on them and unlocks; the device then does the work (writes
 * the job's id into the buffers it writes, reads the others) as parked time, so the CPU is free
 * while a device works and the run measures synchronisation, not arithmetic.
 */
final class DemoRun {
    private static final long BUFFER_SIZE = 4096;
    private static final int OUTSTANDING_PER_DRIVER = 4;
    private static final long VALIDATE_NANOS = TimeUnit.MICROSECONDS.toNanos(60);
    private static final long DEVICE_MIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    private static final long DEVICE_SPREAD_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
    private static final Duration DRAIN = Duration.ofSeconds(20);
    private static final String[] DRIVER_NAMES = {"camera", "gpu", "encoder", "display"};

    /** What a run is asked to do. */
    record Settings(Locking locking, int drivers, int buffers, Duration duration, long seed,
                    TraceWriter trace, Output out) {
    }

    /** What a run did; the fields of the demo's JSON summary. */
    record Result(String locking, long submissions, long completed, long backoffs, boolean deadlocked,
                  List<DeadlockDetector.Link> deadlockCycle, Double deadlockAfterSeconds, long fencesCreated,
                  long fencesSignaled, long fencesPending, long errors, double throughputPerSec,
                  double seconds) {
    }

    private final Settings settings;
    private final List<SharedBuffer> buffers = new ArrayList<>();
    private final List<BufferLock> naiveLocks = new ArrayList<>();
    private final ReentrantLock globalLock = new ReentrantLock();
    private final DeadlockDetector detector = new DeadlockDetector();
    private final List<Engine> engines = new ArrayList<>();
    private final List<Entity> entities = new ArrayList<>();
    private final MemorySegment[][] views;            // [driver][buffer], each driver's attachment
    private final AtomicBoolean stop = new AtomicBoolean();
    private final LongAdder submissions = new LongAdder();

    DemoRun(Settings settings) {
        this.settings = settings;
        for (int b = 0; b < settings.buffers(); b++) {
            SharedBuffer buffer = SharedBuffer.allocate("buffer-" + b, BUFFER_SIZE);
            buffers.add(buffer);
            naiveLocks.add(new BufferLock(buffer.name()));
        }
        views = new MemorySegment[settings.drivers()][settings.buffers()];
        for (int d = 0; d < settings.drivers(); d++) {
            String name = driverName(d);
            JobListener listener = settings.trace() != null ? settings.trace() : JobListener.NONE;
            Engine engine = Engine.builder(settings.locking() + "/" + name).credits(2)
                    .timeout(Duration.ofSeconds(10)).listener(listener).build();
            if (settings.trace() != null) {
                settings.trace().register(engine, settings.locking(), d, name);
            }
            engines.add(engine);
            entities.add(engine.newEntity(name));
            for (int b = 0; b < settings.buffers(); b++) {
                views[d][b] = buffers.get(b).attach(name, Access.WRITE).map();
            }
        }
    }

    static String driverName(int d) {
        return d < DRIVER_NAMES.length ? DRIVER_NAMES[d] : "driver-" + (d + 1);
    }

    /** Runs the drivers for the configured time (or until the naive mode deadlocks). */
    Result run() throws InterruptedException {
        long start = System.nanoTime();
        List<Thread> drivers = new ArrayList<>();
        for (int d = 0; d < settings.drivers(); d++) {
            final int driver = d;
            Thread t = Thread.ofPlatform().daemon().name(driverName(d)).start(() -> drive(driver));
            drivers.add(t);
        }
        List<DeadlockDetector.Link> cycle = List.of();
        Double deadlockAfter = null;
        long deadline = start + settings.duration().toNanos();
        while (!stop.get()) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            long now = System.nanoTime();
            if (Interrupts.requested()) {
                stop.set(true);
                break;
            }
            if (settings.locking() == Locking.NAIVE) {
                cycle = detector.findCycle();
                if (!cycle.isEmpty()) {
                    deadlockAfter = (now - start) / 1e9;
                    if (settings.trace() != null) {
                        settings.trace().deadlock(Locking.NAIVE, cycle, detector.waitingSince(), now);
                    }
                    stop.set(true);
                    break;
                }
            }
            progress(now - start);
            if (now - deadline >= 0) {
                stop.set(true);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        // Naive drivers may be stuck in a deadlock not yet detected (when interrupted): no join.
        if (deadlockAfter == null && settings.locking() != Locking.NAIVE) {
            for (Thread t : drivers) {
                t.join(DRAIN.toMillis());
            }
        }
        drain();
        for (Engine e : engines) {
            e.close();
        }
        for (SharedBuffer b : buffers) {
            b.close();
        }
        return result(seconds, cycle, deadlockAfter);
    }

    private void progress(long elapsed) {
        long completed = 0;
        long backoffs = 0;
        for (Engine e : engines) {
            EngineStats s = e.stats();
            completed += s.completed();
            backoffs += s.retries();
        }
        settings.out().progress(String.format(Locale.ROOT, "[%s] %5.1f s  %,d submitted  %,d completed  %,d back-offs",
                settings.locking(), elapsed / 1e9, submissions.sum(), completed, backoffs));
    }

    /** Waits (boundedly) for the jobs already submitted to finish. */
    private void drain() {
        long deadline = System.nanoTime() + DRAIN.toNanos();
        for (Engine e : engines) {
            while (e.hasPendingJobs() && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
    }

    private Result result(double seconds, List<DeadlockDetector.Link> cycle, Double deadlockAfter) {
        long completed = 0;
        long errors = 0;
        long backoffs = 0;
        long created = 0;
        long signalled = 0;
        for (Engine e : engines) {
            EngineStats s = e.stats();
            completed += s.completed();
            errors += s.failed() + s.timedOut() + s.cancelled();
            backoffs += s.retries();
            created += s.fencesCreated();
            signalled += s.fencesSignaled();
        }
        return new Result(settings.locking().label, submissions.sum(), completed, backoffs, deadlockAfter != null,
                cycle, deadlockAfter, created, signalled, created - signalled, errors,
                completed / Math.max(seconds, 1e-9), seconds);
    }

    // ---------------------------------------------------------------- a driver

    private void drive(int driver) {
        Random rnd = new Random(settings.seed() * 1_000_003L + driver);
        Entity entity = entities.get(driver);
        ArrayDeque<SubmittedJob> outstanding = new ArrayDeque<>();
        long n = 0;
        try {
            while (!stop.get()) {
                int writes = 1 + rnd.nextInt(2);
                List<Integer> picks = pick(rnd, writes + 1 + rnd.nextInt(3));
                List<Integer> written = picks.subList(0, Math.min(writes, picks.size()));
                List<Integer> read = picks.subList(written.size(), picks.size());
                List<Integer> listed = new ArrayList<>(picks);
                Collections.shuffle(listed, rnd);
                long deviceNanos = DEVICE_MIN_NANOS + (long) (rnd.nextDouble() * DEVICE_SPREAD_NANOS);
                String name = driverName(driver) + "#" + (++n);
                SubmittedJob job = submit(entity, driver, name, listed, written, read, deviceNanos);
                if (job == null) {
                    break;
                }
                submissions.increment();
                outstanding.add(job);
                if (outstanding.size() >= OUTSTANDING_PER_DRIVER) {
                    outstanding.poll().finished().await(DRAIN);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code count} distinct random buffers. */
    private List<Integer> pick(Random rnd, int count) {
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < buffers.size(); i++) {
            all.add(i);
        }
        Collections.shuffle(all, rnd);
        return new ArrayList<>(all.subList(0, Math.min(count, all.size())));
    }

    private SubmittedJob submit(Entity entity, int driver, String name, List<Integer> listed,
                                List<Integer> written, List<Integer> read, long deviceNanos)
            throws InterruptedException {
        return switch (settings.locking()) {
            case WW -> entity.submit(Job.builder(name)
                    .writes(objects(written)).reads(objects(read))
                    .whileLocked(() -> validate(listed.size()))
                    .run(() -> device(driver, written, read, deviceNanos, name))
                    .build());
            case GLOBAL -> {
                globalLock.lock();
                try {
                    validate(listed.size());
                    yield submitLocked(entity, driver, name, written, read, deviceNanos);
                } finally {
                    globalLock.unlock();
                }
            }
            case NAIVE -> {
                List<BufferLock> held = new ArrayList<>();
                try {
                    for (int b : listed) {
                        BufferLock lock = naiveLocks.get(b);
                        detector.waiting(lock);
                        lock.lock();
                        detector.acquired(lock);
                        held.add(lock);
                        validate(1);
                    }
                    yield stop.get() ? null : submitLocked(entity, driver, name, written, read, deviceNanos);
                } finally {
                    for (int i = held.size() - 1; i >= 0; i--) {
                        held.get(i).unlock();
                    }
                    detector.releasedAll();
                }
            }
        };
    }

    /**
     * The global and naive modes' submission, with the buffers already protected by the mode's
     * own locks: collect the dependencies, submit a job without buffers, publish its fence.
     */
    private SubmittedJob submitLocked(Entity entity, int driver, String name, List<Integer> written,
                                      List<Integer> read, long deviceNanos) throws InterruptedException {
        List<Fence> deps = new ArrayList<>();
        for (int b : written) {
            deps.addAll(buffers.get(b).reservation().fences(Usage.beforeWrite()));
        }
        for (int b : read) {
            deps.addAll(buffers.get(b).reservation().fences(Usage.beforeRead()));
        }
        SubmittedJob job = entity.submit(Job.builder(name).dependsOn(deps.toArray(Fence[]::new))
                .run(() -> device(driver, written, read, deviceNanos, name)).build());
        for (int b : written) {
            publish(buffers.get(b).reservation(), job.finished(), Usage.WRITE);
        }
        for (int b : read) {
            publish(buffers.get(b).reservation(), job.finished(), Usage.READ);
        }
        return job;
    }

    private static void publish(Reservation resv, Fence fence, Usage usage) {
        resv.lock();
        try {
            resv.reserveFences(1);
            resv.addFence(fence, usage);
        } finally {
            resv.unlock();
        }
    }

    private List<HasReservation> objects(List<Integer> indices) {
        List<HasReservation> out = new ArrayList<>(indices.size());
        for (int i : indices) {
            out.add(buffers.get(i));
        }
        return out;
    }

    /** A driver checking its buffers while it holds them: parked, so the CPU stays free. */
    private static void validate(int count) {
        LockSupport.parkNanos(VALIDATE_NANOS * count);
    }

    /** The device: writes the job's id into what it writes, reads the rest, takes its time. */
    private void device(int driver, List<Integer> written, List<Integer> read, long nanos, String name) {
        long id = name.hashCode();
        for (int b : read) {
            views[driver][b].get(ValueLayout.JAVA_LONG, 0);
        }
        for (int b : written) {
            views[driver][b].set(ValueLayout.JAVA_LONG, 0, id);
        }
        LockSupport.parkNanos(nanos);
    }
}
