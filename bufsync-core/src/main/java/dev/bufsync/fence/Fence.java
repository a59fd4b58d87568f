package dev.bufsync.fence;

import dev.bufsync.check.Checker;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.LockSupport;

/**
 * A one-shot completion event with an optional error, ordered within its context: the consumer
 * view of the kernel's {@code dma_fence}. A fence starts pending and is signalled exactly once,
 * either successfully or with an error; it then stays signalled. Callbacks added while it is
 * pending run exactly once, when it signals; waits return when it signals, time out, or are
 * interrupted.
 *
 * <p><b>Only the producer can signal.</b> Code that holds a {@code Fence} can observe it, wait for
 * it, add callbacks and set deadline hints, but not signal it or set its error: that takes the
 * fence's {@link Signaller}, which {@link FenceContext#next()} hands to the producer only.
 * Containers ({@link FenceArray}, {@link FenceChain}) and stubs ({@link Fences#stub()}) are fences
 * too; they signal by themselves.
 *
 * <pre>{@code
 * FenceContext gpu = FenceContext.create("gpu");
 * Signaller done = gpu.next();          // producer keeps this
 * Fence fence = done.fence();           // and publishes this
 *
 * fence.addCallback(f -> log(f));       // consumer: runs once, on the signalling thread
 * done.signal();                        // producer: work finished
 * fence.await();                        // returns at once now
 * }</pre>
 *
 * <p><b>Identity and order.</b> A fence has a context id ({@link #context()}) and a 64-bit
 * sequence number ({@link #seqno()}); fences of one context are signalled in sequence order (a
 * producer obligation), so the later of two fences of a context stands for both
 * ({@link #isLater(Fence)}, {@link #later(Fence, Fence)}). Context 0 is the stubs'.
 *
 * <p><b>Callbacks.</b> {@link #addCallback(FenceCallback)} on a pending fence returns
 * {@code true}, and the callback then runs exactly once, synchronously on the thread that signals
 * (the producer's thread; the thread that signals the last member of a container; for an
 * abandoned fence, a virtual thread named {@code bufsync-fence-abandoned}), in the order callbacks
 * were added. On a signalled fence it returns {@code false} and the callback is not run (the
 * kernel's contract). {@link #whenSignaled(FenceCallback)} is the form that cannot be forgotten:
 * on a signalled fence it runs the callback at once, on the calling thread. A callback must be
 * short and must not block; hand longer work to an executor with
 * {@link #addCallback(FenceCallback, Executor)}. Whatever a callback throws, {@code Error}s
 * included, does not stop the others, never propagates out of {@code signal()}, and is reported
 * to the handler set with {@link Fences#setCallbackExceptionHandler}.
 *
 * <p><b>Waiting.</b> {@link #await()} waits until the fence signals; {@link #await(Duration)} also
 * gives up when the time runs out and says so by returning {@code false}; a zero duration polls.
 * Both are interruptible and park the thread with {@link LockSupport}, holding no monitor, so
 * virtual threads wait cheaply. A wait returns normally whether the fence signalled with or
 * without an error; ask {@link #error()}, or use {@link #awaitSuccess()}, which throws the
 * fence's error wrapped in an {@link ExecutionException} (as {@code Future.get} does).
 * {@link Fences} waits for any or all of many fences.
 *
 * <p><b>Exception safety.</b> Signalling flips the state first (one CAS, after which nothing can
 * fail: even the error of an abandoned fence is allocated before it), publishes the outcome, and
 * only then runs foreign code. The fire loop continues past any throwable a registration, the
 * callback exception handler or its logging throws, so every callback runs, every waiter wakes
 * and every container is told, whatever happens.
 *
 * <p><b>Errors and time.</b> {@link #status()} tells pending, signalled and failed apart;
 * {@link #error()} gives the error of a failed fence; {@link #timestamp()} the
 * {@link System#nanoTime()} at which it signalled.
 *
 * <p><b>Implementation notes.</b> Signalling is one CAS, a {@code nanoTime} read, one release
 * store and one CAS per callback but the first (and, for a fence of a {@link FenceContext},
 * one store that gives its forgotten-fence watch's slot back); adding the first callback is one
 * CAS, each further one an allocation and one CAS. A fence holds no lock, ever.
 *
 * @see Signaller
 * @see Fences
 */
