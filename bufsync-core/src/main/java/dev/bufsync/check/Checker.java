package dev.bufsync.check;

import dev.bufsync.check.DependencyCycle.Kind;
import dev.bufsync.check.DependencyGraph.LockName;
import dev.bufsync.check.DependencyGraph.Node;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Fences;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import dev.bufsync.ww.WwSharedMutex;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MutableCallSite;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Lock;
import java.util.function.Consumer;

/**
 * Finds lock/fence dependency cycles before they deadlock: the kernel's lockdep with its
 * dma-fence signalling annotations, for ww mutexes, reservations, fences and any {@link Lock}
 * wrapped with {@link #wrap}. When on, it records per thread the locks held and the
 * {@linkplain SignallingSection signalling sections} open, and builds a graph over lock classes
 * and fence contexts:
 * <ul>
 *   <li>waiting for a fence of context F while holding a lock of class L gives {@code L → F};
 *   <li>taking a lock of class L inside a signalling section of F gives {@code F → L};
 *   <li>waiting for a fence of F' inside a signalling section of F gives {@code F → F'};
 *   <li>taking a lock of class L' while holding one of another class L gives {@code L → L'}.
 * </ul>
 * The first edge that closes a cycle is reported, with the stack where each edge of the cycle
 * was first seen, as the policy says: a {@link PotentialDeadlockException} thrown by the lock or
 * wait before it blocks ({@link CheckPolicy#THROW}), or a warning on the {@code dev.bufsync.check}
 * logger ({@link CheckPolicy#WARN}); both also commit a {@code dev.bufsync.check.DependencyCycle}
 * Flight Recorder event and tell the {@linkplain #addCycleListener listeners}. The timing need
 * not deadlock: one thread holding a buffer's lock while it waits for a device's fence, and,
 * minutes later, the device's job taking that lock, is enough.
 *
 * <pre>{@code
 * java -Dbufsync.check=throw ...                     // or warn; off by default
 * Checker.setPolicy(myClass, CheckPolicy.WARN);      // per lock class, in code
 * Lock lock = Checker.wrap(new ReentrantLock(), "cache");
 * try (SignallingSection s = SignallingSection.begin(myContext)) {
 *     ...                                            // the code my fences' signals depend on
 * }
 * }</pre>
 *
 * <p><b>Policy.</b> The run's policy comes from the system property {@code bufsync.check}
 * ({@code off}, {@code warn} or {@code throw}) read when this class initialises, and can be
 * changed by {@link #setPolicy(CheckPolicy)}. An override per lock class or fence context
 * ({@code setPolicy(WwClass, ...)}, {@code setPolicy(String, ...)},
 * {@code setPolicy(FenceContext, ...)}) applies to a closing edge that touches it; if both ends
 * have one, the stricter wins. Recording is on while the run's policy or any override is not
 * {@link CheckPolicy#OFF}.
 *
 * <p><b>Caveats.</b> Classes, not instances: two reservations share their class, so holding one
 * while waiting for a fence whose section takes another is reported, as lockdep reports it.
 * Self edges (a class to itself, a context to itself) are not recorded: the ww algorithm settles
 * the first, and a context waiting for its own earlier fences is its order. A non-blocking
 * {@code tryLock} records the lock as held but adds no edge to it. Waits for any of several
 * fences ({@link Fences#awaitAny}) add no edge. Locks and sections are per thread: a lock or
 * section taken while the checker was off is unknown to it.
 *
 * <p><b>The annotation methods</b> ({@link #acquiring}, {@link #acquired}, {@link #released},
 * {@link #waiting}) are what the library calls from its lock and wait paths; a user's own
 * primitive built on ww mutexes or fences does not need them.
 *
 * <p><b>Implementation notes.</b> Off costs one constant-folded test: the switch is a
 * {@link MutableCallSite} whose target the JIT inlines, invalidated (with deoptimisation) when the
 * policy changes, as a {@code static final} boolean would be if it could change.
 */
