package dev.bufsync.management;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.sched.Engine;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.Job;
import dev.bufsync.sched.SubmittedJob;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/**
 * The MXBeans: registered on request under dev.bufsync, their attributes read through the
 * platform MBean server equal the counters, a duplicate name is refused, and closing the
 * registration unregisters it.
 */
class MBeansTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    private static Object attribute(ObjectName name, String attribute) throws Exception {
        return SERVER.getAttribute(name, attribute);
    }

    /** A class's MXBean shows its configuration and its live counters. */
    @Test
    void wwClassAttributes() throws Exception {
        WwClass cls = WwClass.builder("mbeans-buffers").algorithm(WwClass.Algorithm.WAIT_DIE)
                .injectBackoff(true).build();
        WwMutex[] mutexes = {new WwMutex(cls), new WwMutex(cls), new WwMutex(cls), new WwMutex(cls)};
        try (MBeans.Registration r = MBeans.register(cls)) {
            ObjectName name = r.objectName();
            assertThat(name).isEqualTo(new ObjectName("dev.bufsync:type=WwClass,name=mbeans-buffers"));
            assertThat(SERVER.isRegistered(name)).isTrue();
            assertThat(attribute(name, "Name")).isEqualTo("mbeans-buffers");
            assertThat(attribute(name, "Algorithm")).isEqualTo("WAIT_DIE");
            assertThat(attribute(name, "InjectBackoff")).isEqualTo(true);
            assertThat(attribute(name, "Contexts")).isEqualTo(0L);

            for (int round = 0; round < 20 && cls.stats().backoffs() == 0; round++) {
                try (AcquireContext ctx = cls.begin()) {
                    try {
                        for (WwMutex m : mutexes) {
                            m.lock(ctx);
                        }
                    } catch (BackoffException injected) {
                        // counted; the next round starts over
                    }
                    ctx.unlockAll();
                }
            }
            var stats = cls.stats();
            assertThat(stats.backoffs()).as("an injected back-off happened").isPositive();
            assertThat(attribute(name, "Contexts")).isEqualTo(stats.contexts());
            assertThat(attribute(name, "Acquisitions")).isEqualTo(stats.acquisitions()).isNotEqualTo(0L);
            assertThat(attribute(name, "Backoffs")).isEqualTo(stats.backoffs());
            assertThat(attribute(name, "Injected")).isEqualTo(stats.injected());
            assertThat(attribute(name, "Contended")).isEqualTo(stats.contended());
            assertThat(attribute(name, "Wounds")).isEqualTo(stats.wounds());
            assertThat(attribute(name, "WaitNanos")).isEqualTo(stats.waitNanos());
        }
        assertThat(SERVER.isRegistered(MBeans.objectName(cls))).isFalse();
    }

    /** An engine's MXBean shows its live counters. */
    @Test
    void engineAttributes() throws Exception {
        try (Engine engine = Engine.builder("mbeans-gpu").credits(2).build();
             MBeans.Registration r = MBeans.register(engine)) {
            ObjectName name = r.objectName();
            assertThat(name).isEqualTo(new ObjectName("dev.bufsync:type=Engine,name=mbeans-gpu"));
            assertThat(attribute(name, "CreditLimit")).isEqualTo(2);
            Entity entity = engine.newEntity("q");
            SubmittedJob ok = entity.submit(Job.builder("ok").run(() -> { }).build());
            SubmittedJob bad = entity.submit(Job.builder("bad").run(() -> {
                throw new IllegalStateException("device fault");
            }).build());
            bad.finished().await(Duration.ofSeconds(30));
            assertThat(ok.finished().isSignaled()).isTrue();
            assertThat(attribute(name, "Submitted")).isEqualTo(2L);
            assertThat(attribute(name, "Completed")).isEqualTo(1L);
            assertThat(attribute(name, "Failed")).isEqualTo(1L);
            assertThat(attribute(name, "TimedOut")).isEqualTo(0L);
            assertThat(attribute(name, "Cancelled")).isEqualTo(0L);
            assertThat(attribute(name, "Queued")).isEqualTo(0);
            assertThat(attribute(name, "InFlight")).isEqualTo(0);
            assertThat(attribute(name, "FencesCreated")).isEqualTo(4L);
            assertThat(attribute(name, "FencesSignaled")).isEqualTo(4L);
            assertThat(attribute(name, "FencesPending")).isEqualTo(0L);
            assertThat(attribute(name, "Retries")).isEqualTo(0L);
        }
    }

    /** A second registration under the same name is refused, naming it; the first stays. */
    @Test
    void duplicateNameRefused() throws Exception {
        WwClass first = WwClass.woundWait("mbeans-twice");
        WwClass second = WwClass.woundWait("mbeans-twice");
        try (MBeans.Registration r = MBeans.register(first)) {
            assertThatThrownBy(() -> MBeans.register(second)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("dev.bufsync:type=WwClass,name=mbeans-twice")
                    .hasMessageContaining("registered already");
            assertThat(SERVER.isRegistered(r.objectName())).isTrue();
        }
        try (MBeans.Registration again = MBeans.register(second)) {
            assertThat(SERVER.isRegistered(again.objectName())).as("free again after close").isTrue();
        }
    }

    /** Closing twice is harmless; so is closing after someone else unregistered the MBean. */
    @Test
    void closeIsIdempotent() throws Exception {
        MBeans.Registration r = MBeans.register(WwClass.waitDie("mbeans-close"));
        r.close();
        r.close();
        assertThat(SERVER.isRegistered(r.objectName())).isFalse();
        MBeans.Registration s = MBeans.register(WwClass.waitDie("mbeans-close"));
        SERVER.unregisterMBean(s.objectName());
        s.close();
    }

    /** Names with characters JMX reserves are quoted, and still round-trip. */
    @Test
    void reservedCharactersAreQuoted() throws Exception {
        WwClass odd = WwClass.woundWait("gpu,ring=0:\"main\"");
        try (MBeans.Registration r = MBeans.register(odd)) {
            assertThat(ObjectName.unquote(r.objectName().getKeyProperty("name"))).isEqualTo(odd.name());
            assertThat(attribute(r.objectName(), "Name")).isEqualTo(odd.name());
        }
        assertThat(MBeans.objectName(WwClass.woundWait("")).getKeyProperty("name")).isEqualTo("\"\"");
    }
}
