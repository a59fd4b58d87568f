package dev.bufsync.buffer;

import dev.bufsync.check.SignallingSection;
import dev.bufsync.exec.Exec;
import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import dev.bufsync.ww.WwClass;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeoutException;

/**
 * The 2013 dmabuf-sync API (init, get a buffer with an access type, lock all, access, unlock, put,
 * fini) built on {@link Exec} and fences, so that code written in that shape works, without that
 * proposal's flaws. Between {@link #lock()} and {@link #unlock()} the caller has the access it
 * asked for to every buffer it got: a writer alone, readers together, each after every earlier
 * conflicting user (device jobs included) has finished, and before every later one begins.
 *
 * <pre>{@code
 * try (BufferSync sync = BufferSync.init("compose")) {       // dmabuf_sync_init
 *     sync.get(src, Access.READ);                            // dmabuf_sync_get(sync, buf, R)
 *     sync.get(dst, Access.WRITE);                           // dmabuf_sync_get(sync, buf, W)
 *     sync.lock();                                           // dmabuf_sync_lock: lock all
 *     try {
 *         MemorySegment.copy(sync.segment(src), 0, sync.segment(dst), 0, src.size());
 *     } finally {
 *         sync.unlock();                                     // dmabuf_sync_unlock
 *     }
 *     sync.putAll();                                         // dmabuf_sync_put_all
 * }                                                          // dmabuf_sync_fini
 * }</pre>
 *
 * <p><b>How {@code lock} works.</b> It locks every buffer's reservation through one {@link Exec}
 * (readers too), which settles every conflict by wound/wait and retries by itself. Holding all
 * of them, it collects the fences each access must wait for ({@link Access#awaited()}) and
 * publishes one new fence of this sync on every buffer, with {@link Access#usage()}; then it
 * unlocks them all, and waits for the collected fences without holding anything. The fence
 * signals at {@link #unlock()}. Because fences are published with all locks held, the order of
 * publication is one order for all buffers, and waits follow it: no cycle, no deadlock.
 *
 * <p><b>The proposal's calls.</b> {@code dmabuf_sync_init(name, ops, priv)}: {@link #init(String)};
 * {@code dmabuf_sync_get(sync, buf, type)}: {@link #get(SharedBuffer, Access)} (or through an
 * {@link Attachment}, whose rights are checked), with {@code DMA_BUF_ACCESS_R}/{@code _DMA_R}
 * as {@link Access#READ} and {@code _W}/{@code _DMA_W} as {@link Access#WRITE};
 * {@code dmabuf_sync_lock}: {@link #lock()} (or {@link #lock(Duration)});
 * {@code dmabuf_sync_unlock}: {@link #unlock()}; {@code dmabuf_sync_put}: {@link #put};
 * {@code dmabuf_sync_put_all}: {@link #putAll()}; {@code dmabuf_sync_fini}: {@link #close()},
 * which like v7 of the proposal unlocks and puts everything. {@code dmabuf_sync_single_lock} is a
 * sync with one buffer; {@code is_dmabuf_sync_supported} is always true.
 *
 * <p><b>The proposal's flaws, avoided.</b>
 * <ul>
 *   <li>No forced unlock on a timer (v8 unlocked after 5 s, breaking mutual exclusion): a locked
 *       section ends at {@link #unlock()} or {@link #close()} only. A sync that becomes
 *       unreachable while locked, which nobody can unlock any more, has its fence failed with a
 *       {@link dev.bufsync.fence.FenceAbandonedException} by the fence reaper, so later users are
 *       not stuck behind it. {@link #lock(Duration)} bounds the wait instead of breaking it.
 *   <li>Readers do not bypass deadlock avoidance (v8 let read-read skip the ww lock with a shared
 *       count): every buffer, read or written, is locked through the exec. Readers still run
 *       together, because a read waits only for writers' fences.
 *   <li>No unchecked re-lock (v8 ignored {@code ww_mutex_lock}'s {@code -EDEADLK} in its ordering
 *       path): {@link Exec} handles every back-off.
 *   <li>No lock held during the access (v8 held the ww locks, so a long CPU access stalled every
 *       submission touching any of the buffers): the locks are held only to publish; later users
 *       queue behind the fence and a submission can proceed to wait on it asynchronously.
 *   <li>No hand-off timer for write-then-read ordering (v8 waited 2 s): ordering is the fences'.
 * </ul>
 *
 * <p><b>Rules</b> (each broken rule is an exception naming the sync): get and put only while
 * unlocked; a buffer once; all buffers of one lock class; lock only while unlocked, unlock only
 * while locked; nothing after close; a second close does nothing. Lock and unlock may run on
 * different threads, but a sync is not thread-safe: use it from one thread at a time.
 *
 * <p><b>Caveats.</b> The fence of a locked section is signalled by a thread, like the
 * proposal's; whoever waits for this sync's buffers waits for {@link #unlock()}. Do not wait,
 * while locked, for work that needs one of these buffers after you (a job submitted later, a CPU
 * access to a buffer you write): it waits for your unlock. The timeout of {@link #lock(Duration)}
 * bounds the wait for earlier users; taking the locks lasts only as long as other holders publish.
 */
