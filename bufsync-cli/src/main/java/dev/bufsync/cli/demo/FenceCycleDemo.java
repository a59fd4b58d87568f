package dev.bufsync.cli.demo;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.check.DependencyCycle;
import dev.bufsync.cli.Main;
import dev.bufsync.cli.Output;
import dev.bufsync.fence.Fence;
import dev.bufsync.resv.Reservation;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.Job;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code demo --inject fence-cycle}: the 2013 dmabuf-sync design's hazard. One device's job takes
 * a buffer's lock inside its work, which runs in the signalling section of the device's fences,
 * while the other drivers lock that buffer and, holding it, wait for the device's fence. The
 * checker (turned on in throw mode for the run) stops it at the first edge that closes the cycle,
 * before any thread is stuck; the run prints the cycle, puts it in the summary as
 * {@code dependencyCycle} and exits 3.
 */
final class FenceCycleDemo {
    /** The one fault this class injects. */
    static final String FENCE_CYCLE = "fence-cycle";

    private static final Duration SAFETY = Duration.ofSeconds(30);   // a safety net only: nothing waits this long

    private FenceCycleDemo() {
    }

    /**
     * Runs the injected scenario and prints its report.
     *
     * @param drivers the number of drivers, the device's included
     * @return the exit status: {@link Main#DEADLOCK} when the cycle was found, else {@link Main#FAILED}
     */
    static int run(int drivers, boolean json, Output out) throws InterruptedException {
        AtomicReference<DependencyCycle> first = new AtomicReference<>();
        Consumer<DependencyCycle> listener = c -> first.compareAndSet(null, c);
        CheckPolicy before = Checker.policy();
        Checker.setPolicy(CheckPolicy.THROW);
        Checker.reset();
        Checker.addCycleListener(listener);
        int stuck;
        try {
            stuck = scenario(Math.max(2, drivers), first, out);
        } finally {
            Checker.removeCycleListener(listener);
            Checker.setPolicy(before);
        }
        DependencyCycle cycle = first.get();
        if (cycle != null) {
            out.line("dependency cycle found (checker in throw mode): " + String.join(" -> ", cycle.contexts())
                    + " / " + String.join(", ", cycle.locks()));
            for (DependencyCycle.Edge e : cycle.edges()) {
                out.line("  " + e.from() + " -> " + e.to() + "  first seen in " + e.thread() + " at " + e.topFrame());
            }
        } else {
            out.line("no dependency cycle found: the checker missed the injected one");
        }
        out.line(stuck == 0 ? "no thread was stuck: the run stopped at the closing edge" : stuck + " threads stuck");
        int status = cycle != null && stuck == 0 ? Main.DEADLOCK : Main.FAILED;
        if (json) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("command", "demo");
            s.put("inject", FENCE_CYCLE);
            s.put("drivers", drivers);
            s.put("deadlocked", false);
            s.put("threadsStuck", stuck);
            s.put("dependencyCycle", cycle == null ? null : asMap(cycle));
            out.json(s);
        }
        return status;
    }

    /**
     * The device's job and the drivers; returns how many threads were still running at the end.
     * Once a cycle is found ({@code first} set) the drivers still queued for the lock stop, so the
     * run ends at the first closing edge.
     */
    private static int scenario(int drivers, AtomicReference<DependencyCycle> first, Output out)
            throws InterruptedException {
        Reservation buffer = new Reservation(Reservation.DEFAULT_CLASS, "buffer-0");
        CountDownLatch holding = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        try (Engine device = Engine.builder("camera").build(); Entity queue = device.newEntity("camera")) {
            // The device's work takes the buffer's lock, as dmabuf-sync's devices did, inside the
            // signalling section the engine opens around every job's work.
            Fence captured = queue.submit(Job.builder("capture").run(() -> {
                awaitQuietly(holding);
                buffer.lock();
                buffer.unlock();
            }).build()).finished();
            out.line("device camera: job 'capture' takes buffer-0's lock in its work; " + (drivers - 1)
                    + " drivers wait for its fence holding that lock");
            for (int i = 1; i < drivers; i++) {
                threads.add(Thread.ofVirtual().name("driver-" + i).start(() -> {
                    try {
                        buffer.lock();
                        try {
                            holding.countDown();
                            if (first.get() == null) {
                                captured.await(SAFETY);
                            }
                        } finally {
                            buffer.unlock();
                        }
                    } catch (RuntimeException | InterruptedException e) {
                        // the checker's PotentialDeadlockException ends this driver: reported by the listener
                    }
                }));
            }
            captured.await(SAFETY);
        }
        int stuck = 0;
        for (Thread t : threads) {
            if (!t.join(SAFETY)) {
                stuck++;
            }
        }
        return stuck;
    }

    /** Refuses an unknown fault, naming the one known. */
    static int unknown(picocli.CommandLine.Model.CommandSpec spec, String fault) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                "--inject " + fault + ": unknown fault; the demo injects " + FENCE_CYCLE);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(SAFETY.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Map<String, Object> asMap(DependencyCycle c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("contexts", c.contexts());
        m.put("locks", c.locks());
        List<Map<String, Object>> edges = new ArrayList<>();
        for (DependencyCycle.Edge e : c.edges()) {
            Map<String, Object> em = new LinkedHashMap<>();
            em.put("from", e.from().toString());
            em.put("to", e.to().toString());
            em.put("thread", e.thread());
            em.put("topFrame", String.valueOf(e.topFrame()));
            edges.add(em);
        }
        m.put("edges", edges);
        m.put("description", c.describe());
        return m;
    }
}
