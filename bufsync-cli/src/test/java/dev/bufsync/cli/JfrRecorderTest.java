package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jmc.common.item.IItemIterable;
import org.openjdk.jmc.flightrecorder.JfrLoaderToolkit;

/**
 * {@code --jfr FILE}: the run's flight recording holds bufsync events, which the JDK's own
 * {@code jfr} tool prints and JDK Mission Control's parser reads; a file that cannot be written is
 * a usage error before the run.
 */
class JfrRecorderTest {

    private static Set<String> bufsyncEvents(Path file) throws Exception {
        Set<String> names = new TreeSet<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().startsWith("dev.bufsync.")) {
                names.add(e.getEventType().getName());
            }
        }
        return names;
    }

    /** The bufsync event types with at least one event, as JDK Mission Control's parser reads them. */
    private static Set<String> missionControlEventTypes(Path file) throws Exception {
        Set<String> types = new TreeSet<>();
        for (IItemIterable items : JfrLoaderToolkit.loadEvents(file.toFile())) {
            String id = items.getType().getIdentifier();
            if (id.startsWith("dev.bufsync.") && items.getItemCount() > 0) {
                types.add(id);
            }
        }
        return types;
    }

    /** demo --locking ww --jfr writes a recording with the jobs and back-offs of the run, and says so. */
    @Test
    void demoRecordsBufsyncEvents(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("demo.jfr");
        CliRun run = CliRun.of("demo", "--locking", "ww", "--seconds", "1", "--jfr", file.toString(), "--json");
        assertThat(run.status()).as(run.stdout() + run.stderr()).isEqualTo(Main.OK);
        assertThat(run.stderr()).as("--json: the report goes to standard error")
                .contains("flight recording written to " + file);
        assertThat(bufsyncEvents(file)).contains("dev.bufsync.sched.JobFinished");
        if (run.summary().get("backoffs").asLong() > 0) {
            assertThat(bufsyncEvents(file)).contains("dev.bufsync.ww.Backoff", "dev.bufsync.exec.ExecRetry");
        }

        // The JDK's jfr tool (next to the java that runs the tests) prints them.
        Path jfrTool = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jfr");
        Process p = new ProcessBuilder(jfrTool.toString(), "print", "--events", "dev.bufsync.*", file.toString())
                .redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(printed).isZero();
        assertThat(printed).contains("dev.bufsync.sched.JobFinished {").contains("engine = \"");

        // JDK Mission Control opens it: its own parser finds the same events.
        assertThat(missionControlEventTypes(file)).isEqualTo(bufsyncEvents(file));
    }

    /** torture --jfr records too. */
    @Test
    void tortureRecords(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("torture.jfr");
        CliRun run = CliRun.of("torture", "--suite", "exec", "--seconds", "0.2", "--inject-backoff",
                "--jfr", file.toString());
        assertThat(run.status()).as(run.stdout() + run.stderr()).isEqualTo(Main.OK);
        assertThat(bufsyncEvents(file)).contains("dev.bufsync.ww.Backoff");
    }

    /**
     * A run cut short (the JVM is asked to exit, as by Ctrl-C or a kill) still writes its
     * recording: the JVM's exit dumps it.
     */
    @Test
    void recordingWrittenWhenTheRunIsCutShort(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("cut.jfr");
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "demo", "--locking", "ww", "--seconds", "600", "--jfr", file.toString())
                .redirectErrorStream(true).start();
        try (var lines = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            String first = lines.readLine();                // printed once the recording runs
            assertThat(first).as("the demo started").contains("drivers");
            p.destroy();                                    // SIGTERM: the JVM runs its exit hooks
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exited").isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(RecordingFile.readAllEvents(file)).as("a readable recording")
                .anySatisfy(e -> assertThat(e.getEventType().getName()).isEqualTo("jdk.JVMInformation"));
    }

    /** A missing directory, a directory, or an unwritable file is refused before the run, naming the option. */
    @Test
    void unwritableFileIsAUsageError(@TempDir Path dir) throws Exception {
        assertThat(CliRun.usageError("demo", "--locking", "ww", "--seconds", "1", "--jfr", "/nonexistent/x.jfr"))
                .contains("--jfr /nonexistent/x.jfr: the directory /nonexistent does not exist");
        assertThat(CliRun.usageError("torture", "--jfr", dir.toString())).contains("--jfr " + dir + ": is a directory");
        Path readOnly = Files.createFile(dir.resolve("ro.jfr"));
        if (readOnly.toFile().setWritable(false) && !Files.isWritable(readOnly)) {   // root can write anyway
            assertThat(CliRun.usageError("demo", "--jfr", readOnly.toString())).contains("cannot be written");
        }
    }
}