public final class Checker {
    /*
     * Overview.
     *
     * SWITCH's target is a constant MethodHandle: true while recording. Every annotation begins
     * with `if (!on()) return;`, which the JIT folds to nothing while off. policy and OVERRIDES
     * are written by the set methods (volatile / ConcurrentHashMap) and read when a cycle is
     * found; the set methods recompute the switch under the class's monitor (no blocking inside).
     * Per-thread records live in a ThreadLocal HeldState (owner-only, plain fields). The graph
     * (DependencyGraph) is shared. A cycle is reported after the graph's lock is released: the
     * logger, the JFR event and the listeners are foreign code, each guarded so that a throwable
     * from one does not stop the others, and a THROW policy throws only after all of them ran.
     */

    /** The system property that sets the run's policy. */
    public static final String PROPERTY = "bufsync.check";

    private static final System.Logger LOG = System.getLogger("dev.bufsync.check");
    private static final MutableCallSite SWITCH = new MutableCallSite(MethodHandles.constant(boolean.class, false));
    private static final MethodHandle ON = SWITCH.dynamicInvoker();
    private static final Map<Object, CheckPolicy> OVERRIDES = new ConcurrentHashMap<>();
    private static final List<Consumer<? super DependencyCycle>> LISTENERS = new CopyOnWriteArrayList<>();
    private static final DependencyGraph GRAPH = new DependencyGraph();
    private static final ThreadLocal<HeldState> STATE = ThreadLocal.withInitial(HeldState::new);
    private static volatile CheckPolicy policy = CheckPolicy.OFF;   // written by setPolicy

    static {
        setPolicy(CheckPolicy.parse(System.getProperty(PROPERTY)));
    }

    private Checker() {
    }

    // ------------------------------------------------------------ configuration

    /**
     * The run's policy.
     *
     * @return the policy set by {@code bufsync.check} or {@link #setPolicy(CheckPolicy)}
     */
    public static CheckPolicy policy() {
        return policy;
    }

    /**
     * Sets the run's policy. Turning the checker on mid-run is allowed: locks and sections taken
     * before are unknown to it, so it may miss dependencies, never invent one.
     *
     * @param p the policy
     */
    public static void setPolicy(CheckPolicy p) {
        policy = Objects.requireNonNull(p, "policy");
        updateSwitch();
    }

    /**
     * Overrides the policy for cycles through a ww class (its mutexes and the reservations built on them).
     *
     * @param wwClass the class
     * @param p the policy, or null to remove the override
     */
    public static void setPolicy(WwClass wwClass, CheckPolicy p) {
        override(Objects.requireNonNull(wwClass, "wwClass"), p);
    }

    /**
     * Overrides the policy for cycles through the locks {@linkplain #wrap wrapped} with this name.
     *
     * @param lockName the name given to {@link #wrap}
     * @param p the policy, or null to remove the override
     */
    public static void setPolicy(String lockName, CheckPolicy p) {
        override(new LockName(Objects.requireNonNull(lockName, "lockName")), p);
    }

    /**
     * Overrides the policy for cycles through a fence context.
     *
     * @param context the context
     * @param p the policy, or null to remove the override
     */
    public static void setPolicy(FenceContext context, CheckPolicy p) {
        override(Objects.requireNonNull(context, "context").id(), p);
    }

    /**
     * Tells whether the checker records dependencies now.
     *
     * @return {@code true} if the run's policy or an override is not {@link CheckPolicy#OFF}
     */
    public static boolean isEnabled() {
        return on();
    }

    /**
     * Forgets every dependency recorded so far (the graph, not the threads' held locks and open
     * sections, nor the policies). For tests and for runs that want a fresh start.
     */
    public static void reset() {
        GRAPH.clear();
    }

