package dev.bufsync.cli.demo;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Watches the naive mode's drivers: the JVM's own detector ({@link
 * ThreadMXBean#findDeadlockedThreads()}) says when they deadlock, and the drivers' records of the
 * buffer each one waits for give the cycle in buffer terms: which thread holds which buffer and
 * waits for which.
 */
final class DeadlockDetector {
    private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    private final Map<Thread, BufferLock> waitingFor = new ConcurrentHashMap<>();
    private final Map<Thread, List<BufferLock>> holding = new ConcurrentHashMap<>();
    private final Map<Thread, Long> waitingSince = new ConcurrentHashMap<>();

    /** One link of a wait-for cycle. */
    record Link(String thread, List<String> holds, String waitsFor, String heldBy) {
        @Override
        public String toString() {
            return thread + " holds " + holds + " and waits for " + waitsFor + " (held by " + heldBy + ")";
        }
    }

    /** A driver is about to block on {@code lock}. */
    void waiting(BufferLock lock) {
        waitingSince.put(Thread.currentThread(), System.nanoTime());
        waitingFor.put(Thread.currentThread(), lock);
    }

    /** A driver got {@code lock}. */
    void acquired(BufferLock lock) {
        waitingFor.remove(Thread.currentThread());
        waitingSince.remove(Thread.currentThread());
        holding.computeIfAbsent(Thread.currentThread(), t -> new CopyOnWriteArrayList<>()).add(lock);
    }

    /** A driver released everything. */
    void releasedAll() {
        holding.remove(Thread.currentThread());
    }

    /**
     * The wait-for cycle among the drivers, if the JVM reports them deadlocked.
     *
     * @return the cycle, or an empty list if there is no deadlock
     */
    List<Link> findCycle() {
        long[] ids = mx.findDeadlockedThreads();
        if (ids == null) {
            return List.of();
        }
        for (Thread start : waitingFor.keySet()) {
            if (!contains(ids, start.threadId())) {
                continue;
            }
            List<Link> cycle = new ArrayList<>();
            Map<Thread, Boolean> seen = new LinkedHashMap<>();
            Thread t = start;
            while (t != null && seen.put(t, true) == null) {
                BufferLock wanted = waitingFor.get(t);
                Thread holder = wanted == null ? null : wanted.holder();
                if (wanted == null || holder == null) {
                    break;
                }
                cycle.add(new Link(t.getName(), names(holding.get(t)), wanted.buffer, holder.getName()));
                t = holder;
            }
            if (t == start && !cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    /**
     * When each thread now waiting for a buffer began to wait, by thread name.
     *
     * @return {@link System#nanoTime()} values
     */
    Map<String, Long> waitingSince() {
        Map<String, Long> out = new LinkedHashMap<>();
        waitingSince.forEach((t, since) -> out.put(t.getName(), since));
        return out;
    }

    private static boolean contains(long[] ids, long id) {
        for (long x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }

    private static List<String> names(List<BufferLock> locks) {
        List<String> out = new ArrayList<>();
        if (locks != null) {
            for (BufferLock l : List.copyOf(locks)) {
                out.add(l.buffer);
            }
        }
        return out;
    }
}
