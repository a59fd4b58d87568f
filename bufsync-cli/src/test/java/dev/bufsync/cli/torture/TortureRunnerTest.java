package dev.bufsync.cli.torture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.cli.Output;
import dev.bufsync.ww.WwClass;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/** The runner's verdicts: a failure is reported as failed, a real deadlock as hung with a report. */
class TortureRunnerTest {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final Output out = new Output(new PrintStream(buf, true, StandardCharsets.UTF_8), false);
    private final TortureRunner.Settings settings = new TortureRunner.Settings(
            List.of(WwClass.Algorithm.WOUND_WAIT), Duration.ofMillis(100), 2, false);

    /** A deadlocked scenario is reported as hung, naming each thread, what it waits for and holds. */
    @Test
    void deadlockIsReportedAsHungWithHoldersAndWaiters() throws Exception {
        ReentrantLock a = new ReentrantLock();
        ReentrantLock b = new ReentrantLock();
        Thread[] threads = new Thread[2];
        Scenario deadlock = new TestScenario("control-deadlock", run -> {
            CountDownLatch both = new CountDownLatch(2);
            threads[0] = run.newThread("left", () -> abba(a, b, both));
            threads[1] = run.newThread("right", () -> abba(b, a, both));
            run.joinAll();
            return Scenario.Outcome.passed(1, 0);
        });
        List<TortureRunner.Result> results = new TortureRunner(out, Duration.ofMillis(700))
                .run(List.of(deadlock), settings);
        for (Thread t : threads) {
            t.interrupt();
        }
        TortureRunner.Result r = results.get(0);
        assertThat(r.hung()).isTrue();
        assertThat(r.passed()).isFalse();
        assertThat(r.failure()).contains("torture-control-deadlock-left", "torture-control-deadlock-right")
                .contains("waits for").contains("held by torture-control-deadlock-right")
                .contains("held by torture-control-deadlock-left").contains("holds [");
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains("HUNG ww/control-deadlock");
    }

    /** A scenario that returns a failure, or throws, is reported as failed with the reason. */
    @Test
    void failuresAreReported() {
        Scenario failing = new TestScenario("fails", run -> Scenario.Outcome.failed(3, 0, "broken on purpose"));
        Scenario throwing = new TestScenario("throws", run -> {
            throw new IllegalStateException("thrown on purpose");
        });
        List<TortureRunner.Result> results = new TortureRunner(out, Duration.ofSeconds(30))
                .run(List.of(failing, throwing), settings);
        assertThat(results).extracting(TortureRunner.Result::passed).containsExactly(false, false);
        assertThat(results.get(0).failure()).isEqualTo("broken on purpose");
        assertThat(results.get(1).failure()).contains("thrown on purpose");
        assertThat(results).extracting(TortureRunner.Result::hung).containsExactly(false, false);
    }

    private static void abba(ReentrantLock first, ReentrantLock second, CountDownLatch both) {
        first.lock();
        try {
            both.countDown();
            both.await();
            second.lockInterruptibly();
            second.unlock();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            first.unlock();
        }
    }

    private record TestScenario(String name, Body body) implements Scenario {
        @Override
        public String suite() {
            return "ww";
        }

        @Override
        public Outcome run(TortureRun run) throws Exception {
            return body.run(run);
        }
    }

    @FunctionalInterface
    private interface Body {
        Scenario.Outcome run(TortureRun run) throws Exception;
    }
}
