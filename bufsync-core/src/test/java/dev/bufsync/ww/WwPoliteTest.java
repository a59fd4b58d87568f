package dev.bufsync.ww;

import static dev.bufsync.ww.Actor.awaitWaiters;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwClass.Algorithm;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Polite waiting ({@link WwClass.Builder#politeBackoffs(int)}) on both mutex kinds and both algorithms. */
class WwPoliteTest {

    private static WwClass polite(Algorithm algorithm, int max) {
        return WwClass.builder("polite-" + algorithm).algorithm(algorithm).injectBackoff(false)
                .politeBackoffs(max).build();
    }

    /** A lock with a context, which may back off. */
    @FunctionalInterface
    private interface Lock {
        LockResult lock() throws BackoffException;
    }

    /** Runs {@code lock}: its result, or the back-off it threw instead. */
    private static Object attempt(Lock lock) {
        try {
            return lock.lock();
        } catch (BackoffException e) {
            return e;
        }
    }

    /** Locks {@code m} with {@code ctx}: the result, or the back-off it threw instead. */
    private static Object attempt(WwMutex m, AcquireContext ctx) {
        return attempt(() -> m.lock(ctx));
    }

    /** Runs {@code lock}: the back-off it threw, or {@code null} if it did not back off. */
    private static BackoffException backoffOf(Lock lock) {
        return attempt(lock) instanceof BackoffException e ? e : null;
    }

    /**
     * A context that holds a lock and meets a held mutex backs off politely instead of queueing,
     * whatever its age: it holds what it held, was never queued, and names itself as the context
     * it yielded to. Then it waits holding nothing in lockSlow and gets the mutex.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aContextHoldingLocksBacksOffInsteadOfWaiting(Algorithm algorithm) throws Exception {
        WwClass cls = polite(algorithm, 1);
        WwMutex m = new WwMutex(cls);
        WwMutex other = new WwMutex(cls);
        try (Actor holder = new Actor("holder"); Actor mover = new Actor("mover")) {
            AcquireContext ctx = mover.call(cls::begin);            // older than the holder's
            AcquireContext young = holder.call(cls::begin);
            holder.call(() -> m.lock(young));
            mover.call(() -> other.lock(ctx));
            Object outcome = mover.call(() -> attempt(m, ctx));
            assertThat(outcome).isInstanceOfSatisfying(BackoffException.class, e -> {
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.POLITE);
                assertThat(e.mutex()).isSameAs(m);
                assertThat(e.olderStamp()).isEqualTo(ctx.stamp());
                assertThat(e.getMessage()).contains("polite");
            });
            assertThat(m.waiterCount()).isZero();
            assertThat(young.woundedAcquire()).as("a polite back-off wounds nobody").isFalse();
            assertThat(mover.call(ctx::heldLocks)).containsExactly(other);
            mover.run(ctx::unlockAll);
            Future<Void> slow = mover.start(() -> {
                m.lockSlow(ctx);
                return null;
            });
            awaitWaiters(m, 1);
            holder.run(young::unlockAll);
            slow.get(Actor.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertThat(m.holderContext()).isSameAs(ctx);
            assertThat(mover.call(() -> other.lock(ctx))).isEqualTo(LockResult.ACQUIRED);
            assertThat(cls.stats().backoffs()).isEqualTo(1);
            mover.run(ctx::unlockAll);
            mover.run(ctx::close);
            holder.run(young::close);
        }
    }

    /**
     * The bound holds per transaction: after {@code max} polite back-offs a context waits while
     * holding, as its algorithm says; a new transaction has the whole bound again.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void politeBackoffsAreBoundedPerTransaction(Algorithm algorithm) throws Exception {
        WwClass cls = polite(algorithm, 2);
        List<WwMutex> held = List.of(new WwMutex(cls), new WwMutex(cls), new WwMutex(cls));
        WwMutex other = new WwMutex(cls);
        try (Actor holder = new Actor("holder"); Actor mover = new Actor("mover")) {
            for (WwMutex m : held) {
                assertThat(holder.call(() -> m.tryLock())).isTrue(); // plain holds: no age at all
            }
            AcquireContext ctx = mover.call(cls::begin);
            mover.call(() -> other.lock(ctx));
            for (int i = 0; i < 2; i++) {
                WwMutex m = held.get(i);
                assertThat(mover.call(() -> attempt(m, ctx))).as("back-off %d", i)
                        .isInstanceOfSatisfying(BackoffException.class,
                                e -> assertThat(e.reason()).isEqualTo(BackoffException.Reason.POLITE));
                mover.run(ctx::unlockAll);
                Future<Void> slow = mover.start(() -> {
                    m.lockSlow(ctx);                                 // waits holding nothing
                    return null;
                });
                awaitWaiters(m, 1);
                holder.run(m::unlock);
                slow.get(Actor.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
            WwMutex last = held.get(2);
            Future<Object> waits = mover.start(() -> attempt(last, ctx));
            awaitWaiters(last, 1);                                   // queued, holding held.get(1)
            holder.run(last::unlock);
            assertThat(waits.get(Actor.PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(mover.call(ctx::heldLocks)).containsExactly(held.get(1), last);
            mover.run(ctx::unlockAll);
            mover.run(ctx::close);

            holder.run(last::lock);
            AcquireContext next = mover.call(cls::begin);
            mover.call(() -> other.lock(next));
            assertThat(mover.call(() -> attempt(last, next))).isInstanceOfSatisfying(BackoffException.class,
                    e -> assertThat(e.reason()).isEqualTo(BackoffException.Reason.POLITE));
            mover.run(next::unlockAll);
            mover.run(next::close);
            holder.run(last::unlock);
        }
    }

    /** A context that holds nothing waits: there is nothing to let go. */
    @Test
    void aContextHoldingNothingWaits() throws Exception {
        WwClass cls = polite(Algorithm.WOUND_WAIT, 5);
        WwMutex m = new WwMutex(cls);
        try (Actor holder = new Actor("holder"); Actor mover = new Actor("mover")) {
            holder.run(m::lock);
            AcquireContext ctx = mover.call(cls::begin);
            Future<Object> waits = mover.start(() -> attempt(m, ctx));
            awaitWaiters(m, 1);
            holder.run(m::unlock);
            assertThat(waits.get(Actor.PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            mover.run(ctx::unlockAll);
            mover.run(ctx::close);
        }
    }

    /**
     * Wait-die still kills first: a younger context that holds locks and meets an older holder
     * dies (DIED, naming the older one), which uses none of its polite back-offs.
     */
    @Test
    void waitDieDiesBeforeItIsPolite() throws Exception {
        WwClass cls = polite(Algorithm.WAIT_DIE, 1);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex c = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor plain = new Actor("plain")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            old.call(() -> a.lock(oldCtx));
            plain.run(c::lock);
            young.call(() -> b.lock(youngCtx));
            assertThat(young.call(() -> attempt(a, youngCtx))).isInstanceOfSatisfying(BackoffException.class, e -> {
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
                assertThat(e.olderStamp()).isEqualTo(oldCtx.stamp());
            });
            young.run(youngCtx::unlockAll);
            old.run(oldCtx::unlockAll);
            young.run(() -> a.lockSlow(youngCtx));
            assertThat(young.call(() -> attempt(c, youngCtx))).isInstanceOfSatisfying(BackoffException.class,
                    e -> assertThat(e.reason()).as("the bound is still whole").isEqualTo(BackoffException.Reason.POLITE));
            young.run(youngCtx::unlockAll);
            young.run(youngCtx::close);
            old.run(oldCtx::close);
            plain.run(c::unlock);
        }
    }

    /** Shared locks are polite too: a held reader-writer lock, in either mode, and an upgrade. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void sharedLocksBackOffPolitelyInTheModeAskedFor(Algorithm algorithm) throws Exception {
        WwClass cls = polite(algorithm, 3);
        WwSharedMutex s = new WwSharedMutex(cls);
        WwMutex other = new WwMutex(cls);
        try (Actor holder = new Actor("holder"); Actor mover = new Actor("mover")) {
            AcquireContext ctx = mover.call(cls::begin);
            AcquireContext h = holder.call(cls::begin);
            holder.call(() -> s.lock(h));                            // exclusively
            mover.call(() -> other.lock(ctx));
            BackoffException shared = mover.call(() -> backoffOf(() -> s.lockShared(ctx)));
            assertThat(shared).isNotNull();
            assertThat(shared.reason()).isEqualTo(BackoffException.Reason.POLITE);
            assertThat(shared.sharedMutex()).isSameAs(s);
            assertThat(shared.shared()).isTrue();
            assertThat(s.waiterCount()).isZero();
            mover.run(ctx::unlockAll);
            holder.run(h::unlockAll);
            mover.run(() -> s.lockSharedSlow(ctx));                 // the contended lock comes first

            holder.call(() -> s.lockShared(h));                      // an upgrade waits for the other reader
            mover.call(() -> other.lock(ctx));
            BackoffException upgrade = mover.call(() -> backoffOf(() -> s.lock(ctx)));
            assertThat(upgrade).isNotNull();
            assertThat(upgrade.reason()).isEqualTo(BackoffException.Reason.POLITE);
            assertThat(upgrade.shared()).isFalse();
            assertThat(s.readerCount()).isEqualTo(2);
            mover.run(ctx::unlockAll);
            holder.run(h::unlockAll);
            mover.run(ctx::close);
            holder.run(h::close);
        }
    }

    /** An asynchronous lock that would queue while its context holds locks completes with the polite back-off. */
    @Test
    void anAsynchronousLockBacksOffPolitely() throws Exception {
        WwClass cls = polite(Algorithm.WOUND_WAIT, 1);
        WwMutex m = new WwMutex(cls);
        WwMutex other = new WwMutex(cls);
        try (Actor holder = new Actor("holder")) {
            holder.run(m::lock);
            AcquireContext ctx = cls.beginTransferable();
            other.lock(ctx);
            CompletableFuture<LockResult> f = m.lockAsync(ctx, Runnable::run);
            assertThat(f).isCompletedExceptionally();
            Throwable cause = f.handle((v, t) -> t).join();
            assertThat(cause).isInstanceOfSatisfying(BackoffException.class,
                    e -> assertThat(e.reason()).isEqualTo(BackoffException.Reason.POLITE));
            assertThat(m.waiterCount()).isZero();
            ctx.attach();
            assertThat(ctx.heldLocks()).containsExactly(other);
            ctx.unlockAll();
            ctx.close();
            holder.run(m::unlock);
        }
    }

    @Test
    void builderRefusesANegativeBoundAndToStringShowsIt() {
        assertThatThrownBy(() -> WwClass.builder("gpu").politeBackoffs(-1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("politeBackoffs for class gpu must not be negative: -1");
        assertThat(WwClass.builder("gpu").politeBackoffs(0).build().politeBackoffs()).as("0 turns it off").isZero();
        WwClass cls = WwClass.builder("gpu").politeBackoffs(4).build();
        assertThat(cls.politeBackoffs()).isEqualTo(4);
        assertThat(cls.toString()).contains("polite=4");
        assertThat(WwClass.woundWait("cpu").politeBackoffs()).isZero();
        assertThat(WwClass.woundWait("cpu").toString()).doesNotContain("polite");
    }

    /**
     * Dining philosophers with polite classes: every diner locks its two forks in its own order
     * (so the plain version deadlocks), backs off as told, and every meal happens with each fork
     * held by one diner at a time; nobody is left holding anything.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void politeDinersAllEatWithoutSharingAFork(Algorithm algorithm) throws Exception {
        int diners = 5;
        int meals = 300;
        WwClass cls = polite(algorithm, 2);
        List<WwMutex> forks = new ArrayList<>();
        int[] usedBy = new int[diners];
        for (int i = 0; i < diners; i++) {
            forks.add(new WwMutex(cls));
            usedBy[i] = -1;
        }
        AtomicInteger eaten = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(diners);
        for (int d = 0; d < diners; d++) {
            int me = d;
            Thread.ofPlatform().name("diner-" + d).start(() -> {
                try {
                    for (int meal = 0; meal < meals; meal++) {
                        dine(cls, forks.get(me), forks.get((me + 1) % diners), usedBy, me, (me + 1) % diners, me);
                        eaten.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        assertThat(done.await(60, TimeUnit.SECONDS)).as("every diner finished").isTrue();
        assertThat(failure.get()).isNull();
        assertThat(eaten.get()).isEqualTo(diners * meals);
        for (WwMutex f : forks) {
            assertThat(f.isLocked()).isFalse();
        }
    }

    /** One meal: both forks, in the order left then right, with the back-off loop. */
    private static void dine(WwClass cls, WwMutex left, WwMutex right, int[] usedBy, int l, int r, int me)
            throws BackoffException {
        try (AcquireContext ctx = cls.begin()) {
            WwMutex slow = null;
            for (;;) {
                try {
                    if (slow != null) {
                        slow.lockSlow(ctx);
                    }
                    if (slow != left) {
                        left.lock(ctx);
                    }
                    if (slow != right) {
                        right.lock(ctx);
                    }
                    break;
                } catch (BackoffException e) {
                    ctx.unlockAll();
                    slow = e.mutex();
                }
            }
            ctx.acquireDone();
            claim(usedBy, l, me);
            claim(usedBy, r, me);
            if (ThreadLocalRandom.current().nextInt(4) == 0) {
                Thread.yield();                               // hold the forks a little longer
            }
            usedBy[l] = -1;
            usedBy[r] = -1;
            ctx.unlockAll();
        }
    }

    private static void claim(int[] usedBy, int fork, int me) {
        if (usedBy[fork] != -1) {
            throw new AssertionError("fork " + fork + " used by diner " + usedBy[fork] + " and " + me);
        }
        usedBy[fork] = me;
    }
}