    /**
     * Registers a listener told of every reported cycle, in the thread that closed it, before a
     * {@link CheckPolicy#THROW} throws. A throwing listener is logged; the others still run.
     *
     * @param listener the listener
     */
    public static void addCycleListener(Consumer<? super DependencyCycle> listener) {
        LISTENERS.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Removes a listener added by {@link #addCycleListener}.
     *
     * @param listener the listener
     */
    public static void removeCycleListener(Consumer<? super DependencyCycle> listener) {
        LISTENERS.remove(listener);
    }

    /**
     * Wraps a lock so that the checker records it under a class name: every lock wrapped with
     * the same name is one class. Condition waits ({@link Lock#newCondition()}) are the
     * delegate's and are not recorded as releases.
     *
     * @param lock the lock to wrap
     * @param name its class name, shown in cycles
     * @return a lock that delegates to {@code lock} and annotates each acquisition and release
     */
    public static Lock wrap(Lock lock, String name) {
        return new CheckedLock(Objects.requireNonNull(lock, "lock"), Objects.requireNonNull(name, "name"));
    }

    // ------------------------------------------------------------ annotations

    /**
     * Annotates a blocking acquisition of {@code m} by the current thread, before it may block:
     * adds {@code F → class} for every open section and {@code L → class} for every lock held.
     *
     * @param m the mutex about to be locked
     * @throws PotentialDeadlockException if an edge closes a cycle under {@link CheckPolicy#THROW}
     */
    public static void acquiring(WwMutex m) {
        if (on()) {
            depend(lockClass(m.wwClass()), m);
        }
    }

    /**
     * Annotates a blocking acquisition of {@code m}, shared or exclusive, like
     * {@link #acquiring(WwMutex)}: a shared lock counts as its class (a reader can deadlock
     * against a writer queued before it), so the edges are those of an exclusive one.
     *
     * @param m the shared mutex about to be locked
     * @throws PotentialDeadlockException if an edge closes a cycle under {@link CheckPolicy#THROW}
     */
    public static void acquiring(WwSharedMutex m) {
        if (on()) {
            depend(lockClass(m.wwClass()), m);
        }
    }

    /**
     * Annotates that the current thread now holds {@code m}.
     *
     * @param m the mutex acquired
     */
    public static void acquired(WwMutex m) {
        if (on()) {
            STATE.get().push(lockClass(m.wwClass()), m);
        }
    }

    /**
     * Annotates that the current thread now holds {@code m}, shared or exclusively.
     *
     * @param m the shared mutex acquired
     */
    public static void acquired(WwSharedMutex m) {
        if (on()) {
            STATE.get().push(lockClass(m.wwClass()), m);
        }
    }

    /**
     * Annotates that the current thread released {@code m}.
     *
     * @param m the mutex released
     */
    public static void released(WwMutex m) {
        if (on()) {
            STATE.get().pop(m);
        }
    }

    /**
     * Annotates that the current thread released {@code m}.
     *
     * @param m the shared mutex released
     */
    public static void released(WwSharedMutex m) {
        if (on()) {
            STATE.get().pop(m);
        }
    }

    /**
     * Annotates a wait for {@code fence} by the current thread, before it may block (the kernel's
     * {@code __dma_fence_might_wait}, called whether or not the fence has signalled): for every
     * fence context behind it (a container's members), adds {@code L → F} for every lock held and
     * {@code S → F} for every open section.
     *
     * @param fence the fence about to be waited for
     * @throws PotentialDeadlockException if an edge closes a cycle under {@link CheckPolicy#THROW}
     */
    public static void waiting(Fence fence) {
        if (on()) {
            for (Fence leaf : Fences.unwrap(fence)) {
                if (leaf.context() != 0L) {            // stubs: signalled from birth
                    depend(fenceNode(leaf.context(), leaf), leaf);
                }
            }
        }
    }

    /**
     * Annotates a timed wait like {@link #waiting(Fence)}; a zero timeout, a poll that never
     * blocks, adds nothing.
     *
     * @param fence the fence about to be waited for
     * @param timeoutNanos the wait's timeout
     * @throws PotentialDeadlockException if an edge closes a cycle under {@link CheckPolicy#THROW}
     */
    public static void waiting(Fence fence, long timeoutNanos) {
        if (timeoutNanos != 0L) {
            waiting(fence);
        }
    }

    // ------------------------------------------------------------ implementation

    /** The graph's node of a ww class. */
    private static Node lockClass(WwClass c) {
        return GRAPH.node(c, Kind.LOCK_CLASS, c.name());
    }

    static boolean on() {
        try {
            return (boolean) ON.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The current thread's records, for sections and wrapped locks. */
    static HeldState state() {
        return STATE.get();
    }

    static Node fenceNode(long context, Object named) {
        return GRAPH.node(context, Kind.FENCE_CONTEXT, named instanceof FenceContext c
                ? c.name() + "#" + context : timeline(named.toString(), context));
    }

    static Node lockNode(String name) {
        return GRAPH.node(new LockName(name), Kind.LOCK_CLASS, name);
    }

    /** Adds an edge to {@code target} from every open section and every lock held. */
    static void depend(Node target, Object seenAs) {
        HeldState st = STATE.get();
        for (int i = 0, n = st.openSections(); i < n; i++) {
            edge(st.section(i), target, seenAs);
        }
        for (int i = 0, n = st.heldCount(); i < n; i++) {
            edge(st.heldClass(i), target, seenAs);
        }
    }

    private static void edge(Node from, Node to, Object seenAs) {
        if (!DependencyGraph.known(from, to)) {
            CheckPolicy p = policyOf(from, to);
            report(GRAPH.add(from, to, seenAs.toString(), p != CheckPolicy.THROW), p);
        }
    }

    /** The policy of an edge: the stricter override of its ends, else the run's. */
    private static CheckPolicy policyOf(Node from, Node to) {
        if (OVERRIDES.isEmpty()) {
            return policy;
        }
        CheckPolicy a = OVERRIDES.get(from.key);
        CheckPolicy b = OVERRIDES.get(to.key);
        if (a == null && b == null) {
            return policy;
        }
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }

    /** Reports a cycle found by the graph (null: none) as its policy says. */
    private static void report(DependencyCycle cycle, CheckPolicy p) {
        if (cycle == null || p == CheckPolicy.OFF) {
            return;
        }
        try {
            LOG.log(System.Logger.Level.WARNING, cycle.describe());
        } catch (Throwable ignored) {           // a log handler failed: the event and listeners still run
        }
        CheckEvents.cycle(cycle, p);
        for (Consumer<? super DependencyCycle> l : LISTENERS) {
            try {
                l.accept(cycle);
            } catch (Throwable t) {
                try {
                    LOG.log(System.Logger.Level.ERROR, "dependency cycle listener " + l + " threw", t);
                } catch (Throwable ignored) {   // nothing left to tell
                }
            }
        }
        if (p == CheckPolicy.THROW) {
            throw new PotentialDeadlockException(cycle);
        }
    }

    private static void override(Object key, CheckPolicy p) {
        if (p == null) {
            OVERRIDES.remove(key);
        } else {
            OVERRIDES.put(key, p);
        }
        updateSwitch();
    }

    private static synchronized void updateSwitch() {
        boolean on = policy != CheckPolicy.OFF;
        for (CheckPolicy p : OVERRIDES.values()) {
            on |= p != CheckPolicy.OFF;
        }
        if (on != on()) {
            SWITCH.setTarget(MethodHandles.constant(boolean.class, on));
            MutableCallSite.syncAll(new MutableCallSite[] {SWITCH});
        }
    }

    /** The timeline part of a fence's description, {@code Fence[gpu#3:17 PENDING]} → {@code gpu#3}. */
    private static String timeline(String described, long context) {
        int start = described.startsWith("Fence[") ? 6 : 0;
        int hash = described.indexOf("#" + context + ":", start);
        return hash > 0 ? described.substring(start, hash) + "#" + context : "context#" + context;
    }
}