public abstract class Fence {
    /*
     * Overview.
     *
     * All state is one word, `state`:
     *
     *   null         pending, nothing registered
     *   FenceCallback pending, with one registration: that callback, run on the signalling
     *                thread, held inline (no node); never a Throwable (such callbacks get a node)
     *   Node         pending: the head of a Treiber stack of registrations, newest first -
     *                callbacks, waiters, container members and pending errors (ErrorNode)
     *   COMPLETING   signalled; the winner is publishing the outcome (a few instructions)
     *   SUCCESS      signalled without error
     *   a Throwable  signalled with that error
     *
     * The signalled states are the Marker instances and Throwables, so isPending is two class
     * checks. The first callback added to a fence with nothing registered is stored inline, by one
     * CAS from null: the common fence with one callback allocates no node. A later push moves it
     * into a node under the new one (allocated before the push CAS, which replaces the callback
     * atomically), so it stays the oldest registration; removeCallback removes it by a CAS back
     * to null; signalling claims it with the state CAS itself. Either way the one CAS that moves
     * the callback out of the state decides, so it still runs exactly once or is removed.
     *
     * Signal. pending -> COMPLETING is one CAS and the linearization point of a signal: it
     * detaches the whole stack at once, so a push (addCallback, await, setError) either lands
     * before it, and is fired, or fails and reports "already signalled". The winner walks the
     * detached stack once, threading the nodes in FIFO order through Node.fifo (never writing
     * Node.next, which cleaners may CAS concurrently) and taking the newest ErrorNode as the
     * pending error; it stores the timestamp and publishes the outcome with a release store.
     * Readers that need the outcome (status, error, timestamp) spin over COMPLETING, as the
     * kernel's dma_fence_timestamp spins over its TIMESTAMP bit; isSignaled and await do not.
     *
     * Exactly once. Every node has a claim flag. Firing claims it, and so does removal
     * (removeCallback; a waiter that times out or is interrupted), so a registration runs once
     * or is removed, never both, never twice. Removal then unlinks dead nodes (cleanStack, as in
     * CompletableFuture): the head by CAS on state, inner nodes by CAS on Node.next. Races may
     * leave a dead node linked, never unlink a live one, because pushes happen only at the head.
     *
     * Waking. A waiter keeps its FIFO place: it is woken after the callbacks registered before it
     * have run (in the kernel a waiter is a callback too). Each run of consecutive waiters is
     * published in `waking` when its turn comes - the run ahead of every callback (the usual
     * case: waiters only) by the winner before the outcome's release store, a later run by the
     * fire loop with a volatile store - cut off the FIFO list first, so that its fifo links are
     * read only after that publication. Waiters are popped from `waking` by CAS, each then
     * claimed and unparked, by the fire loop (which pops until the run is empty before it goes
     * on) and by every wait that finds the fence signalled: a thread already awake helps wake the
     * rest, which is what lets many waiters on two cores wake as fast as CompletableFuture's
     * (whose woken waiters run postComplete). A waiter may still return before its turn if it
     * sees the outcome without being woken (a timeout, a spurious wake-up), as it always could.
     *
     * No recursion through containers. A member node of an array or chain does not run the
     * container's callbacks itself: it completes the container (its own state CAS) and hands the
     * detached list back to the fire loop, which runs it after the current list (breadth first,
     * each fence's callbacks still in FIFO order). A chain of thousands of links that completes
     * at once therefore completes iteratively.
     *
     * Exception discipline. Allocation happens before the state CAS (the registration node; the
     * abandonment error), never between the CAS and the release store of the outcome, so a fence
     * is never left COMPLETING. Foreign code (callbacks, executors, the handlers and their
     * logging) runs only in the fire loop, after the outcome is published; the loop catches every
     * throwable around each registration (claim and fire), reports it with reportQuietly, which
     * drops whatever the report itself throws, and goes on, so every registration is fired and
     * every waiter unparked whatever was thrown before it. A container's memberSignaled runs no
     * foreign code.
     *
     * Memory. state is volatile: CAS while pending, release store of the outcome. timestamp is
     * plain, written by the winner before that release and read after an acquire of the outcome.
     * deadline is volatile and only ever lowered, by CAS. waking is volatile: stored by the
     * signalling thread (plainly before the outcome's release, or with a volatile store), then
     * CAS pops by anyone. Node.next is written plainly before
     * the push CAS publishes the node and CASed by cleaners; Node.fifo is plain, written by the
     * winner (a waiter's before the release, so that helpers read it after their acquire).
     */

