package dev.bufsync.check;

import dev.bufsync.check.DependencyGraph.Node;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * Marks the code that a fence context's signals depend on (the kernel's
 * {@code dma_fence_begin_signalling} / {@code dma_fence_end_signalling}): from the publication of
 * a fence to its signal, everything the producer runs. While a section of context F is open in a
 * thread, the {@link Checker} records {@code F → L} for each lock class L the thread takes and
 * {@code F → F'} for each fence context F' it waits for, and reports the first edge that closes a
 * cycle. Sections nest (inner and outer both count) and cost nothing while the checker is off.
 *
 * <pre>{@code
 * Signaller s = context.next();
 * publish(s.fence());
 * try (SignallingSection section = SignallingSection.begin(context)) {
 *     render();                 // must not take a lock someone holds while waiting for s.fence()
 *     s.signal();
 * }
 * }</pre>
 *
 * <p>The library opens sections itself where it runs the code a fence's signal depends on: a
 * scheduler job's work and its completion path, a {@code SyncTimeline}'s advance, a
 * {@code BufferSync}'s locked section.
 *
 * <p><b>Caveats.</b> A section belongs to the thread that began it. {@link #close()} is
 * idempotent and may be called from another thread (the section then stops counting at the
 * owner's next annotation), but edges are recorded only for the owner's own locks and waits.
 */
public final class SignallingSection implements AutoCloseable {
    /*
     * Overview. A section opened while the checker is on is pushed on its thread's HeldState;
     * close() flips `closed` (CAS, so it is idempotent) and, in the owner thread, removes it at
     * once; a close from another thread leaves the removal to the owner, which prunes closed
     * sections whenever it reads them. While the checker is off begin() returns NONE, which
     * records nothing.
     */

    private static final SignallingSection NONE = new SignallingSection(null, null, null);

    final Node node;                       // the context's vertex; null for NONE
    private final HeldState owner;         // the opener's records; null for NONE
    private final Thread thread;           // the opener
    private volatile boolean closed;       // CLOSED: CAS false -> true by close()

    private SignallingSection(Node node, HeldState owner, Thread thread) {
        this.node = node;
        this.owner = owner;
        this.thread = thread;
    }

    /**
     * Begins a signalling section for a fence context in the current thread.
     *
     * @param context the context whose fences' signals depend on the code until {@link #close()}
     * @return the section, to close in the same thread (try-with-resources)
     */
    public static SignallingSection begin(FenceContext context) {
        Objects.requireNonNull(context, "context");
        return Checker.on() ? open(Checker.fenceNode(context.id(), context)) : NONE;
    }

    /**
     * Begins a signalling section for the context of {@code fence}, the fence whose signal
     * depends on the code until {@link #close()}.
     *
     * @param fence a fence of the context
     * @return the section, to close in the same thread (try-with-resources)
     */
    public static SignallingSection begin(Fence fence) {
        Objects.requireNonNull(fence, "fence");
        return Checker.on() ? open(Checker.fenceNode(fence.context(), fence)) : NONE;
    }

    private static SignallingSection open(Node node) {
        HeldState st = Checker.state();
        SignallingSection s = new SignallingSection(node, st, Thread.currentThread());
        st.open(s);
        return s;
    }

    boolean isClosed() {
        return closed;
    }

    /** Ends the section. Idempotent. */
    @Override
    public void close() {
        if (owner != null && CLOSED.compareAndSet(this, false, true) && thread == Thread.currentThread()) {
            owner.close(this);
        }
    }

    @Override
    public String toString() {
        return node == null ? "SignallingSection[checker off]"
                : "SignallingSection[" + node.vertex + (closed ? ", closed" : "") + "]";
    }

    // VarHandle mechanics
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(SignallingSection.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
