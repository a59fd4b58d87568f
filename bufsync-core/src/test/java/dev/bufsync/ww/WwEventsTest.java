package dev.bufsync.ww;

import static dev.bufsync.ww.Actor.awaitWaiters;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.JfrCapture;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import org.junit.jupiter.api.Test;

/**
 * The Flight Recorder events of the ww package are committed when their situation occurs, with
 * the fields that describe it, and not when a recording's threshold excludes them. Contention is
 * forced with {@link Actor}s (a waiter is known to be queued before the holder lets go), back-offs
 * with injection.
 */
class WwEventsTest {
    private static final String CONTENDED = "dev.bufsync.ww.ContendedLock";
    private static final String BACKOFF = "dev.bufsync.ww.Backoff";
    private static final String WOUND = "dev.bufsync.ww.Wound";

    private static WwClass wwClass(String name, WwClass.Algorithm algorithm) {
        return WwClass.builder(name).algorithm(algorithm).injectBackoff(false).build();
    }

    /** Events of this test's class only: other tests may run in the same JVM. */
    private static List<RecordedEvent> of(JfrCapture jfr, String event, WwClass cls) {
        return jfr.events(event).stream().filter(e -> cls.name().equals(e.getString("wwClass"))).toList();
    }

    /**
     * Holds {@code m} with a context on {@code holder}, queues a context of {@code waiter} behind
     * it, then lets it go: the waiter's lock is contended.
     *
     * @return the stamps of the holder's and the waiter's contexts
     */
    private static long[] contend(WwClass cls, WwMutex m) throws Exception {
        return contend(cls, m, Duration.ZERO);
    }