public final class BufferSync implements AutoCloseable {
    /*
     * Overview.
     *
     * State (not thread-safe, see Rules): the entries in get order, the phase, and the signaller
     * of the locked section. lock(): exec over all entries with one slot each; under the locks,
     * check each buffer is open (close makes its last check under the reservation lock, so either
     * it sees our fence or we see it closing), collect the fences to wait for, take the next
     * fence of this sync's context and add it everywhere; close the exec; wait. A failure after
     * the fence was taken signals it at once (nothing was accessed), so no fence is left pending.
     * One context per sync: each section's fence replaces the previous one (same context, later)
     * on a buffer locked again.
     */

    private enum Phase { UNLOCKED, LOCKED, CLOSED }

    /** A buffer got with an access type. */
    private record Entry(SharedBuffer buffer, Access access) {
    }

    private final String name;
    private final FenceContext timeline;
    private final List<Entry> entries = new ArrayList<>();
    private Phase phase = Phase.UNLOCKED;
    private Signaller section;              // the locked section's fence; null unless LOCKED
    private SignallingSection signalling;   // the checker's section from publication to unlock
    private int retries;                    // exec retries, all locks together

    private BufferSync(String name) {
        this.name = name;
        this.timeline = FenceContext.create("buffer-sync:" + name);
    }

    /**
     * Creates a sync object (the proposal's {@code dmabuf_sync_init}).
     *
     * @param name a name for messages and for the context of its fences
     * @return a new, unlocked sync with no buffers; close it
     */
    public static BufferSync init(String name) {
        return new BufferSync(Objects.requireNonNull(name, "name"));
    }

    /**
     * The name given at init.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Adds a buffer with an access type (the proposal's {@code dmabuf_sync_get}), with the
     * exporter's rights.
     *
     * @param buffer the buffer
     * @param access {@link Access#READ} or {@link Access#WRITE}
     * @throws IllegalStateException if locked or closed
     * @throws IllegalArgumentException if the buffer was already got, or its lock class differs
     *     from the other buffers'
     * @throws BufferClosedException if the buffer is closing or closed
     */
    public void get(SharedBuffer buffer, Access access) {
        Objects.requireNonNull(buffer, "buffer");
        Objects.requireNonNull(access, "access");
        checkPhase("get(" + buffer.name() + ")", Phase.UNLOCKED);
        buffer.checkOpen("BufferSync '" + name + "' get");
        for (Entry e : entries) {
            if (e.buffer == buffer) {
                throw new IllegalArgumentException("get(" + buffer.name() + ") on BufferSync '" + name
                        + "': already got, for " + e.access + "; put it first to change the access");
            }
        }
        if (!entries.isEmpty()) {
            WwClass mine = entries.get(0).buffer.reservation().mutex().wwClass();
            WwClass theirs = buffer.reservation().mutex().wwClass();
            if (mine != theirs) {
                throw new IllegalArgumentException("get(" + buffer.name() + ") on BufferSync '" + name
                        + "': its lock class " + theirs.name() + " differs from " + mine.name()
                        + "; the buffers of one sync are locked together and must share a class");
            }
        }
        entries.add(new Entry(buffer, access));
    }

