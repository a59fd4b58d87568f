package dev.bufsync.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo's replay check compares whole contents with a sequential replay, not last writers. */
class JobReplayTest {
    private static final JobReplay.Job WRITE_B0 = new JobReplay.Job(1, 10, List.of(), List.of(0), true);
    private static final JobReplay.Job COPY_B0_TO_B1 = new JobReplay.Job(2, 20, List.of(0), List.of(1), true);
    private static final JobReplay.Job REWRITE_B0 = new JobReplay.Job(3, 30, List.of(1), List.of(0), true);

    /** The buffers after running the jobs' device steps in the given order. */
    private static long[] run(int buffers, JobReplay.Job... order) {
        long[] m = new long[buffers];
        for (JobReplay.Job j : order) {
            long[] in = j.reads().stream().mapToLong(b -> m[b]).toArray();
            for (int b : j.writes()) m[b] = SharedBuffers.mix(j.id(), m[b], in);
        }
        return m;
    }

    @Test
    void buffersWrittenInFenceOrderEqualTheReplay() {
        long[] memory = run(3, WRITE_B0, COPY_B0_TO_B1, REWRITE_B0);
        JobReplay.Result r = JobReplay.check(List.of(REWRITE_B0, WRITE_B0, COPY_B0_TO_B1), 3, b -> memory[b]);
        assertThat(r.mismatched()).isEmpty();
        assertThat(r.matched()).isEqualTo(3);
        assertThat(r.replayed()).isEqualTo(3);
    }

    @Test
    void aReaderThatRanBeforeTheWriterItWaitsForIsCaughtAlthoughEveryBufferHoldsItsLastWriter() {
        // job 2 read b0 before job 1 wrote it: the last writers are right (b0 ← 3, b1 ← 2), the contents are not
        long[] memory = run(3, COPY_B0_TO_B1, WRITE_B0, REWRITE_B0);
        JobReplay.Result r = JobReplay.check(List.of(WRITE_B0, COPY_B0_TO_B1, REWRITE_B0), 3, b -> memory[b]);
        assertThat(r.mismatched()).containsExactly("b0", "b1");
    }

    @Test
    void aJobThatDidNotCompleteMakesWhatItWroteAndWhatWasComputedFromItUnknown() {
        JobReplay.Job abandoned = new JobReplay.Job(1, 10, List.of(), List.of(0), false);
        long[] memory = run(3, COPY_B0_TO_B1);          // whatever: b0 and b1 are not checkable
        memory[2] = 42;                                 // nobody wrote b2: must still be zero
        JobReplay.Result r = JobReplay.check(List.of(abandoned, COPY_B0_TO_B1), 3, b -> memory[b]);
        assertThat(r.unknown()).isEqualTo(2);
        assertThat(r.replayed()).isZero();
        assertThat(r.mismatched()).containsExactly("b2");
    }
}
