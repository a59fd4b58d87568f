package dev.bufsync.ww;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;

/**
 * An executor that only queues tasks; the test thread runs them with {@link #drain()}. With it a
 * test runs asynchronous transactions on its own thread alone: if anything parked a thread to wait
 * for a lock, nobody would be left to release it and the test would hang (its timeout fails it).
 * It also holds scheduled completions back, so a test can act between a hand-off and its
 * completion.
 */
public final class RunQueue implements Executor {
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();  // any thread may submit
    private int ran;

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    /** Runs queued tasks, and those they queue, until none is left; returns how many ran. */
    public int drain() {
        int n = 0;
        for (Runnable t; (t = tasks.poll()) != null; n++) {
            t.run();
        }
        ran += n;
        return n;
    }

    /** The number of tasks queued and not run yet. */
    public int pending() {
        return tasks.size();
    }

    /** The number of tasks run so far. */
    public int ran() {
        return ran;
    }
}
