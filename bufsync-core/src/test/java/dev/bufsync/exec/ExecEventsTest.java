package dev.bufsync.exec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.JfrCapture;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.ww.WwClass;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;

/**
 * The Flight Recorder event of the exec package: one ExecRetry per retry, numbered, naming the
 * contended object (the one the exec slow-locks before running the body again).
 */
class ExecEventsTest {
    private static final String RETRY = "dev.bufsync.exec.ExecRetry";

    private record Obj(Reservation reservation) implements HasReservation {
    }

    /** Injected back-offs make the body run again; each retry is recorded with the transaction's stamp. */
    @Test
    void everyRetryIsRecorded() throws Exception {
        WwClass injecting = WwClass.builder("exec-events").injectBackoff(true).build();
        List<Obj> objs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            objs.add(new Obj(new Reservation(injecting, "events-o" + i)));
        }
        List<String> contended = new ArrayList<>();
        try (JfrCapture jfr = JfrCapture.everything(RETRY); Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                for (HasReservation slowLocked : e.locked()) {     // a retry starts with the contended one
                    contended.add(slowLocked.reservation().name());
                }
                for (Obj o : objs) {
                    e.lock(o);
                }
            });
            long stamp = exec.context().stamp();
            List<RecordedEvent> events = jfr.events(RETRY).stream()
                    .filter(ev -> ev.getLong("stamp") == stamp && ev.getString("contended").startsWith("events-o"))
                    .toList();
            assertThat(exec.retries()).isPositive();
            assertThat(events).extracting(ev -> ev.getInt("retry"))
                    .containsExactlyElementsOf(IntStream.rangeClosed(1, exec.retries()).boxed().toList());
            assertThat(events).extracting(ev -> ev.getString("contended")).containsExactlyElementsOf(contended);
            assertThat(events).allSatisfy(ev -> assertThat(ev.getThread().getJavaThreadId())
                    .isEqualTo(Thread.currentThread().threadId()));
            assertThat(JfrCapture.defaultSetting(ExecEvents.Retry.class, "enabled")).isEqualTo("true");
        }
    }
}
