package dev.bufsync.fence;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A timeline of fences: a context id, unique in the JVM, and a counter that hands out fences with
 * increasing sequence numbers (the kernel's {@code dma_fence_context_alloc} plus the seqno a
 * driver keeps per ring).
 *
 * <pre>{@code
 * FenceContext ring = FenceContext.create("gpu-ring-0");
 *
 * Signaller job = ring.next();            // seqno 1, 2, 3, ...
 * publish(job.fence());
 * // ... run the job, then
 * job.signal();
 * }</pre>
 *
 * <p><b>The producer's obligation.</b> Fences of one context must signal in sequence order:
 * consumers rely on it when they keep only the later of two fences of a context
 * ({@link Fence#later}, {@link Fences#merge}, reservations). Nothing checks it.
 *
 * <p>Context ids come from one global counter starting at 1; id 0 belongs to the stubs. Fresh
 * contexts are also taken by containers and by {@link Fence#from}. {@link #next()} is
 * thread-safe: fences from calls ordered by happens-before have increasing sequence numbers.
 */
public final class FenceContext {
    private static volatile long lastContext;   // getAndAdd by allocate(); 0 is the stubs' context

    private final long id;
    private final String name;
    private volatile long lastSeqno;            // getAndAdd by next()

    private FenceContext(long id, String name) {
        this.id = id;
        this.name = name;
    }

    /**
     * Creates a context with a fresh id.
     *
     * @param name a name for diagnostics (the kernel's timeline name)
     * @return the new context; its first fence has sequence number 1
     */
    public static FenceContext create(String name) {
        return new FenceContext(allocate(), Objects.requireNonNull(name, "name"));
    }

    /** Reserves a fresh context id. */
    static long allocate() {
        return (long) LAST_CONTEXT.getAndAdd(1L) + 1L;
    }

    /**
     * The id of this context, shared by all its fences ({@link Fence#context()}).
     *
     * @return the id, at least 1
     */
    public long id() {
        return id;
    }

    /**
     * The name given at creation.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Issues the next fence of this context and returns its producer handle. Keep the handle
     * (only it can signal the fence) and publish {@link Signaller#fence()}.
     *
     * @return the signaller of a new pending fence, whose sequence number is one more than the
     *     previous one's
     */
    public Signaller next() {
        return signallerAt((long) LAST_SEQNO.getAndAdd(this, 1L) + 1L);
    }

    /** Issues a fence of this context with the given sequence number (for {@link SyncTimeline}). */
    Signaller signallerAt(long seqno) {
        return new Signaller(new ContextFence(this, seqno));
    }

    /**
     * Describes the context: name and id.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        return "FenceContext[" + name + "#" + id + "]";
    }

    // VarHandle mechanics
    private static final VarHandle LAST_CONTEXT;
    private static final VarHandle LAST_SEQNO;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            LAST_CONTEXT = l.findStaticVarHandle(FenceContext.class, "lastContext", long.class);
            LAST_SEQNO = l.findVarHandle(FenceContext.class, "lastSeqno", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