    /** What {@link #status()} reports. */
    public enum Status {
        /** Not signalled yet. */
        PENDING,
        /** Signalled without error. */
        SIGNALED,
        /** Signalled with an error, which {@link #error()} returns. */
        FAILED
    }

    /** The state of a fence being signalled, until the winner publishes the outcome. */
    static final Object COMPLETING = new Marker("COMPLETING");
    /** The state of a fence signalled without error. */
    static final Object SUCCESS = new Marker("SUCCESS");
    /**
     * The deadline of a fence that has none: the default value, so that constructors need no
     * volatile store. A requested deadline equal to it is moved 1 ns later.
     */
    static final long NO_DEADLINE = 0L;

    private final long context;
    private final long seqno;
    private volatile Object state;                 // see Overview; CAS while pending, then release store
    private long timestamp;                        // written by the winner before the outcome's release store
    private volatile long deadline;                // NO_DEADLINE, then CAS, only ever lowered (soonest wins)
    private volatile WaiterNode waking;            // waiters due: stored by the signalling thread; CAS pops

    /** Creates a pending fence. */
    Fence(long context, long seqno) {
        this.context = context;
        this.seqno = seqno;
    }

    /** Creates a fence signalled without error at {@code timestamp}. */
    Fence(long context, long seqno, long timestamp) {
        this.context = context;
        this.seqno = seqno;
        this.timestamp = timestamp;
        this.state = SUCCESS;
    }

    // ------------------------------------------------------------ identity

    /**
     * The context (timeline) this fence belongs to. Fences of one context are totally ordered by
     * {@link #seqno()}; context 0 is the stubs'.
     *
     * @return the context id
     */
    public final long context() {
        return context;
    }

    /**
     * The sequence number of this fence within its context, compared as an unsigned 64-bit value.
     *
     * @return the sequence number
     */
    public final long seqno() {
        return seqno;
    }

    /**
     * Tells whether this fence is later than {@code other} in their common context (the kernel's
     * {@code dma_fence_is_later}): a later fence signals only after an earlier one has.
     *
     * @param other a fence of the same context
     * @return {@code true} if this fence's sequence number is greater (unsigned)
     * @throws IllegalArgumentException if the two fences belong to different contexts
     */
    public final boolean isLater(Fence other) {
        if (other.context != context) {
            throw new IllegalArgumentException("cannot order fences of different contexts: " + describe()
                    + " and " + other.describe());
        }
        return Long.compareUnsigned(seqno, other.seqno) > 0;
    }

    /**
     * Returns the later of two fences of one context (the kernel's {@code dma_fence_later}), which
     * stands for both. Unlike the kernel, which returns {@code NULL} when that fence has already
     * signalled, this returns the fence either way; ask {@link #isSignaled()}.
     *
     * @param a a fence
     * @param b a fence of the same context
     * @return {@code b} if it is later than {@code a}, otherwise {@code a}
     * @throws IllegalArgumentException if the two fences belong to different contexts
     */
    public static Fence later(Fence a, Fence b) {
        return b.isLater(a) ? b : a;
    }

    // ------------------------------------------------------------ status

    /**
     * Tells whether this fence has signalled, with or without an error. Once {@code true}, always
     * {@code true}.
     *
     * @return {@code true} if signalled
     */
    public final boolean isSignaled() {
        return !isPending(state);
    }

    /**
     * The status of this fence: pending, signalled, or signalled with an error (the kernel's
     * {@code dma_fence_get_status}: 0, 1, negative).
     *
     * @return the status
     */
    public final Status status() {
        Object s = state;
        if (isPending(s)) {
            return Status.PENDING;
        }
        return outcome(s) == SUCCESS ? Status.SIGNALED : Status.FAILED;
    }

    /**
     * The error this fence signalled with. An error set by the producer before signalling stays
     * invisible until the fence signals.
     *
     * @return the error, or {@code null} if the fence is pending or signalled without error
     */
    public final Throwable error() {
        Object s = state;
        if (isPending(s)) {
            return null;
        }
        return outcome(s) instanceof Throwable t ? t : null;
    }

    /**
     * The time this fence signalled, in {@link System#nanoTime()} units (comparable only with
     * other {@code nanoTime} values of this JVM).
     *
     * @return the signal time, or 0 while the fence is pending (0 can also be a genuine time: use
     *     {@link #isSignaled()} to tell)
     */
    public final long timestamp() {
        Object s = state;
        if (isPending(s)) {
            return 0L;
        }
        outcome(s);
        return timestamp;
    }

    // ------------------------------------------------------------ callbacks

