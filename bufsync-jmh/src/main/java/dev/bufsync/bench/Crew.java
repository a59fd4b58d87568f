package dev.bufsync.bench;

import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A fixed team of platform threads that runs one round of work at a time: {@link #run} hands
 * every member its index, and returns when all have finished. The multi-threaded lock-set
 * benchmarks measure such rounds from the single JMH thread, so that a score is the wall-clock
 * time of a fixed amount of work by all threads, the tail included (Folly's, Hinnant's and
 * Hellström's metric), rather than JMH's per-thread average.
 *
 * <p>Usage: make it in a trial-level {@code @Setup}, call {@link #run} in the benchmark method,
 * {@link #close()} in the {@code @TearDown}. Not reentrant: one round at a time.
 */
public final class Crew implements AutoCloseable {
    /*
     * Overview.
     *
     * Two CyclicBarriers of size+1 parties (the members and the caller) start and end a round. The
     * round's task is published through a plain field written before the start barrier and read
     * after it; the barrier's lock orders the accesses both ways, and the end barrier orders the
     * members' writes (their counters) before the caller's reads.
     */

    private final Thread[] members;
    private final CyclicBarrier start;
    private final CyclicBarrier end;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private IntConsumer task;                 // written by the caller before start; read by members after it
    private volatile boolean closed;          // written by close(); read by members after start

    /**
     * Starts a crew.
     *
     * @param size the number of member threads
     * @param name a name prefix for the threads
     */
    public Crew(int size, String name) {
        this.members = new Thread[size];
        this.start = new CyclicBarrier(size + 1);
        this.end = new CyclicBarrier(size + 1);
        for (int i = 0; i < size; i++) {
            int index = i;
            members[i] = Thread.ofPlatform().daemon().name(name + "-" + i)
                    .start(() -> serve(index));
        }
    }

    /**
     * The number of member threads.
     *
     * @return the size
     */
    public int size() {
        return members.length;
    }

    /**
     * Runs {@code work} once on every member, with the member's index (0 … size-1), and waits
     * until all are done.
     *
     * @param work the round's work
     * @throws IllegalStateException if a member threw; the first failure is the cause
     */
    public void run(IntConsumer work) {
        task = work;
        await(start);
        await(end);
        Throwable t = failure.getAndSet(null);
        if (t != null) {
            throw new IllegalStateException("a crew member failed", t);
        }
    }

    /** Stops the members after their current round; waits for them to exit. */
    @Override
    public void close() {
        closed = true;
        await(start);
        for (Thread m : members) {
            try {
                m.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void serve(int index) {
        for (;;) {
            await(start);
            if (closed) {
                return;
            }
            try {
                task.accept(index);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            await(end);
        }
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted at a crew barrier", e);
        } catch (BrokenBarrierException e) {
            throw new IllegalStateException("crew barrier broken", e);
        }
    }
}