    /**
     * Adds an attachment's buffer with an access type its rights allow.
     *
     * @param attachment the importer's attachment
     * @param access {@link Access#READ} or {@link Access#WRITE}
     * @throws IllegalArgumentException if the rights do not allow {@code access}, or as
     *     {@link #get(SharedBuffer, Access)}
     * @throws IllegalStateException if locked or closed, or the attachment is detached
     * @throws BufferClosedException if the buffer is closing or closed
     */
    public void get(Attachment attachment, Access access) {
        Objects.requireNonNull(attachment, "attachment");
        Objects.requireNonNull(access, "access");
        if (!attachment.rights().allows(access)) {
            throw new IllegalArgumentException("get(" + attachment + ", " + access + ") on BufferSync '" + name
                    + "': the attachment's rights are " + attachment.rights() + " only");
        }
        if (!attachment.isAttached()) {
            if (attachment.buffer().isFreed()) {
                throw new BufferClosedException(attachment.buffer().name(), "BufferSync '" + name + "' get", true);
            }
            throw new IllegalStateException("get(" + attachment + ") on BufferSync '" + name + "': detached");
        }
        get(attachment.buffer(), access);
    }

    /**
     * Removes a buffer (the proposal's {@code dmabuf_sync_put}).
     *
     * @param buffer a buffer got before
     * @throws IllegalStateException if locked or closed
     * @throws IllegalArgumentException if the buffer was not got
     */
    public void put(SharedBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        checkPhase("put(" + buffer.name() + ")", Phase.UNLOCKED);
        if (!entries.removeIf(e -> e.buffer == buffer)) {
            throw new IllegalArgumentException("put(" + buffer.name() + ") on BufferSync '" + name + "': not got");
        }
    }

    /**
     * Removes every buffer (the proposal's {@code dmabuf_sync_put_all}).
     *
     * @throws IllegalStateException if locked or closed
     */
    public void putAll() {
        checkPhase("putAll", Phase.UNLOCKED);
        entries.clear();
    }

    /**
     * The buffers got, in order.
     *
     * @return an immutable snapshot
     */
    public List<SharedBuffer> buffers() {
        return entries.stream().map(Entry::buffer).toList();
    }

    /**
     * Locks all the buffers got (the proposal's {@code dmabuf_sync_lock}) and waits, without a
     * time limit, until the access may begin; see the class description.
     *
     * @throws InterruptedException if interrupted while locking or waiting; nothing is locked,
     *     and no fence of this sync is left pending
     * @throws IllegalStateException if already locked, or closed
     * @throws BufferClosedException if one of the buffers is closing or closed (nothing is locked)
     */
    public void lock() throws InterruptedException {
        try {
            lock(false, Duration.ZERO);
        } catch (TimeoutException e) {
            throw new AssertionError("untimed lock timed out", e);
        }
    }

    /**
     * Locks all the buffers got, like {@link #lock()}, waiting at most {@code timeout} for the
     * earlier users to finish. On a timeout this sync stays unlocked and may lock again.
     *
     * @param timeout how long to wait for earlier users at most; {@link Duration#ZERO} polls
     * @throws TimeoutException if earlier users had not all finished in time; nothing is locked
     * @throws InterruptedException if interrupted while locking or waiting; nothing is locked
     * @throws IllegalStateException if already locked, or closed
     * @throws BufferClosedException if one of the buffers is closing or closed (nothing is locked)
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public void lock(Duration timeout) throws InterruptedException, TimeoutException {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("lock on BufferSync '" + name + "': negative timeout " + timeout);
        }
        lock(true, timeout);
    }

    private void lock(boolean timed, Duration timeout) throws InterruptedException, TimeoutException {
        if (phase == Phase.LOCKED) {
            throw new IllegalStateException("lock on BufferSync '" + name + "': already locked; unlock first");
        }
        checkPhase("lock", Phase.UNLOCKED);
        String op = "BufferSync '" + name + "' lock";
        for (Entry e : entries) {
            e.buffer.checkOpen(op);
        }
        List<Fence> before = new ArrayList<>();
        Signaller s = null;
        try (Exec exec = Exec.begin(Exec.Option.INTERRUPTIBLE)) {
            try {
                exec.untilAllLocked(x -> {
                    for (Entry e : entries) {
                        x.prepare(e.buffer, 1);
                    }
                });
            } finally {
                retries += exec.retries();
            }
            for (Entry e : entries) {
                e.buffer.checkOpen(op);                      // under its lock [pairs with close]
                before.addAll(e.buffer.reservation().fences(e.access.awaited()));
            }
            s = timeline.next();
            for (Entry e : entries) {
                e.buffer.reservation().addFence(s.fence(), e.access.usage());
            }
        } catch (RuntimeException | Error t) {
            if (s != null) {
                s.trySignal();
            }
            throw t;
        }
        boolean begun = false;
        signalling = SignallingSection.begin(s.fence());    // published: its signal depends on what follows
        try {
            if (timed) {
                begun = Fences.awaitAll(before, timeout);
            } else {
                Fences.awaitAll(before);
                begun = true;
            }
        } finally {
            if (!begun) {
                signalling.close();
                s.signal();                                 // the section never began: let others by
            }
        }
        if (!begun) {
            throw new TimeoutException("lock on BufferSync '" + name + "' timed out after " + timeout
                    + " waiting for earlier users " + pending(before));
        }
        section = s;
        phase = Phase.LOCKED;
    }

    /**
     * The memory of a buffer got, while locked: writable if got for {@link Access#WRITE},
     * read-only if for {@link Access#READ}.
     *
     * @param buffer a buffer got
     * @return a view of the whole buffer, to use until {@link #unlock()}
     * @throws IllegalStateException if not locked
     * @throws IllegalArgumentException if the buffer was not got
     */
    public MemorySegment segment(SharedBuffer buffer) {
        Objects.requireNonNull(buffer, "buffer");
        checkPhase("segment(" + buffer.name() + ")", Phase.LOCKED);
        for (Entry e : entries) {
            if (e.buffer == buffer) {
                return buffer.view(e.access);
            }
        }
        throw new IllegalArgumentException("segment(" + buffer.name() + ") on BufferSync '" + name + "': not got");
    }

