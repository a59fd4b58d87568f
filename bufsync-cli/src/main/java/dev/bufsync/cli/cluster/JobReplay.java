package dev.bufsync.cli.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntToLongFunction;

/**
 * The demo's replay check: the shared buffers must equal a sequential replay of the completed jobs
 * in fence order. Each job's device step sets every buffer it writes to
 * {@link SharedBuffers#mix} of its id, the buffer's old content and the contents of the buffers it
 * reads, so the final contents depend on every job and on the order; the replay runs the jobs one
 * by one, ordered by their fences' {@code czxid} (each fence is created while its job holds all
 * its buffers' locks, so that order serializes every two jobs that share a buffer). A job that did
 * not complete (abandoned with its driver, or failed before its device step) may or may not have
 * written: its buffers become unknown, and so does whatever a later job computes from them.
 */
final class JobReplay {

    /**
     * One job as its driver logged it before publishing anything.
     *
     * @param order its fence's czxid
     * @param completed whether it reached its device step (fence signalled, or signalled with
     *                  "dependency failed", which the driver does after its device step)
     */
    record Job(long id, long order, List<Integer> reads, List<Integer> writes, boolean completed) {
    }

    /** Buffers equal to the replay, different from it, unknown, and the jobs replayed. */
    record Result(int matched, List<String> mismatched, int unknown, int replayed) {
    }

    private JobReplay() {
    }

    /** Replays {@code jobs} over {@code buffers} zeroed buffers and compares with {@code memory}. */
    static Result check(List<Job> jobs, int buffers, IntToLongFunction memory) {
        long[] model = new long[buffers];
        boolean[] unknown = new boolean[buffers];
        List<Job> ordered = new ArrayList<>(jobs);
        ordered.sort(Comparator.comparingLong(Job::order));
        int replayed = 0;
        for (Job j : ordered) {
            boolean known = j.completed();
            for (int b : j.reads()) known &= !unknown[b];
            for (int b : j.writes()) known &= !unknown[b];
            if (!known) {
                for (int b : j.writes()) unknown[b] = true;
                continue;
            }
            long[] inputs = j.reads().stream().mapToLong(b -> model[b]).toArray();
            for (int b : j.writes()) model[b] = SharedBuffers.mix(j.id(), model[b], inputs);
            replayed++;
        }
        int matched = 0, unknowns = 0;
        List<String> mismatched = new ArrayList<>();
        for (int b = 0; b < buffers; b++) {
            if (unknown[b]) unknowns++;
            else if (memory.applyAsLong(b) == model[b]) matched++;
            else mismatched.add("b" + b);
        }
        return new Result(matched, mismatched, unknowns, replayed);
    }
}
