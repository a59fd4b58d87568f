package dev.bufsync.management;

import dev.bufsync.sched.Engine;
import dev.bufsync.sched.EngineStats;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwStats;
import java.lang.management.ManagementFactory;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.NotCompliantMBeanException;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/**
 * Registers {@link WwClassMXBean}s and {@link EngineMXBean}s with the platform MBean server, on
 * request, under the domain {@value #DOMAIN}: JConsole, JDK Mission Control or any JMX client then
 * shows each class's and engine's counters, read live. Nothing is registered unless asked for, and
 * each registration is undone by closing its handle.
 *
 * <pre>{@code
 * static final WwClass BUFFERS = WwClass.woundWait("buffers");
 *
 * try (MBeans.Registration r = MBeans.register(BUFFERS)) {   // dev.bufsync:type=WwClass,name=buffers
 *     ... run ...
 * }                                                          // unregistered
 * }</pre>
 *
 * <p><b>Names.</b> A class is registered as {@code dev.bufsync:type=WwClass,name=<its name>}, an
 * engine as {@code dev.bufsync:type=Engine,name=<its name>}; a name with characters that JMX
 * reserves ({@code , = : " * ?}, a newline) or an empty one is quoted
 * ({@link ObjectName#quote(String)}). Two classes (or two engines) with the same name cannot be
 * registered at once: the second registration is refused with an {@link IllegalStateException}.
 *
 * <p><b>Caveats.</b> A registration keeps its class or engine reachable until it is closed. The
 * counters are those of {@link WwClass#stats()} and {@link Engine#stats()}; reading an engine's
 * attribute takes the engine's lock briefly, as {@code stats()} does.
 */
public final class MBeans {
    /** The JMX domain of every bufsync MBean. */
    public static final String DOMAIN = "dev.bufsync";

    private static final Pattern PLAIN_VALUE = Pattern.compile("[^,=:\"*?\\n]+");

    private MBeans() {
    }

    /**
     * Registers an MXBean for {@code wwClass} with the platform MBean server.
     *
     * @param wwClass the class
     * @return the registration; close it to unregister
     * @throws IllegalStateException if an MBean of that name is registered already
     */
    public static Registration register(WwClass wwClass) {
        Objects.requireNonNull(wwClass, "wwClass");
        return register(objectName(wwClass), new WwClassView(wwClass), WwClassMXBean.class,
                "WwClass " + wwClass.name());
    }

    /**
     * Registers an MXBean for {@code engine} with the platform MBean server.
     *
     * @param engine the engine
     * @return the registration; close it to unregister
     * @throws IllegalStateException if an MBean of that name is registered already
     */
    public static Registration register(Engine engine) {
        Objects.requireNonNull(engine, "engine");
        return register(objectName(engine), new EngineView(engine), EngineMXBean.class,
                "Engine " + engine.name());
    }

    /**
     * The name under which {@link #register(WwClass)} registers {@code wwClass}.
     *
     * @param wwClass a class
     * @return {@code dev.bufsync:type=WwClass,name=<name>}
     */
    public static ObjectName objectName(WwClass wwClass) {
        return name("WwClass", wwClass.name());
    }

    /**
     * The name under which {@link #register(Engine)} registers {@code engine}.
     *
     * @param engine an engine
     * @return {@code dev.bufsync:type=Engine,name=<name>}
     */
    public static ObjectName objectName(Engine engine) {
        return name("Engine", engine.name());
    }

    private static ObjectName name(String type, String name) {
        String value = PLAIN_VALUE.matcher(name).matches() ? name : ObjectName.quote(name);
        try {
            return new ObjectName(DOMAIN + ":type=" + type + ",name=" + value);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException(type + " name " + name + " makes no valid JMX name", e);
        }
    }

    private static <T> Registration register(ObjectName name, T view, Class<T> type, String what) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.registerMBean(new StandardMBean(view, type, true), name);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalStateException("cannot register " + what + " as " + name + ": an MBean of"
                    + " that name is registered already (give it a unique name, or close the earlier"
                    + " registration)", e);
        } catch (NotCompliantMBeanException e) {
            throw new AssertionError(type.getName() + " is not a compliant MXBean interface", e);
        } catch (JMException e) {
            throw new IllegalStateException("cannot register " + what + " as " + name, e);
        }
        return new Registration(server, name);
    }

    /**
     * One registered MBean; {@link #close()} unregisters it. Closing is idempotent, and a
     * registration that someone else already unregistered closes quietly.
     */
    public static final class Registration implements AutoCloseable {
        private final MBeanServer server;
        private final ObjectName name;
        private volatile boolean closed;   // written by close, read by anyone

        private Registration(MBeanServer server, ObjectName name) {
            this.server = server;
            this.name = name;
        }

        /**
         * The name the MBean is registered under.
         *
         * @return the object name
         */
        public ObjectName objectName() {
            return name;
        }

        /**
         * Unregisters the MBean. Idempotent.
         *
         * @throws IllegalStateException if the MBean server refuses
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            try {
                server.unregisterMBean(name);
            } catch (InstanceNotFoundException gone) {
                // unregistered by someone else: nothing left to do
            } catch (JMException e) {
                throw new IllegalStateException("cannot unregister " + name, e);
            }
            closed = true;
        }

        @Override
        public String toString() {
            return "MBeans.Registration[" + name + (closed ? ", closed" : "") + "]";
        }
    }

    /** A class's attributes, read from {@link WwClass#stats()} on every access. */
    private record WwClassView(WwClass wwClass) implements WwClassMXBean {
        @Override
        public String getName() {
            return wwClass.name();
        }

        @Override
        public String getAlgorithm() {
            return wwClass.algorithm().name();
        }

        @Override
        public boolean isInjectBackoff() {
            return wwClass.injectsBackoff();
        }

        @Override
        public long getContexts() {
            return stats().contexts();
        }

        @Override
        public long getAcquisitions() {
            return stats().acquisitions();
        }

        @Override
        public long getContended() {
            return stats().contended();
        }

        @Override
        public long getBackoffs() {
            return stats().backoffs();
        }

        @Override
        public long getInjected() {
            return stats().injected();
        }

        @Override
        public long getWounds() {
            return stats().wounds();
        }

        @Override
        public long getWaitNanos() {
            return stats().waitNanos();
        }

        private WwStats stats() {
            return wwClass.stats();
        }
    }

    /** An engine's attributes, read from {@link Engine#stats()} on every access. */
    private record EngineView(Engine engine) implements EngineMXBean {
        @Override
        public String getName() {
            return engine.name();
        }

        @Override
        public int getCreditLimit() {
            return engine.creditLimit();
        }

        @Override
        public long getSubmitted() {
            return stats().submitted();
        }

        @Override
        public long getCompleted() {
            return stats().completed();
        }

        @Override
        public long getFailed() {
            return stats().failed();
        }

        @Override
        public long getTimedOut() {
            return stats().timedOut();
        }

        @Override
        public long getCancelled() {
            return stats().cancelled();
        }

        @Override
        public int getQueued() {
            return stats().queued();
        }

        @Override
        public int getInFlight() {
            return stats().inFlight();
        }

        @Override
        public long getFencesCreated() {
            return stats().fencesCreated();
        }

        @Override
        public long getFencesSignaled() {
            return stats().fencesSignaled();
        }

        @Override
        public long getFencesPending() {
            return stats().fencesPending();
        }

        @Override
        public long getRetries() {
            return stats().retries();
        }

        private EngineStats stats() {
            return engine.stats();
        }
    }
}