    /**
     * Registers a callback to run once when this fence signals, synchronously on the signalling
     * thread, after the callbacks added before it (the kernel's {@code dma_fence_add_callback}).
     *
     * @param callback the callback; it must not block
     * @return {@code true} if registered: it will run exactly once unless removed; {@code false} if
     *     the fence has already signalled: the callback was not registered and will not run
     *     (the kernel's {@code -ENOENT})
     */
    public final boolean addCallback(FenceCallback callback) {
        Objects.requireNonNull(callback, "callback");
        if (state == null && !(callback instanceof Throwable) && STATE.compareAndSet(this, null, callback)) {
            return true;                                // the first registration, held inline
        }
        return isPending(state) && push(new CallbackNode(callback, null));
    }

    /**
     * Registers a callback to be handed to {@code executor} when this fence signals. The hand-off
     * happens on the signalling thread, in the order callbacks were added; the callback then runs
     * wherever the executor runs it. If the executor rejects it, or the callback throws, the
     * exception goes to the callback exception handler.
     *
     * @param callback the callback
     * @param executor runs the callback
     * @return {@code true} if registered; {@code false} if the fence has already signalled (the
     *     callback is not submitted)
     */
    public final boolean addCallback(FenceCallback callback, Executor executor) {
        Objects.requireNonNull(callback, "callback");
        Objects.requireNonNull(executor, "executor");
        return isPending(state) && push(new CallbackNode(callback, executor));
    }

    /**
     * Runs {@code callback} once this fence has signalled: registers it like
     * {@link #addCallback(FenceCallback)} while the fence is pending (it then runs on the
     * signalling thread), and runs it at once, on the calling thread, before this method returns,
     * if the fence has already signalled. Either way it runs exactly once, unless removed with
     * {@link #removeCallback} first; what it throws goes to the callback exception handler, never
     * to the caller.
     *
     * @param callback the callback; it must not block
     */
    public final void whenSignaled(FenceCallback callback) {
        if (!addCallback(callback)) {
            CallbackNode.run(callback, this);
        }
    }

    /**
     * Runs {@code callback} on {@code executor} once this fence has signalled: registers it like
     * {@link #addCallback(FenceCallback, Executor)} while the fence is pending, and hands it to the
     * executor at once, from the calling thread, if the fence has already signalled. If the
     * executor rejects it, or the callback throws, the exception goes to the callback exception
     * handler.
     *
     * @param callback the callback
     * @param executor runs the callback
     */
    public final void whenSignaled(FenceCallback callback, Executor executor) {
        if (!addCallback(callback, executor)) {
            try {
                executor.execute(() -> CallbackNode.run(callback, this));
            } catch (Throwable rejected) {
                reportQuietly(this, rejected);
            }
        }
    }

    /**
     * Removes one pending registration of {@code callback} (the kernel's
     * {@code dma_fence_remove_callback}). If the fence signals concurrently, exactly one of the
     * two wins: the callback either runs or is removed.
     *
     * @param callback a callback added with either {@code addCallback} form
     * @return {@code true} if a registration was removed and will not run; {@code false} if there
     *     was none pending: the callback already ran or is running, or was never added
     */
    public final boolean removeCallback(FenceCallback callback) {
        Object s = state;
        while (s == callback && isPending(s)) {        // the lone inline registration
            if (STATE.compareAndSet(this, s, null)) {
                return true;
            }
            s = state;
        }
        for (; s instanceof Node n; s = n.next) {
            if (n instanceof CallbackNode c && c.callback == callback && c.claim()) {
                cleanStack();
                return true;
            }
        }
        return false;
    }

    /** Removes the pending registrations of a container on this fence (any-of withdrawal). */
    final void removeMember(Container owner) {
        boolean removed = false;
        for (Object s = state; s instanceof Node n; s = n.next) {
            if (n instanceof MemberNode m && m.owner == owner && m.claim()) {
                removed = true;
            }
        }
        if (removed) {
            cleanStack();
        }
    }

    // ------------------------------------------------------------ waiting

    /**
     * Waits until this fence signals. Returns at once if it has. If the fence signals while the
     * thread is being interrupted, the wait returns normally with the interrupt status set.
     *
     * @throws InterruptedException if the thread is interrupted while waiting (or was interrupted
     *     on entry with the fence pending); the thread's interrupt status is then cleared
     */
    public final void await() throws InterruptedException {
        Checker.waiting(this);
        if (!isPending(state)) {
            wakeWaiters();                              // help wake those still parked
        } else {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            awaitNanos(false, 0L);
        }
    }