    /**
     * The fence of the locked section, which later conflicting users wait for and which
     * {@link #unlock()} signals; for example to hand to a device job that must run after it.
     *
     * @return the fence
     * @throws IllegalStateException if not locked
     */
    public Fence fence() {
        checkPhase("fence", Phase.LOCKED);
        return section.fence();
    }

    /**
     * Ends the locked section (the proposal's {@code dmabuf_sync_unlock}): signals its fence, so
     * that later users of the buffers may begin. May be called from another thread than
     * {@link #lock()}, with happens-before between them.
     *
     * @throws IllegalStateException if not locked, or closed
     */
    public void unlock() {
        if (phase == Phase.UNLOCKED) {
            throw new IllegalStateException("unlock on BufferSync '" + name + "': not locked");
        }
        checkPhase("unlock", Phase.LOCKED);
        Signaller s = section;
        section = null;
        phase = Phase.UNLOCKED;
        signalling.close();
        s.signal();
    }

    /**
     * Tells whether the sync is locked.
     *
     * @return {@code true} between a successful {@code lock} and {@code unlock}
     */
    public boolean isLocked() {
        return phase == Phase.LOCKED;
    }

    /**
     * How many times locking had to start over after a back-off, over every {@code lock} of this
     * sync; for diagnostics and tests.
     *
     * @return the retry count
     */
    public int retries() {
        return retries;
    }

    /**
     * Ends the sync (the proposal's {@code dmabuf_sync_fini}): unlocks if locked, puts every
     * buffer. Idempotent: a second close does nothing. If unlocking throws, the sync is closed and
     * its buffers put all the same, then the throwable propagates.
     */
    @Override
    public void close() {
        if (phase == Phase.CLOSED) {
            return;
        }
        try {
            if (phase == Phase.LOCKED) {
                unlock();
            }
        } finally {
            entries.clear();
            phase = Phase.CLOSED;
        }
    }

    /**
     * Describes the sync: name, phase and buffers with their access types.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("BufferSync['").append(name).append("', ")
                .append(phase.name().toLowerCase(Locale.ROOT));
        for (Entry e : entries) {
            sb.append(", ").append(e.buffer.name()).append(':').append(e.access);
        }
        return sb.append(']').toString();
    }

    private void checkPhase(String op, Phase expected) {
        if (phase == Phase.CLOSED) {
            throw new IllegalStateException(op + " on BufferSync '" + name + "': closed");
        }
        if (phase != expected) {
            throw new IllegalStateException(op + " on BufferSync '" + name + "': "
                    + (phase == Phase.LOCKED ? "locked; unlock first" : "not locked; lock first"));
        }
    }

    private static List<Fence> pending(List<Fence> fences) {
        return fences.stream().filter(f -> !f.isSignaled()).toList();
    }
}