    /** As {@link #contend(WwClass, WwMutex)}; the holder lets go {@code dwell} after the waiter queued. */
    private static long[] contend(WwClass cls, WwMutex m, Duration dwell) throws Exception {
        try (Actor holder = new Actor("holder"); Actor waiter = new Actor("waiter")) {
            AcquireContext h = holder.call(() -> {
                AcquireContext c = cls.begin();
                m.lock(c);
                return c;
            });
            AcquireContext w = waiter.call(cls::begin);
            Future<LockResult> queued = waiter.start(() -> m.lock(w));
            awaitWaiters(m, 1);
            Thread.sleep(dwell);                         // the wait lasts at least this long
            holder.run(() -> {
                h.unlockAll();
                h.close();
            });
            assertThat(queued.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(LockResult.ACQUIRED);
            waiter.run(() -> {
                w.unlockAll();
                w.close();
            });
            return new long[] {h.stamp(), w.stamp()};
        }
    }

    /** A contended lock records the class, the mutex, both stamps, the holder thread and the outcome. */
    @Test
    void contendedLockRecordsHolderAndWaiter() throws Exception {
        WwClass cls = wwClass("events-contended", WwClass.Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        long[] stamps;
        List<RecordedEvent> events;
        try (JfrCapture jfr = JfrCapture.everything(CONTENDED)) {
            stamps = contend(cls, m);
            events = of(jfr, CONTENDED, cls);
        }
        assertThat(events).hasSize(1);
        RecordedEvent e = events.get(0);
        assertThat(e.getString("algorithm")).isEqualTo("WOUND_WAIT");
        assertThat(e.getString("mutex")).isEqualTo(m.describe());
        assertThat(e.getString("mode")).isEqualTo("exclusive");
        assertThat(e.getLong("holderStamp")).isEqualTo(stamps[0]);
        assertThat(e.getLong("waiterStamp")).isEqualTo(stamps[1]);
        assertThat(e.getInt("waiterHeld")).isZero();
        assertThat(e.getThread("holderThread").getJavaName()).isEqualTo("holder");
        assertThat(e.getThread().getJavaName()).isEqualTo("waiter");
        assertThat(e.getString("outcome")).isEqualTo("acquired");
        assertThat(e.getDuration()).isPositive();
        assertThat(e.getStackTrace()).as("stack trace").isNotNull();
    }

    /**
     * A shared mutex's queued requests are recorded too, with their mode: a reader queued behind
     * an older writer names the writer; the reader's upgrade, waiting for the writer that now
     * reads beside it, names that reader.
     */
    @Test
    void sharedContendedLockRecordsModeAndHolder() throws Exception {
        WwClass cls = wwClass("events-shared", WwClass.Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        List<RecordedEvent> events;
        AcquireContext w;
        try (JfrCapture jfr = JfrCapture.everything(CONTENDED);
             Actor writer = new Actor("writer"); Actor reader = new Actor("reader")) {
            w = writer.call(() -> {
                AcquireContext c = cls.begin();
                m.lock(c);
                return c;
            });
            AcquireContext r = reader.call(cls::begin);
            Future<LockResult> read = reader.start(() -> m.lockShared(r));
            Actor.await("the reader queued", () -> m.waiterCount() == 1);
            writer.run(() -> {
                m.unlock(w);
                m.lockShared(w);
            });
            assertThat(read.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(LockResult.ACQUIRED);
            Future<LockResult> upgrade = reader.start(() -> m.lock(r));
            Actor.await("the upgrade queued", () -> m.waiterCount() == 1);
            writer.run(() -> {
                w.unlockAll();
                w.close();
            });
            assertThat(upgrade.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(LockResult.UPGRADED);
            reader.run(() -> {
                r.unlockAll();
                r.close();
            });
            events = of(jfr, CONTENDED, cls);
        }
        assertThat(events).extracting(e -> e.getThread().getJavaName() + " " + e.getString("mode")
                        + " " + e.getString("outcome") + " holder " + e.getLong("holderStamp") + " on "
                        + e.getThread("holderThread").getJavaName() + " " + e.getString("mutex"))
                .containsExactly("reader shared acquired holder " + w.stamp() + " on writer " + m.describe(),
                        "reader upgrade acquired holder " + w.stamp() + " on writer " + m.describe());
    }

    /**
     * Without contexts: a timed lock that runs out while another thread holds the mutex records
     * stamps 0, the holder thread and "timed out".
     */
    @Test
    void plainTimedLockRecordsTimeout() throws Exception {
        WwClass cls = wwClass("events-plain", WwClass.Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        List<RecordedEvent> events;
        try (JfrCapture jfr = JfrCapture.everything(CONTENDED); Actor holder = new Actor("plain-holder")) {
            holder.run(m::lock);
            assertThat(m.tryLock(Duration.ofMillis(1))).isFalse();
            holder.run(m::unlock);
            events = of(jfr, CONTENDED, cls);
        }
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.getLong("waiterStamp")).isZero();
            assertThat(e.getLong("holderStamp")).isZero();
            assertThat(e.getThread("holderThread").getJavaName()).isEqualTo("plain-holder");
            assertThat(e.getString("outcome")).isEqualTo("timed out");
        });
    }

    /**
     * A contended lock longer than the recording's threshold is recorded: its duration ends when
     * the mutex is acquired (the wait lasts at least 20 ms, the threshold is 1 ms).
     */
    @Test
    void contendedLockAboveThresholdIsRecorded() throws Exception {
        WwClass cls = wwClass("events-above-threshold", WwClass.Algorithm.WAIT_DIE);
        WwMutex m = new WwMutex(cls);
        try (JfrCapture jfr = JfrCapture.start(Map.of(CONTENDED, Duration.ofMillis(1)))) {
            contend(cls, m, Duration.ofMillis(20));
            assertThat(of(jfr, CONTENDED, cls)).singleElement().satisfies(e -> {
                assertThat(e.getDuration()).isGreaterThanOrEqualTo(Duration.ofMillis(20));
                assertThat(e.getString("outcome")).isEqualTo("acquired");
            });
        }
    }

    /** A contended lock shorter than the recording's threshold is not recorded. */
    @Test
    void contendedLockBelowThresholdIsNotRecorded() throws Exception {
        WwClass cls = wwClass("events-threshold", WwClass.Algorithm.WAIT_DIE);
        WwMutex m = new WwMutex(cls);
        try (JfrCapture jfr = JfrCapture.start(Map.of(CONTENDED, Duration.ofHours(1)))) {
            contend(cls, m);
            assertThat(of(jfr, CONTENDED, cls)).isEmpty();
        }
        assertThat(cls.stats().contended()).as("the lock was contended").isEqualTo(1);
    }

    /** The events are on by default; a contended lock is recorded from 20 ms, as jdk.JavaMonitorEnter. */
    @Test
    void defaults() {
        assertThat(JfrCapture.defaultSetting(WwEvents.ContendedLock.class, "threshold")).isEqualTo("20 ms");
        assertThat(JfrCapture.defaultSetting(WwEvents.ContendedLock.class, "enabled")).isEqualTo("true");
        assertThat(JfrCapture.defaultSetting(WwEvents.Backoff.class, "enabled")).isEqualTo("true");
        assertThat(JfrCapture.defaultSetting(WwEvents.Wound.class, "enabled")).isEqualTo("true");
    }

    /** An injected back-off records the context's stamp, the mutex, the reason and the locks held. */
    @Test
    void injectedBackoff() throws Exception {
        WwClass cls = WwClass.builder("events-injected").injectBackoff(true).build();
        WwMutex[] mutexes = new WwMutex[64];
        for (int i = 0; i < mutexes.length; i++) {
            mutexes[i] = new WwMutex(cls);
        }
        BackoffException thrown = null;
        List<RecordedEvent> events;
        try (JfrCapture jfr = JfrCapture.everything(BACKOFF); AcquireContext ctx = cls.begin()) {
            for (int i = 0; thrown == null; i++) {
                try {
                    mutexes[i].lock(ctx);
                } catch (BackoffException e) {
                    thrown = e;
                }
            }
            int held = ctx.heldCount();
            ctx.unlockAll();
            events = of(jfr, BACKOFF, cls);
            assertThat(events).hasSize(1);
            RecordedEvent e = events.get(0);
            assertThat(e.getString("reason")).isEqualTo("INJECTED");
            assertThat(e.getString("mutex")).isEqualTo(thrown.mutex().describe());
            assertThat(e.getLong("stamp")).isEqualTo(ctx.stamp());
            assertThat(e.getLong("olderStamp")).isEqualTo(ctx.stamp());
            assertThat(e.getInt("held")).isEqualTo(held).isPositive();
            assertThat(e.getThread().getJavaThreadId()).isEqualTo(Thread.currentThread().threadId());
        }
    }

    /**
     * Wound-wait: a younger context queued behind an older one is wounded when the older one
     * queues for a mutex the younger holds. Its contended lock ends "wounded", it backs off
     * (reason WOUNDED) and the Wound event names both stamps; the older one's lock is contended
     * with the younger as holder.
     */
    @Test
    void woundRecordsWounderAndWounded() throws Exception {
        WwClass cls = wwClass("events-wound", WwClass.Algorithm.WOUND_WAIT);
        WwMutex m0 = new WwMutex(cls);
        WwMutex m1 = new WwMutex(cls);
        try (JfrCapture jfr = JfrCapture.everything(CONTENDED, BACKOFF, WOUND);
             Actor older = new Actor("older"); Actor younger = new Actor("younger")) {
            AcquireContext a = older.call(() -> {
                AcquireContext c = cls.begin();
                m0.lock(c);
                return c;
            });
            AcquireContext b = younger.call(() -> {
                AcquireContext c = cls.begin();
                m1.lock(c);
                return c;
            });
            Future<LockResult> bWaits = younger.start(() -> m0.lock(b));
            awaitWaiters(m0, 1);
            Future<LockResult> aWaits = older.start(() -> m1.lock(a));
            assertThatThrownBy(() -> bWaits.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS))
                    .hasCauseInstanceOf(BackoffException.class);
            younger.run(() -> {
                b.unlockAll();
                b.close();
            });
            assertThat(aWaits.get(Actor.PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(LockResult.ACQUIRED);
            older.run(() -> {
                a.unlockAll();
                a.close();
            });

            List<RecordedEvent> wounds = of(jfr, WOUND, cls);
            assertThat(wounds).hasSize(1);
            assertThat(wounds.get(0).getLong("woundedStamp")).isEqualTo(b.stamp());
            assertThat(wounds.get(0).getLong("wounderStamp")).isEqualTo(a.stamp());
            assertThat(wounds.get(0).getString("mutex")).isEqualTo(m0.describe());
            assertThat(wounds.get(0).getInt("held")).isEqualTo(1);
            assertThat(wounds.get(0).getThread().getJavaName()).isEqualTo("younger");

            List<RecordedEvent> backoffs = of(jfr, BACKOFF, cls);
            assertThat(backoffs).hasSize(1);
            assertThat(backoffs.get(0).getString("reason")).isEqualTo("WOUNDED");
            assertThat(backoffs.get(0).getLong("stamp")).isEqualTo(b.stamp());
            assertThat(backoffs.get(0).getLong("olderStamp")).isEqualTo(a.stamp());

            List<RecordedEvent> contended = of(jfr, CONTENDED, cls);
            assertThat(contended).extracting(e -> e.getThread().getJavaName() + " " + e.getString("outcome")
                            + " holder " + e.getLong("holderStamp") + " held " + e.getInt("waiterHeld"))
                    .containsExactlyInAnyOrder("younger wounded holder " + a.stamp() + " held 1",
                            "older acquired holder " + b.stamp() + " held 1");
        }
    }
}