    /**
     * Waits until this fence signals or the timeout elapses (the kernel's
     * {@code dma_fence_wait_timeout}). A zero timeout polls: it never waits and never throws
     * {@code InterruptedException}. If the fence signals while the thread is being interrupted,
     * the wait returns {@code true} with the interrupt status set.
     *
     * @param timeout how long to wait at most; not negative
     * @return {@code true} if the fence has signalled, {@code false} if the time ran out first
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws InterruptedException if the thread is interrupted while waiting (or was interrupted
     *     on entry with the fence pending and a positive timeout)
     */
    public final boolean await(Duration timeout) throws InterruptedException {
        long nanos = toNanos(timeout);
        Checker.waiting(this, nanos);
        if (!isPending(state)) {
            wakeWaiters();                              // help wake those still parked
            return true;
        }
        if (nanos == 0L) {
            return false;
        }
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return awaitNanos(true, nanos);
    }

    /**
     * Waits until this fence signals, like {@link #await()}, and throws its error if it signalled
     * with one.
     *
     * @throws ExecutionException if the fence signalled with an error, which is its
     *     {@linkplain ExecutionException#getCause() cause}
     * @throws InterruptedException as {@link #await()}
     */
    public final void awaitSuccess() throws ExecutionException, InterruptedException {
        await();
        throwError();
    }

    /**
     * Waits until this fence signals or the timeout elapses, like {@link #await(Duration)}, and
     * throws its error if it signalled with one.
     *
     * @param timeout how long to wait at most; not negative
     * @return {@code true} if the fence signalled without error, {@code false} if the time ran out
     * @throws ExecutionException if the fence signalled with an error, which is its
     *     {@linkplain ExecutionException#getCause() cause}
     * @throws IllegalArgumentException if {@code timeout} is negative
     * @throws InterruptedException as {@link #await(Duration)}
     */
    public final boolean awaitSuccess(Duration timeout) throws ExecutionException, InterruptedException {
        if (!await(timeout)) {
            return false;
        }
        throwError();
        return true;
    }

    private void throwError() throws ExecutionException {
        Throwable e = error();
        if (e != null) {
            throw new ExecutionException(describe() + " signalled with an error", e);
        }
    }

    /** Parks until signalled, timed out or interrupted. The fence was pending on entry. */
    private boolean awaitNanos(boolean timed, long nanos) throws InterruptedException {
        FenceEvents.Wait event = FenceEvents.beginWait(this);
        WaiterNode w = new WaiterNode(Thread.currentThread());
        if (!push(w)) {
            return true;
        }
        long deadline = timed ? System.nanoTime() + nanos : 0L;
        boolean interrupted = false;
        while (isPending(state)) {
            if (Thread.interrupted()) {
                interrupted = true;
                break;
            }
            if (!timed) {
                LockSupport.park(this);
            } else if ((nanos = deadline - System.nanoTime()) > 0L) {
                LockSupport.parkNanos(this, nanos);
            } else {
                break;
            }
        }
        FenceEvents.endWait(event, this, interrupted);
        if (!isPending(state) || !w.claim()) {  // signalled: the fire loop claimed w (or will)
            wakeWaiters();                      // help wake the others
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return true;
        }
        cleanStack();
        if (interrupted) {
            throw new InterruptedException();
        }
        return false;
    }

    // ------------------------------------------------------------ deadlines

    /**
     * Hints that this fence should signal by {@code deadlineNanos}, a {@link System#nanoTime()}
     * value (the kernel's {@code dma_fence_set_deadline}). The soonest of all hints wins; the
     * producer reads it with {@link Signaller#deadline()}. Containers pass the hint on to their
     * members. A hint is only a hint: nothing is enforced, and a signalled fence ignores it.
     *
     * @param deadlineNanos the absolute deadline; a past one means "as soon as possible" (a
     *     deadline of exactly 0 is recorded as 1, 0 being the internal "none")
     */
    public final void setDeadline(long deadlineNanos) {
        long d = deadlineNanos == NO_DEADLINE ? NO_DEADLINE + 1 : deadlineNanos;
        for (Fence f = this; f != null && f.lowerDeadline(d); ) {
            f = f.forwardDeadline(d);
        }
    }

