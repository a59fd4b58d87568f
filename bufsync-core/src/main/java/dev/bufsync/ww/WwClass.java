package dev.bufsync.ww;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock class: a family of {@link WwMutex}es that transactions may lock in any order without
 * deadlock, because every transaction takes a unique ticket (stamp) from the class when it begins
 * and conflicts are resolved in favour of the older ticket with one {@link Algorithm}, fixed per
 * class.
 *
 * <p>Usage: create one class per kind of object that transactions lock together, make the mutexes
 * of those objects with {@code new WwMutex(wwClass)}, and run each transaction in a context from
 * {@link #begin()}:
 *
 * <pre>{@code
 * static final WwClass BUFFERS = WwClass.woundWait("buffers");
 *
 * try (AcquireContext ctx = BUFFERS.begin()) {
 *     // lock each mutex with ctx; on BackoffException unlock all, lockSlow the contended one, retry
 * }
 * }</pre>
 *
 * <p>A class also decides whether back-off injection (the kernel's DEBUG_WW_MUTEX_SLOWPATH) is on
 * for its contexts, and keeps the counters returned by {@link #stats()}.
 *
 * <p><b>Choosing the algorithm.</b> Wound-wait ({@link Algorithm#WOUND_WAIT}) makes fewer
 * transactions roll back when few compete at once; wait-die ({@link Algorithm#WAIT_DIE}) kills
 * younger transactions early and can do better when many compete (Hellström 2018: with 4 threads
 * wound-wait rolled back ~100 times against ~150,000, with 16 threads it was slower).
 *
 * <p><b>Ages.</b> On one thread, stamps increase in the order its contexts begin. A thread takes
 * its stamps from the class in blocks (of 1, 2, 4, … up to 64 as it keeps beginning
 * transactions), so that threads running disjoint transactions do not all write one counter at
 * every begin; across threads, a context may therefore be older than one begun on another thread
 * shortly before it. Stamps are unique and never change, so deadlock freedom is unaffected, and
 * starvation stays bounded: at most 63 stamps per thread older than a context's can still be
 * handed out after it begins, and the oldest live context never backs off.
 *
 * <p><b>Implementation notes.</b> Stamps come from a 64-bit counter and are compared by signed
 * difference, so they may wrap. The class keeps a thread-local record per thread that uses it,
 * which is how mixing context and no-context locking on one thread is caught.
 */
public final class WwClass {
    /*
     * Overview.
     *
     * The class is the unit of deadlock avoidance: two contexts can only conflict on mutexes of the
     * same class, so stamps are only compared within one class.
     *
     * Stamps. The counter (stampSource) is the class's one shared word that transactions write, and
     * when every begin wrote it, two threads running disjoint transactions of one class moved its
     * cache line between their cores at every begin (SharedClassBenchmark: 4-5 times the
     * single-thread cost). So a thread takes its stamps in blocks, kept in its ThreadState: the
     * first block holds one stamp, each refill (one getAndAdd) twice as many as the last, up to
     * MAX_STAMP_BLOCK. Stamps stay unique (blocks are disjoint ranges of the counter) and fixed for
     * a context's life, so ages are a total order and the deadlock argument is unchanged. They
     * follow begin order on each thread, and across threads the order in which blocks were taken:
     * a context may be older than one begun on another thread shortly before it. Starvation stays
     * bounded: when a context begins, every stamp older than its own has been issued, or lies in
     * the unused rest of a block taken earlier, at most MAX_STAMP_BLOCK - 1 per thread; once those
     * contexts have closed it is the oldest, which never backs off. A thread that begins a
     * transaction now and then takes small blocks, and so stamps close to begin order.
     *
     * Counters. Striped cells (Counters) that never allocate, so an update may run under a mutex's
     * queue bit. A thread's own updates (contexts begun, the acquisitions a context accumulated,
     * flushed on close) go to the stripe its ThreadState was given, round robin, so that threads
     * do not share a stripe until there are more threads than stripes; updates made on another
     * context's behalf (a wound) go to the stripe of the updating thread's id. Slow paths only
     * otherwise.
     */

    /** How a class resolves a conflict between an older and a younger transaction. */
    public enum Algorithm {
        /**
         * An older waiter wounds a younger holder, which notices at its next contended lock and backs
         * off; a younger waiter waits for an older holder.
         */
        WOUND_WAIT,
        /**
         * An older waiter waits for a younger holder; a younger waiter that holds other locks dies
         * (backs off) rather than wait for an older holder or behind an older waiter.
         */
        WAIT_DIE
    }

    /**
     * Padding before a {@link ThreadState}'s fields. A thread writes its state at every begin and
     * close; without padding two threads' states, which the collector may copy next to each
     * other, would share a cache line and every transaction of one would evict the other's.
     */
    abstract static class ThreadStatePadBefore {
        long p00, p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15;
    }

    /** The fields of a {@link ThreadState}: confined to its thread. */
    abstract static class ThreadStateFields extends ThreadStatePadBefore {
        final int stripe;      // the thread's stripe of the class's counters
        AcquireContext live;   // the thread's live context of this class, or null
        int noContextHeld;     // mutexes of this class the thread holds without a context
        Object[] spareHeld;    // the held array of the thread's last closed context, all null, for
                               // its next one: back-to-back transactions neither allocate nor regrow it
        final QueuedMutex.Waiter spareWaiter = new QueuedMutex.Waiter(Thread.currentThread());
                               // queues the thread when no Waiter can be allocated (out of memory);
                               // a thread waits for one mutex at a time, so one is enough
        long nextStamp;        // the thread's block of stamps: [nextStamp, stampsEnd), empty when
        long stampsEnd;        // equal (as at first)
        int stampBlock = 1;    // the size of the next block: doubles at each refill, to MAX_STAMP_BLOCK

        ThreadStateFields(int stripe) {
            this.stripe = stripe;
        }
    }

    /**
     * Per-thread bookkeeping: the mixing checks, the spares, the thread's block of stamps and its
     * stripe of the counters. Padded on both sides (superclass and subclass fields keep their
     * order), as the JDK's {@code @Contended} would, which is not open to libraries.
     */
    static final class ThreadState extends ThreadStateFields {
        long q00, q01, q02, q03, q04, q05, q06, q07, q08, q09, q10, q11, q12, q13, q14, q15;

        ThreadState(WwClass cls) {
            super(cls.counters.nextStripe());
        }
    }

    private static final int MAX_STAMP_BLOCK = 64;
    /** The index of the stamp counter in stampSource: 7 longs of padding, at least, on each side. */
    private static final int STAMP_SLOT = 8;

    private final String name;
    private final Algorithm algorithm;
    private final ConflictPolicy policy;  // the algorithm's decisions, for the mutexes
    private final boolean injectBackoff;
    private final int politeBackoffs;
    /**
     * The next unissued stamp, at STAMP_SLOT (getAndAdd only, a block of stamps at a time). Alone
     * on its cache line, whatever the array's alignment, so that taking a block does not take
     * away the line of the fields above, which every begin and lock reads on every core.
     */
    private final AtomicLongArray stampSource = new AtomicLongArray(2 * STAMP_SLOT);
    final Counters counters = new Counters();
    private final ThreadLocal<ThreadState> threadStates = ThreadLocal.withInitial(() -> new ThreadState(this));

    private WwClass(Builder b) {
        this.name = b.name;
        this.algorithm = b.algorithm;
        this.policy = ConflictPolicy.of(b.algorithm);
        this.injectBackoff = b.injectBackoff;
        this.politeBackoffs = b.politeBackoffs;
        stampSource.set(STAMP_SLOT, b.firstStamp);
    }

    /**
     * A wound-wait class with default options.
     *
     * @param name a name for error messages and diagnostics
     * @return the new class
     */
    public static WwClass woundWait(String name) {
        return builder(name).algorithm(Algorithm.WOUND_WAIT).build();
    }

    /**
     * A wait-die class with default options.
     *
     * @param name a name for error messages and diagnostics
     * @return the new class
     */
    public static WwClass waitDie(String name) {
        return builder(name).algorithm(Algorithm.WAIT_DIE).build();
    }

    /**
     * A builder for a class with non-default options.
     *
     * @param name a name for error messages and diagnostics
     * @return a builder (wound-wait, back-off injection as the system property
     *     {@code bufsync.ww.injectBackoff} says, off by default)
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * Begins a transaction on the current thread: takes a new stamp from this class (from the
     * thread's block, see Ages above). The stamp is kept until the context is closed, across every
     * back-off and retry.
     *
     * @return a new context owned by the current thread
     * @throws WwMisuseException ({@link WwMisuseException.Rule#TWO_CONTEXTS}) if the current thread
     *     already has a live context of this class
     */
    public AcquireContext begin() {
        ThreadState ts = threadStates.get();
        if (ts.live != null) {
            throw new WwMisuseException(WwMisuseException.Rule.TWO_CONTEXTS,
                    Thread.currentThread() + " began a second context of class " + name
                    + " while " + ts.live + " is live; close it first (contexts of different"
                    + " classes may nest)");
        }
        return start(ts, false);
    }

    /**
     * Begins a transaction that may move between threads, one at a time: a context attached to
     * the current thread that can be {@linkplain AcquireContext#detach() detached} and
     * {@linkplain AcquireContext#attach() attached} elsewhere, and can lock asynchronously
     * ({@link WwMutex#lockAsync(AcquireContext, java.util.concurrent.Executor)}), so that a
     * transaction can span virtual threads, executors and structured-concurrency scopes. Two
     * threads using it at once is caught ({@link WwMisuseException.Rule#CONCURRENT_USE}).
     *
     * @return a new transferable context, attached to the current thread
     * @throws WwMisuseException ({@link WwMisuseException.Rule#TWO_CONTEXTS}) if the current thread
     *     already has a live context of this class attached
     */
    public AcquireContext beginTransferable() {
        ThreadState ts = threadStates.get();
        if (ts.live != null) {
            throw new WwMisuseException(WwMisuseException.Rule.TWO_CONTEXTS,
                    Thread.currentThread() + " began a second context of class " + name
                    + " while " + ts.live + " is live; close or detach it first");
        }
        return start(ts, true);
    }

    /**
     * Makes the thread's new live context with its next stamp and counts it. If the allocation
     * fails, nothing changed but a stamp left unused (a gap in the order, never a duplicate).
     */
    private AcquireContext start(ThreadState ts, boolean transferable) {
        AcquireContext ctx = new AcquireContext(this, takeStamp(ts), ts, transferable);
        counters.addInStripe(ts.stripe, Counters.CONTEXTS, 1);
        ts.live = ctx;
        return ctx;
    }

    /**
     * The thread's next stamp, from its block; a used-up block is refilled from the class's
     * counter with one atomic add, each refill twice the size of the last, up to
     * MAX_STAMP_BLOCK (see Overview).
     */
    private long takeStamp(ThreadState ts) {
        long s = ts.nextStamp;
        if (s == ts.stampsEnd) {
            int n = ts.stampBlock;
            s = stampSource.getAndAdd(STAMP_SLOT, n);
            ts.stampsEnd = s + n;
            ts.stampBlock = Math.min(2 * n, MAX_STAMP_BLOCK);
        }
        ts.nextStamp = s + 1;
        return s;
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
     * The conflict-resolution algorithm of this class.
     *
     * @return the algorithm
     */
    public Algorithm algorithm() {
        return algorithm;
    }

    /**
     * Tells whether contexts of this class start with back-off injection on.
     *
     * @return {@code true} if injection is on by default for new contexts
     */
    public boolean injectsBackoff() {
        return injectBackoff;
    }

    /**
     * How many polite back-offs a transaction of this class may take (see
     * {@link Builder#politeBackoffs(int)}); 0 when polite waiting is off.
     *
     * @return the bound per transaction
     */
    public int politeBackoffs() {
        return politeBackoffs;
    }

    /**
     * A snapshot of this class's counters.
     *
     * @return the counters now
     */
    public WwStats stats() {
        Counters c = counters;
        return new WwStats(c.sum(Counters.CONTEXTS), c.sum(Counters.ACQUISITIONS),
                c.sum(Counters.CONTENDED), c.sum(Counters.BACKOFFS), c.sum(Counters.INJECTED),
                c.sum(Counters.WOUNDS), c.sum(Counters.WAIT_NANOS));
    }

    /**
     * Tells whether stamp {@code a} is older than stamp {@code b}, wrap-safely.
     *
     * @param a a stamp
     * @param b another stamp of the same class
     * @return {@code true} if {@code a} was taken before {@code b}
     */
    public static boolean isOlder(long a, long b) {
        return a - b < 0;
    }

    /** How this class's {@link WwMutex}es resolve a conflict. */
    ConflictPolicy policy() {
        return policy;
    }

    ThreadState threadState() {
        return threadStates.get();
    }

    @Override
    public String toString() {
        return "WwClass[" + name + ", " + algorithm + (injectBackoff ? ", inject-backoff" : "")
                + (politeBackoffs > 0 ? ", polite=" + politeBackoffs : "") + "]";
    }

    /** Options for a new {@link WwClass}. */
    public static final class Builder {
        private final String name;
        private Algorithm algorithm = Algorithm.WOUND_WAIT;
        private boolean injectBackoff = Boolean.getBoolean("bufsync.ww.injectBackoff");
        private int politeBackoffs;
        private long firstStamp = 1;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        /**
         * Chooses the algorithm.
         *
         * @param algorithm wound-wait or wait-die
         * @return this builder
         */
        public Builder algorithm(Algorithm algorithm) {
            this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
            return this;
        }

        /**
         * Turns back-off injection on or off for new contexts: successful locks of a context that
         * already holds a lock then report "must back off" on a geometric schedule (the interval
         * grows 3.5 times after each injection), so that every caller's retry path runs. Each
         * context can override it with {@link AcquireContext#injectBackoff(boolean)}.
         *
         * @param on whether to inject
         * @return this builder
         */
        public Builder injectBackoff(boolean on) {
            this.injectBackoff = on;
            return this;
        }

        /**
         * Turns on polite waiting: a context that holds locks and would wait for a mutex (after
         * the brief spin, and after wait-die's kill check) backs off instead, with
         * {@link BackoffException.Reason#POLITE}, so that it waits holding nothing, as the
         * "smart and polite" try-and-back-off loop does, and idles no neighbour that wants what it
         * holds. At most {@code max} times per transaction: after that the context waits while
         * holding, as the algorithm says, so every transaction still finishes: it keeps its stamp
         * across its back-offs, so it becomes the oldest, and the algorithm gives the oldest
         * progress. 0, the default, turns it off.
         *
         * <p>It pays where transactions hold few locks and waits are long compared with taking
         * them again (dining philosophers); it costs where a back-off throws away many locks.
         *
         * @param max polite back-offs per transaction, not negative
         * @return this builder
         * @throws IllegalArgumentException if {@code max} is negative
         */
        public Builder politeBackoffs(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("politeBackoffs for class " + name
                        + " must not be negative: " + max);
            }
            this.politeBackoffs = max;
            return this;
        }

        /** Sets the first stamp; tests use it to cross the wrap-around point. */
        Builder firstStamp(long stamp) {
            this.firstStamp = stamp;
            return this;
        }

        /**
         * Creates the class.
         *
         * @return a new class
         */
        public WwClass build() {
            return new WwClass(this);
        }
    }
}
