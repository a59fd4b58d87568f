package dev.bufsync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.ww.WwMutex;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Flight Recorder events work for a user on the module path: a small application module that
 * requires dev.bufsync.core, run with {@code -XX:StartFlightRecording} and the JDK's default
 * settings, records bufsync events although their classes are package-private in the core
 * module. (The other tests run on the class path.)
 */
class ModulePathJfrTest {
    private static final String MAIN = """
            package probe;

            import dev.bufsync.sched.Engine;
            import dev.bufsync.sched.Job;
            import dev.bufsync.ww.AcquireContext;
            import dev.bufsync.ww.BackoffException;
            import dev.bufsync.ww.WwClass;
            import dev.bufsync.ww.WwMutex;
            import java.time.Duration;

            public class Main {
                public static void main(String[] args) throws Exception {
                    WwClass cls = WwClass.builder("probe").injectBackoff(true).build();
                    WwMutex[] mutexes = new WwMutex[64];
                    for (int i = 0; i < mutexes.length; i++) {
                        mutexes[i] = new WwMutex(cls);
                    }
                    try (AcquireContext ctx = cls.begin()) {
                        try {
                            for (WwMutex m : mutexes) {
                                m.lock(ctx);
                            }
                        } catch (BackoffException injected) {
                            // recorded as dev.bufsync.ww.Backoff
                        }
                        ctx.unlockAll();
                    }
                    try (Engine engine = Engine.builder("probe-gpu").build()) {
                        engine.newEntity("q").submit(Job.builder("probe-job").run(() -> { }).build())
                                .finished().await(Duration.ofSeconds(30));
                    }
                }
            }
            """;

    /** A module-path application's recording holds the bufsync back-off and job events. */
    @Test
    void eventsRecordedOnTheModulePath(@TempDir Path dir) throws Exception {
        Path core = Path.of(WwMutex.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertThat(core.resolve("module-info.class")).exists();
        Path src = dir.resolve("src/probe");
        Files.createDirectories(src.resolve("probe"));
        Files.writeString(src.resolve("module-info.java"), "module probe { requires dev.bufsync.core; }");
        Files.writeString(src.resolve("probe/Main.java"), MAIN);
        Path out = dir.resolve("out/probe");
        int javac = ToolProvider.findFirst("javac").orElseThrow().run(System.out, System.err, "-d", out.toString(),
                "--module-path", core.toString(), src.resolve("module-info.java").toString(),
                src.resolve("probe/Main.java").toString());
        assertThat(javac).as("javac").isZero();

        Path jfr = dir.resolve("probe.jfr");
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(javaBin, "-XX:StartFlightRecording:settings=default,filename=" + jfr,
                "--module-path", core + File.pathSeparator + out, "-m", "probe/probe.Main")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("probe finished").isTrue();
        assertThat(p.exitValue()).as(output).isZero();

        List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
        List<String> names = events.stream().map(e -> e.getEventType().getName())
                .filter(n -> n.startsWith("dev.bufsync.")).distinct().sorted().collect(Collectors.toList());
        assertThat(names).as(output).contains("dev.bufsync.ww.Backoff", "dev.bufsync.sched.JobFinished");
        assertThat(events).filteredOn(e -> e.getEventType().getName().equals("dev.bufsync.sched.JobFinished"))
                .singleElement().satisfies(e -> assertThat(e.getString("job")).isEqualTo("probe-job"));
    }
}
