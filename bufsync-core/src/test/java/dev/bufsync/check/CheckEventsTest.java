package dev.bufsync.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.fence.FenceContext;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Flight Recorder event of a reported cycle. */
class CheckEventsTest {
    /** A cycle reported under warn commits one DependencyCycle event naming its context and lock class. */
    @Test
    void cycleCommitsEvent(@TempDir Path dir) throws Exception {
        CheckPolicy runPolicy = Checker.policy();
        WwClass cls = WwClass.woundWait("jfr-buffers");
        WwMutex m = new WwMutex(cls);
        FenceContext gpu = FenceContext.create("jfr-gpu");
        Path file = dir.resolve("check.jfr");
        try (Recording r = new Recording()) {
            r.enable("dev.bufsync.check.DependencyCycle");
            r.start();
            Checker.setPolicy(CheckPolicy.WARN);
            try (AcquireContext ctx = cls.begin()) {
                m.lock(ctx);
                gpu.next().fence().await(Duration.ofMillis(1));     // jfr-buffers → jfr-gpu
                m.unlock();
            }
            try (SignallingSection s = SignallingSection.begin(gpu); AcquireContext ctx = cls.begin()) {
                m.lock(ctx);                                        // jfr-gpu → jfr-buffers: closes
                m.unlock();
            }
            r.stop();
            r.dump(file);
        } finally {
            Checker.setPolicy(runPolicy);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.bufsync.check.DependencyCycle")).toList();
        assertThat(events).hasSize(1);
        RecordedEvent e = events.get(0);
        assertThat(e.getString("policy")).isEqualTo("warn");
        assertThat(e.getString("contexts")).isEqualTo("jfr-gpu#" + gpu.id());
        assertThat(e.getString("locks")).isEqualTo("jfr-buffers");
        assertThat(e.getString("cycle")).contains("closing edge", "first seen");
        assertThat(e.getStackTrace()).isNotNull();
    }
}