    /** Lowers this fence's own deadline to {@code d}; {@code true} if it was lowered. */
    private boolean lowerDeadline(long d) {
        for (long cur = deadline; isPending(state); cur = deadline) {
            if (cur != NO_DEADLINE && cur - d <= 0L) {
                return false;
            }
            if (DEADLINE.compareAndSet(this, cur, d)) {
                return true;
            }
        }
        return false;
    }

    /**
     * After this fence's deadline was lowered to {@code d}, passes it on to the fences this one
     * waits for. Returns the next fence to pass it to, so that chains are walked iteratively.
     */
    Fence forwardDeadline(long d) {
        return null;
    }

    /** The current deadline, or {@link #NO_DEADLINE}. */
    final long deadlineNanos() {
        return deadline;
    }

    // ------------------------------------------------------------ interop

    /**
     * Returns a new {@link CompletableFuture} that completes when this fence signals: normally
     * (with {@code null}) on success, exceptionally with the fence's error on failure. Completing
     * or cancelling the future does not affect the fence; each call returns a new future.
     *
     * @return a future that mirrors this fence
     */
    public final CompletableFuture<Void> toCompletableFuture() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (!addCallback(f -> mirror(f, future))) {
            mirror(this, future);
        }
        return future;
    }

    private static void mirror(Fence f, CompletableFuture<Void> future) {
        Throwable e = f.error();
        if (e == null) {
            future.complete(null);
        } else {
            future.completeExceptionally(e);
        }
    }

    /**
     * Returns a fence, on a fresh context, that signals when {@code stage} completes: without
     * error if it completes normally, otherwise with its exception as the error (a
     * {@link CompletionException} is unwrapped to its cause; a cancelled stage gives a
     * {@link java.util.concurrent.CancellationException}). If the stage is dropped without ever
     * completing, the fence is abandoned (see {@link FenceAbandonedException}).
     *
     * @param stage the stage to mirror
     * @return a fence that signals when the stage completes
     */
    public static Fence from(CompletionStage<?> stage) {
        Signaller s = FenceContext.create("CompletionStage").next();
        stage.whenComplete((value, e) -> {
            if (e == null) {
                s.trySignal();
            } else {
                s.trySignal(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            }
        });
        return s.fence();
    }

    // ------------------------------------------------------------ description

    /** The name of this fence's timeline: its context's name, or the container kind. */
    abstract String timelineName();

    /** Timeline name, context and sequence number, without the status (safe while COMPLETING). */
    final String describe() {
        return timelineName() + "#" + context + ":" + Long.toUnsignedString(seqno);
    }

    /**
     * Describes this fence: timeline name, context, sequence number and status, with the error of
     * a failed fence, e.g. {@code Fence[gpu#3:17 FAILED java.io.IOException: lost]}.
     *
     * @return a description, for diagnostics
     */
    @Override
    public String toString() {
        Throwable e = error();
        return "Fence[" + describe() + " " + status() + (e != null ? " " + e : "") + "]";
    }

    // ------------------------------------------------------------ the algorithm

    static boolean isPending(Object s) {
        return !(s instanceof Marker) && !(s instanceof Throwable);
    }

    /** The outcome of a signalled fence: SUCCESS or the error, waiting out COMPLETING. */
    private Object outcome(Object s) {
        for (int spins = 0; s == COMPLETING; s = state) {
            if (++spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        return s;
    }

    /** Pushes a registration; {@code false} if the fence is signalled. */
    final boolean push(Node n) {
        CallbackNode moved = null;                      // the inline callback, moved into a node
        for (;;) {
            Object s = state;
            if (!isPending(s)) {
                return false;
            }
            Node below;
            if (s == null || s instanceof Node) {
                below = (Node) s;
            } else {
                FenceCallback inline = (FenceCallback) s;
                if (moved == null || moved.callback != inline) {
                    moved = new CallbackNode(inline, null);
                }
                below = moved;
            }
            NEXT.set(n, below);                         // published by the CAS
            if (STATE.compareAndSet(this, s, n)) {
                return true;
            }
        }
    }

    /** Unlinks claimed nodes, tolerating races with pushes, other cleaners and signal. */
    final void cleanStack() {
        Node p;
        for (;;) {
            Object s = state;
            if (!(s instanceof Node h)) {
                return;
            }
            if (h.isLive()) {
                p = h;
                break;
            }
            STATE.weakCompareAndSet(this, h, h.next);
        }
        for (Node q = p.next; q != null; ) {
            Node n = q.next;
            if (q.isLive()) {
                p = q;
                q = n;
            } else if (NEXT.weakCompareAndSet(p, q, n)) {
                q = n;
            } else {
                q = p.next;
            }
        }
    }

    /**
     * Signals this fence and fires its registrations on this thread.
     *
     * @param error the error to signal with, or {@code null} to use the pending one, if any
     * @return {@code true} if this call signalled the fence, {@code false} if it was signalled
     */
    final boolean complete(Throwable error) {
        Object run = tryComplete(error, null);
        if (run == LOST) {
            return false;
        }
        fire(this, run);
        return true;
    }

    /**
     * Moves this fence from pending to signalled and publishes the outcome, without firing.
     * Nothing here allocates or can fail between the state CAS and the release store.
     *
     * @param error the error to signal with, or {@code null} to use the pending one, if any
     * @param abandonment if not {@code null}, signal with this instead, its cause set to the
     *     pending error (allocated by the caller, before the CAS)
     * @return the registrations to fire: {@code null}, the lone inline callback, or nodes in FIFO
     *     order (linked by {@code fifo}); or {@link #LOST} if the fence was already signalled. The
     *     waiters ahead of every other registration are not among them: they are left in
     *     {@code waking} for {@link #wakeWaiters}
     */
    final Object tryComplete(Throwable error, FenceAbandonedException abandonment) {
        Object s;
        do {
            s = state;
            if (!isPending(s)) {
                return LOST;
            }
        } while (!STATE.compareAndSet(this, s, COMPLETING));
        Object run = s instanceof Node ? null : s;      // nothing, or the lone inline callback
        Throwable pending = null;
        for (Node n = s instanceof Node h ? h : null; n != null; n = n.next) {
            if (n instanceof ErrorNode e) {
                if (pending == null) {
                    pending = e.error;                  // the newest setError wins
                }
            } else {
                n.fifo = (Node) run;
                run = n;
            }
        }
        WaiterNode wake = null;                         // the waiters ahead of every callback
        if (run instanceof WaiterNode first) {
            wake = first;
            run = cutWaiters(first);
        }
        if (abandonment != null) {
            if (pending != null) {
                abandonment.initCause(pending);
            }
            error = abandonment;
        } else if (error == null) {
            error = pending;
        }
        timestamp = System.nanoTime();
        WAKING.set(this, wake);                         // published by the release store below
        STATE.setRelease(this, error != null ? error : SUCCESS);
        return run;
    }

    /**
     * Fires the registrations of {@code f}, then those of every container that completes as a
     * result, iteratively (see Overview).
     */
    static void fire(Fence f, Object registrations) {
        Container head = null;
        Container tail = null;
        for (Object due = registrations; ; ) {
            f.wakeWaiters();
            Node run = null;
            if (due instanceof Node list) {
                run = list;
            } else if (due != null) {
                CallbackNode.run((FenceCallback) due, f);   // the lone inline callback
            }
            while (run != null) {
                Node n = run;
                if (n instanceof WaiterNode w) {        // waiters whose turn came: wake them, with help
                    run = cutWaiters(w);
                    WAKING.setVolatile(f, w);
                    f.wakeWaiters();
                    continue;
                }
                run = n.fifo;
                n.fifo = null;
                Container c = null;
                try {
                    if (n.claim()) {
                        c = n.fire(f);
                    }
                } catch (Throwable t) {                 // whatever escaped a registration: go on
                    reportQuietly(f, t);
                }
                if (c != null) {
                    if (tail == null) {
                        head = c;
                    } else {
                        tail.nextToFire = c;
                    }
                    tail = c;
                }
            }
            if (head == null) {
                return;
            }
            f = head;
            due = head.firing;
            head.firing = null;
            Container next = head.nextToFire;
            head.nextToFire = null;
            head = next;
            if (head == null) {
                tail = null;
            }
        }
    }

    /**
     * Cuts the run of consecutive waiters that starts at {@code first} off the FIFO list, so that
     * it can be published in {@code waking}; returns the registration after it. Writes only
     * {@code fifo} links owned by the signalling thread.
     */
    private static Node cutWaiters(WaiterNode first) {
        Node last = first;
        while (last.fifo instanceof WaiterNode) {
            last = last.fifo;
        }
        Node rest = last.fifo;
        last.fifo = null;
        return rest;
    }

    /**
     * Unparks the run of waiters published in {@code waking}, popping them one CAS each. The
     * signalling thread calls it when the run's turn comes and pops until it is empty; every wait
     * that finds the fence signalled calls it too, so the waiters already awake help wake the
     * rest (as {@code CompletableFuture}'s waiters help with {@code postComplete}). Continues
     * past any throwable.
     */
    final void wakeWaiters() {
        for (WaiterNode w; (w = waking) != null; ) {
            if (WAKING.compareAndSet(this, w, (WaiterNode) w.fifo)) {   // a run holds waiters only
                try {
                    if (w.claim()) {
                        w.fire(this);
                    }
                } catch (Throwable t) {                 // an unpark that failed: wake the others
                    reportQuietly(this, t);
                }
            }
        }
    }

    /**
     * Reports a throwable that escaped a registration, swallowing whatever the report itself
     * throws (the fire loop must go on; there is nobody left to tell).
     */
    static void reportQuietly(Fence f, Throwable t) {
        try {
            Fences.reportCallbackFailure(f, t);
        } catch (Throwable reporterFailed) {
            // the handler and the log both threw: dropped, so that the fire loop continues
        }
    }

    /** Converts a timeout to nanoseconds, saturating; rejects negative ones. */
    static long toNanos(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout);
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    // ------------------------------------------------------------ registrations

    /**
     * A registration on a fence's stack. It is fired or removed at most once: whoever wins the
     * CAS on {@code claimed}.
     */
    abstract static class Node {
        volatile Node next;       // stack link: set before the push CAS; CAS by cleaners
        Node fifo;                // firing order, written by the signal winner after detaching
        volatile boolean claimed; // CAS false -> true, once, by the fire loop or a remover

        final boolean claim() {
            return !claimed && CLAIMED.compareAndSet(this, false, true);
        }

        final boolean isLive() {
            return !claimed;
        }

        /**
         * Runs this registration for the signalled fence {@code f}, after a successful claim.
         *
         * @return a container that this completed and whose callbacks are due, or {@code null}
         */
        abstract Container fire(Fence f);
    }

    /** A user callback, run inline or handed to an executor. */
    static final class CallbackNode extends Node {
        final FenceCallback callback;
        final Executor executor;          // null: run on the signalling thread

        CallbackNode(FenceCallback callback, Executor executor) {
            this.callback = callback;
            this.executor = executor;
        }

        @Override
        Container fire(Fence f) {
            if (executor == null) {
                callback.onSignal(f);                   // a throwable goes to the fire loop
            } else {
                executor.execute(() -> run(callback, f));
            }
            return null;
        }

        /** Runs the callback, reporting whatever it throws (on an executor, or for whenSignaled). */
        static void run(FenceCallback callback, Fence f) {
            try {
                callback.onSignal(f);
            } catch (Throwable t) {
                reportQuietly(f, t);
            }
        }
    }

    /** A parked thread; firing unparks it. Popped from {@code waking} by {@link #wakeWaiters}. */
    static final class WaiterNode extends Node {
        final Thread thread;

        WaiterNode(Thread thread) {
            this.thread = thread;
        }

        @Override
        Container fire(Fence f) {
            LockSupport.unpark(thread);
            return null;
        }
    }

    /** A container waiting for this fence as one of its members. */
    static final class MemberNode extends Node {
        final Container owner;

        MemberNode(Container owner) {
            this.owner = owner;
        }

        @Override
        Container fire(Fence f) {
            return owner.memberSignaled(f);
        }
    }

    /** An error set before signalling; never fired, read by the signal winner. */
    static final class ErrorNode extends Node {
        final Throwable error;

        ErrorNode(Throwable error) {
            this.error = error;
        }

        @Override
        Container fire(Fence f) {
            throw new AssertionError("error nodes are never fired");
        }
    }

    /** The result of {@link #tryComplete} when the fence was already signalled. */
    static final Node LOST = new ErrorNode(null);

    /** A named sentinel state. */
    private record Marker(String name) {
        @Override
        public String toString() {
            return name;
        }
    }

    // VarHandle mechanics
    private static final VarHandle STATE;
    private static final VarHandle DEADLINE;
    private static final VarHandle WAKING;
    private static final VarHandle NEXT;
    private static final VarHandle CLAIMED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Fence.class, "state", Object.class);
            DEADLINE = l.findVarHandle(Fence.class, "deadline", long.class);
            WAKING = l.findVarHandle(Fence.class, "waking", WaiterNode.class);
            NEXT = l.findVarHandle(Node.class, "next", Node.class);
            CLAIMED = l.findVarHandle(Node.class, "claimed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        Class<?> ensureLoaded = LockSupport.class; // avoid class loading in the first park
    }
}
