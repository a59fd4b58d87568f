package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwMisuseException.Rule;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link AcquireContext} bookkeeping. */
class AcquireContextTest {

    private static WwClass wwClass(String name) {
        return WwClass.builder(name).injectBackoff(false).build();
    }

    private static List<WwMutex> mutexes(WwClass cls, int n) {
        List<WwMutex> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new WwMutex(cls));
        }
        return list;
    }

    /** Locks every mutex of {@code ms} with {@code ctx} (no contention: never backs off). */
    private static void lockEach(AcquireContext ctx, List<WwMutex> ms) throws BackoffException {
        for (WwMutex m : ms) {
            assertThat(m.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
        }
    }

    /**
     * The held list a closed context leaves to its thread's next context is bounded: a pooled
     * thread that once ran a transaction over many mutexes keeps at most a small array per class.
     */
    @Test
    void spareHeldListIsBounded() throws Exception {
        WwClass cls = WwClass.builder("spare").injectBackoff(false).build();
        List<WwMutex> many = mutexes(cls, 1000);
        try (AcquireContext ctx = cls.begin()) {
            lockEach(ctx, many);
            ctx.unlockAll();
        }
        Object[] spare = cls.threadState().spareHeld;
        assertThat(spare == null ? 0 : spare.length).isLessThanOrEqualTo(256);
        try (AcquireContext small = cls.begin()) {           // a small transaction reuses a small one
            many.get(0).lock(small);
            small.unlockAll();
        }
        assertThat(cls.threadState().spareHeld).isNotNull().hasSizeLessThanOrEqualTo(256);
    }

    /**
     * A held list of exactly the bound (256 slots, grown by doubling from 4) is kept for the next
     * context, which takes it over: the thread then has no spare until that context closes.
     */
    @Test
    void spareHeldListOfExactlyTheBoundIsKeptAndReused() throws Exception {
        WwClass cls = wwClass("bound");
        try (AcquireContext ctx = cls.begin()) {
            lockEach(ctx, mutexes(cls, 256));
            assertThat(ctx.heldCount()).isEqualTo(256);
            ctx.unlockAll();
        }
        Object[] spare = cls.threadState().spareHeld;
        assertThat(spare).hasSize(256).containsOnlyNulls();
        try (AcquireContext next = cls.begin()) {
            assertThat(cls.threadState().spareHeld).as("taken by the next context").isNull();
            lockEach(next, mutexes(cls, 256));               // fits: no regrowth, no copy
            next.unlockAll();
        }
        assertThat(cls.threadState().spareHeld).isSameAs(spare);
    }

    /** The held list lists the mutexes in acquisition order, and an unlock out of order keeps it. */
    @Test
    void heldLocksKeepAcquisitionOrderAcrossUnlocksInAnyOrder() throws Exception {
        WwClass cls = wwClass("order");
        List<WwMutex> ms = mutexes(cls, 5);
        try (AcquireContext ctx = cls.begin()) {
            lockEach(ctx, ms);
            assertThat(ctx.heldLocks()).containsExactlyElementsOf(ms);
            ms.get(1).unlock();
            assertThat(ctx.heldLocks()).containsExactly(ms.get(0), ms.get(2), ms.get(3), ms.get(4));
            ms.get(0).unlock();
            assertThat(ctx.heldLocks()).containsExactly(ms.get(2), ms.get(3), ms.get(4));
            ms.get(4).unlock();
            assertThat(ctx.heldLocks()).containsExactly(ms.get(2), ms.get(3));
            assertThat(ctx.heldCount()).isEqualTo(2);
            ctx.unlockAll();
            assertThat(ctx.heldLocks()).isEmpty();
            assertThat(ms).noneMatch(WwMutex::isLocked);
        }
    }

    /** unlockAll unlocks newest first. */
    @Test
    void unlockAllUnlocksNewestFirst() throws Exception {
        WwClass cls = wwClass("newest-first");
        List<Integer> order = new ArrayList<>();
        List<WwMutex> ms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int id = i;
            ms.add(new WwMutex(cls, () -> order.add(id)));
        }
        try (AcquireContext ctx = cls.begin()) {
            lockEach(ctx, ms);
            ctx.unlockAll();
        }
        assertThat(order).containsExactly(3, 2, 1, 0);
    }

    /** Uncontended acquisitions are counted locally and reach the class's stats on close. */
    @Test
    void closeFlushesTheAcquisitionCount() throws Exception {
        WwClass cls = wwClass("flush");
        List<WwMutex> ms = mutexes(cls, 3);
        AcquireContext ctx = cls.begin();
        lockEach(ctx, ms);
        ctx.unlockAll();
        assertThat(cls.stats().acquisitions()).as("before close").isZero();
        ctx.close();
        assertThat(cls.stats().acquisitions()).isEqualTo(3);
        ctx.close();                                          // idempotent: counted once
        assertThat(cls.stats().acquisitions()).isEqualTo(3);
    }

    /**
     * Closing with locks held unlocks them, still flushes the count, frees the thread for a new
     * context, and reports the misuse with the count and the mutexes.
     */
    @Test
    void closeWithLocksHeldReportsThemAfterUnlocking() throws Exception {
        WwClass cls = wwClass("close-held");
        List<WwMutex> ms = mutexes(cls, 2);
        AcquireContext ctx = cls.begin();
        lockEach(ctx, ms);
        assertThatThrownBy(ctx::close).isInstanceOf(WwMisuseException.class)
                .satisfies(e -> assertThat(((WwMisuseException) e).rule())
                        .isEqualTo(WwMisuseException.Rule.CLOSE_WITH_LOCKS_HELD))
                .hasMessageContaining("#" + ctx.stamp()).hasMessageContaining("holding 2 lock(s) ")
                .hasMessageContaining(ms.get(0).describe()).hasMessageContaining(ms.get(1).describe())
                .hasMessageEndingWith("; they have been unlocked");
        assertThat(ms).noneMatch(WwMutex::isLocked);
        assertThat(ctx.isClosed()).isTrue();
        assertThat(cls.stats().acquisitions()).isEqualTo(2);
        try (AcquireContext again = cls.begin()) {
            assertThat(again.heldCount()).isZero();
        }
    }

    /** toString shows the stamp, the class, the owner, the held count and the phase. */
    @Test
    void toStringShowsThePhase() throws Exception {
        WwClass cls = WwClass.builder("phases").injectBackoff(false).build();
        List<WwMutex> ms = mutexes(cls, 40);
        AcquireContext ctx = cls.begin();
        String prefix = "AcquireContext#" + ctx.stamp() + "[class=phases, owner=" + Thread.currentThread().getName();
        assertThat(ctx).hasToString(prefix + ", held=0]");
        ms.get(0).lock(ctx);
        assertThat(ctx).hasToString(prefix + ", held=1]");
        ctx.injectBackoff(true);
        WwMutex contended = null;
        for (int i = 1; i < ms.size() && contended == null; i++) {
            try {
                ms.get(i).lock(ctx);
            } catch (BackoffException e) {
                contended = e.mutex();
            }
        }
        assertThat(contended).as("an injected back-off").isNotNull();
        ctx.injectBackoff(false);
        ctx.unlockAll();
        assertThat(ctx.contended()).isSameAs(contended);
        assertThat(ctx.backoffs()).isEqualTo(1);
        assertThat(ctx).hasToString(prefix + ", held=0, contended=" + contended.describe() + "]");
        contended.lockSlow(ctx);
        assertThat(ctx.contended()).isNull();
        assertThat(ctx).hasToString(prefix + ", held=1]");
        ctx.unlockAll();
        ctx.acquireDone();
        assertThat(ctx.isDone()).isTrue();
        assertThat(ctx).hasToString(prefix + ", held=0, done]");
        ctx.close();
        assertThat(ctx).hasToString(prefix + ", held=0, done, closed]");
    }

    /** A context of a thread without a name shows the thread itself as owner. */
    @Test
    void toStringOfANamelessOwnerShowsTheThread() throws Exception {
        WwClass cls = wwClass("nameless");
        AtomicReference<String> shown = new AtomicReference<>();
        AtomicReference<String> owner = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("").start(() -> {
            try (AcquireContext ctx = cls.begin()) {
                owner.set(Thread.currentThread().toString());    // while it runs: it names its group
                shown.set(ctx.toString());
            }
        });
        t.join();
        assertThat(shown.get()).contains("owner=" + owner.get() + ",");
    }

    /**
     * An asynchronous lock tried from a thread other than the one the context is attached to is
     * refused, and the context stays attached where it was, usable there.
     */
    @Test
    void anAsynchronousLockFromAnotherThreadLeavesTheContextWithItsOwner() throws Exception {
        WwClass cls = wwClass("async-foreign");
        WwMutex m = new WwMutex(cls);
        AcquireContext ctx = cls.beginTransferable();            // attached to this thread
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("intruder").start(() -> {
            try {
                m.lockAsync(ctx, Runnable::run);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        assertThat(failure.get()).isInstanceOfSatisfying(WwMisuseException.class,
                e -> assertThat(e.rule()).isEqualTo(Rule.CONCURRENT_USE));
        assertThat(ctx.owner()).isSameAs(Thread.currentThread());
        assertThat(m.isLocked()).isFalse();
        assertThat(m.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
        ctx.unlockAll();
        ctx.close();
    }

    /** A transferable context last carried by a thread without a name shows that thread when detached. */
    @Test
    void toStringOfADetachedContextShowsANamelessLastCarrier() throws Exception {
        WwClass cls = wwClass("nameless-carrier");
        AtomicReference<AcquireContext> moved = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("").start(() -> {
            AcquireContext ctx = cls.beginTransferable();
            ctx.detach();
            moved.set(ctx);
        });
        t.join();
        AcquireContext ctx = moved.get();
        assertThat(ctx.toString()).contains("owner=detached (last on " + t + ")");  // the ended thread, by its toString
        ctx.attach();
        ctx.close();
    }

    /**
     * Injection reports a back-off on the kernel's geometric schedule: after {@code stamp & 0xf}
     * further locks, then after 3, 10, 35 and 122 (each interval 3.5 times the last) successful
     * locks of a context that holds a lock; the first lock of a transaction never counts.
     */
    @Test
    void injectionFollowsTheGeometricScheduleExactly() throws Exception {
        WwClass cls = WwClass.builder("schedule").firstStamp(2).injectBackoff(true).build();
        List<WwMutex> ms = mutexes(cls, 200);
        List<Integer> injectedAt = new ArrayList<>();
        try (AcquireContext ctx = cls.begin()) {
            assertThat(ctx.stamp() & 0xf).isEqualTo(2);
            ms.get(0).lock(ctx);
            for (int i = 1; i < ms.size(); i++) {
                try {
                    ms.get(i).lock(ctx);
                } catch (BackoffException e) {
                    assertThat(e.reason()).isEqualTo(BackoffException.Reason.INJECTED);
                    assertThat(e.olderStamp()).isEqualTo(ctx.stamp());
                    assertThat(e.mutex()).isSameAs(ms.get(i));
                    assertThat(ms.get(i).isLocked()).isFalse();
                    assertThat(ctx.heldLocks()).doesNotContain(ms.get(i));
                    injectedAt.add(i);
                    ctx.unlockAll();
                    ms.get(i).lockSlow(ctx);                 // not a lock(): never injected
                    ms.get(i).unlock();
                    ms.get(0).lock(ctx);                      // the first lock again: never counted
                }
            }
            ctx.unlockAll();
        }
        // Locks counted before each injection: 2 skipped, then 3, 10, 35, 122 skipped.
        assertThat(injectedAt).containsExactly(3, 7, 18, 54, 177);
        assertThat(cls.stats().injected()).isEqualTo(5);
        assertThat(cls.stats().backoffs()).isEqualTo(5);
    }

    /** A context can turn injection off on an injecting class, and on on a plain one. */
    @Test
    void injectionCanBeTurnedOffAndOnPerContext() throws Exception {
        WwClass injecting = WwClass.builder("on").firstStamp(0).injectBackoff(true).build();
        List<WwMutex> ms = mutexes(injecting, 100);
        try (AcquireContext ctx = injecting.begin()) {
            ctx.injectBackoff(false);
            lockEach(ctx, ms);
            ctx.unlockAll();
        }
        WwClass plain = WwClass.builder("off").firstStamp(0).injectBackoff(false).build();
        WwMutex a = new WwMutex(plain);
        WwMutex b = new WwMutex(plain);
        try (AcquireContext ctx = plain.begin()) {
            ctx.injectBackoff(true);                          // stamp 0: the second lock backs off
            a.lock(ctx);
            assertThatThrownBy(() -> b.lock(ctx)).isInstanceOf(BackoffException.class);
            ctx.unlockAll();
        }
    }

    private static void assertMisuse(ThrowingCallable call, Rule rule, String inMessage) {
        assertThatThrownBy(call).isInstanceOf(WwMisuseException.class).hasMessageContaining(inMessage)
                .extracting(e -> ((WwMisuseException) e).rule()).isEqualTo(rule);
    }

    /**
     * A transferable context moves between threads with detach and attach; its mutexes then
     * show the new thread as owner (also in the JVM's own view, for thread dumps, to a thread
     * that waits); two threads at once, a detached use and a thread-bound move are misuses.
     */
    @Test
    void transferableMovesBetweenThreads() throws Exception {
        WwClass cls = WwClass.builder("transfer").injectBackoff(false).build();
        WwMutex m = new WwMutex(cls);
        AcquireContext ctx = cls.beginTransferable();
        assertThat(ctx.isTransferable()).isTrue();
        m.lock(ctx);
        try (Actor other = new Actor("other"); Actor waiter = new Actor("waiter")) {
            Future<?> waits = waiter.start(() -> {
                m.lock();
                return null;
            });
            Actor.awaitWaiters(m, 1);
            assertMisuse(() -> other.run(ctx::attach), Rule.CONCURRENT_USE, "attached to");
            assertMisuse(() -> other.run(ctx::unlockAll), Rule.CONCURRENT_USE, "one thread at a time");
            ctx.detach();
            assertThat(ctx.owner()).isNull();
            assertThat(ctx.toString()).contains("detached (last on main)");
            assertMisuse(() -> m.unlock(), Rule.UNLOCK_FOREIGN, "held by");
            assertMisuse(() -> m.lock(ctx), Rule.FOREIGN_THREAD, "attach() it first");

            other.run(ctx::attach);
            assertThat(ctx.owner()).isSameAs(other.thread);
            assertThat(m.owner()).isSameAs(other.thread);
            assertThat(m.toString()).contains("on other");
            ThreadInfo info = ManagementFactory.getThreadMXBean()
                    .getThreadInfo(new long[] {other.thread.threadId()}, false, true)[0];
            assertThat(Arrays.stream(info.getLockedSynchronizers()).map(l -> l.getIdentityHashCode()))
                    .contains(System.identityHashCode(m));
            assertThat(m.shownOwner()).isSameAs(other.thread);
            assertMisuse(ctx::attach, Rule.CONCURRENT_USE, "attached to");
            assertMisuse(() -> other.run(() -> cls.beginTransferable()), Rule.TWO_CONTEXTS, "live");
            other.run(() -> {
                m.unlock();
                ctx.detach();
            });
            waits.get(20, TimeUnit.SECONDS);
            waiter.run(m::unlock);
        }
        ctx.close();                                       // detached: close attaches it for the call
        assertThat(ctx.isClosed()).isTrue();
        ctx.close();                                       // idempotent
        assertMisuse(ctx::attach, Rule.CONTEXT_CLOSED, "closed");
        try (AcquireContext bound = cls.begin()) {
            assertMisuse(bound::detach, Rule.FOREIGN_THREAD, "beginTransferable");
            assertMisuse(() -> cls.beginTransferable(), Rule.TWO_CONTEXTS, "live");
        }
    }

    /**
     * Wound-wait reaches a transaction on the thread it moved to: the younger one, attached to
     * another thread and blocked there on a mutex of the older one, is wounded when the older
     * one waits for a mutex it holds, and backs off instead of deadlocking.
     */
    @Test
    void woundReachesTheAttachedThread() throws Exception {
        WwClass cls = WwClass.builder("transfer-wound").injectBackoff(false).build();
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        try (Actor olderThread = new Actor("older"); Actor youngerThread = new Actor("younger")) {
            AcquireContext older = olderThread.call(() -> {
                AcquireContext c = cls.begin();
                a.lock(c);
                return c;
            });
            AcquireContext younger = cls.beginTransferable();
            b.lock(younger);
            younger.detach();
            Future<LockResult> youngerWaits = youngerThread.start(() -> {
                younger.attach();
                return a.lock(younger);                    // blocks: the older one holds a
            });
            Actor.awaitWaiters(a, 1);
            Future<LockResult> olderWaits = olderThread.start(() -> b.lock(older));
            assertThatThrownBy(() -> youngerWaits.get(Actor.PATIENCE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                    .hasCauseInstanceOf(BackoffException.class);
            youngerThread.run(() -> {
                younger.unlockAll();
                younger.close();
            });
            assertThat(olderWaits.get(Actor.PATIENCE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS))
                    .isEqualTo(LockResult.ACQUIRED);
            olderThread.run(() -> {
                older.unlockAll();
                older.close();
            });
        }
        assertThat(a.isLocked() || b.isLocked()).isFalse();
    }

    /**
     * A failed attach leaves the context detached, for another thread to attach: after a
     * TWO_CONTEXTS (this thread has another context of the class attached) and after close. A
     * detach frees the thread for another context; a thread-bound context cannot be attached.
     */
    @Test
    void failedAttachLeavesTheContextDetached() throws Exception {
        WwClass cls = wwClass("attach");
        AcquireContext moving = cls.beginTransferable();
        moving.detach();
        AcquireContext here = cls.beginTransferable();          // the thread is free again
        assertMisuse(moving::attach, Rule.TWO_CONTEXTS, "is live on it");
        assertThat(moving.owner()).isNull();
        try (Actor other = new Actor("other")) {
            other.run(moving::attach);
            assertThat(moving.owner()).isSameAs(other.thread);
            assertThat(moving.toString()).contains("owner=other");
            other.run(moving::detach);
            assertThat(moving.toString()).contains("owner=detached (last on other)");
        }
        here.close();
        moving.close();
        assertMisuse(moving::attach, Rule.CONTEXT_CLOSED, "closed");
        assertThat(moving.owner()).isNull();
        try (AcquireContext bound = cls.begin()) {
            assertMisuse(bound::attach, Rule.FOREIGN_THREAD, "beginTransferable");
            assertThat(bound.owner()).isSameAs(Thread.currentThread());
        }
    }

    /**
     * A context's own methods (unlockAll, acquireDone, injectBackoff, close) attach a detached
     * context for their duration only, from any thread, even one with another context attached.
     */
    @Test
    void ownMethodsAttachADetachedContextForTheirDurationOnly() throws Exception {
        WwClass cls = wwClass("enter");
        WwMutex m = new WwMutex(cls);
        AcquireContext ctx = cls.beginTransferable();
        m.lock(ctx);
        ctx.detach();
        try (AcquireContext mine = cls.beginTransferable()) {   // this thread's own context
            ctx.unlockAll();
            assertThat(ctx.owner()).isNull();
            assertThat(m.isLocked()).isFalse();
            ctx.injectBackoff(false);
            assertThat(ctx.owner()).isNull();
            ctx.acquireDone();
            assertThat(ctx.owner()).isNull();
            assertThat(ctx.isDone()).isTrue();
            try (Actor other = new Actor("other")) {
                other.run(ctx::attach);                        // detached again after each
                other.run(ctx::detach);
            }
            ctx.close();
            assertThat(ctx.owner()).isNull();
            assertThat(ctx.isClosed()).isTrue();
            assertThat(mine.owner()).isSameAs(Thread.currentThread());
        }
    }

    /**
     * toString names a wound and the readers-writer lock of a back-off; once the back-off is
     * resolved, neither.
     */
    @Test
    void toStringShowsAWoundAndASharedContendedLock() throws Exception {
        WwClass cls = wwClass("shown");
        WwMutex held = new WwMutex(cls);
        WwSharedMutex shared = new WwSharedMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            old.call(() -> shared.lock(co));
            young.call(() -> held.lock(cy));
            Future<LockResult> older = old.start(() -> held.lock(co));
            Actor.awaitWaiters(held, 1);
            Actor.await("wounded", cy::isWounded);
            assertThat(cy.toString()).endsWith(", held=1, wounded]");
            assertThatThrownBy(() -> young.call(() -> shared.lockShared(cy))).isInstanceOf(BackoffException.class);
            assertThat(cy.isWounded()).as("cleared by the back-off").isFalse();
            young.run(cy::unlockAll);
            assertThat(cy.toString()).endsWith(", held=0, contended=" + shared.describe() + "]");
            assertThat(cy.contendedSharedMutex()).isSameAs(shared);
            assertThat(cy.contended()).isNull();
            older.get(Actor.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            old.run(co::unlockAll);
            young.run(() -> shared.lockSharedSlow(cy));
            assertThat(cy.toString()).endsWith(", held=1]");
            young.run(cy::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * A held list filled to its last slot (a class new to the thread starts with four) is read,
     * attached elsewhere and compacted after an out-of-order unlock without overrunning it.
     */
    @Test
    void fullHeldListIsListedAttachedAndCompacted() throws Exception {
        WwClass cls = wwClass("full");
        List<WwMutex> ms = mutexes(cls, 4);
        AcquireContext ctx = cls.beginTransferable();
        lockEach(ctx, ms);
        assertThat(ctx.heldLocks()).containsExactlyElementsOf(ms);
        ctx.detach();
        try (Actor other = new Actor("other")) {
            other.run(ctx::attach);
            assertThat(ms).allMatch(m -> m.owner() == other.thread);
            other.run(() -> ms.get(1).unlock());
            assertThat(ctx.heldLocks()).containsExactly(ms.get(0), ms.get(2), ms.get(3));
            other.run(() -> ms.get(0).unlock());
            assertThat(ctx.heldLocks()).containsExactly(ms.get(2), ms.get(3));
            other.run(ctx::unlockAll);
            other.run(ctx::close);
        }
        assertThat(ms).noneMatch(WwMutex::isLocked);
    }

    /** The read-only accessors tell a thread-bound from a transferable context and the phase. */
    @Test
    void accessorsTellTheKindAndThePhase() {
        WwClass cls = wwClass("kinds");
        try (AcquireContext bound = cls.begin()) {
            assertThat(bound.isTransferable()).isFalse();
            assertThat(bound.isDone()).isFalse();
            assertThat(bound.toString()).doesNotContain("transferable");
            bound.acquireDone();
            assertThat(bound.isDone()).isTrue();
        }
        try (AcquireContext moving = cls.beginTransferable()) {
            assertThat(moving.isTransferable()).isTrue();
            assertThat(moving.toString()).contains(", transferable, owner=");
        }
    }

    /**
     * Another thread may neither detach an attached context nor slow-lock a thread's context
     * (even one that has not backed off: the owner is checked first).
     */
    @Test
    void foreignThreadsCannotDetachOrSlowLock() throws Exception {
        WwClass cls = wwClass("foreign");
        WwMutex m = new WwMutex(cls);
        AcquireContext moving = cls.beginTransferable();
        try (AcquireContext bound = wwClass("foreign-bound").begin(); Actor other = new Actor("other")) {
            assertMisuse(() -> other.run(moving::detach), Rule.CONCURRENT_USE, "attached to");
            assertThat(moving.owner()).isSameAs(Thread.currentThread());
            WwMutex b = new WwMutex(bound.wwClass());
            assertMisuse(() -> other.run(() -> b.lockSlow(bound)), Rule.FOREIGN_THREAD, "belongs to");
        }
        moving.close();
        assertMisuse(moving::detach, Rule.CONTEXT_CLOSED, "closed");
        assertThat(m.isLocked()).isFalse();
    }

    /**
     * An asynchronous lock from the thread the context is attached to hands it over: the thread
     * may begin another context of the class at once, the pending context says so, and any use
     * of it meanwhile names the pending lock.
     */
    @Test
    void asyncLockFromTheAttachedThreadHandsTheContextOver() throws Exception {
        WwClass cls = wwClass("hand-over");
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        try (Actor holderThread = new Actor("holder")) {
            AcquireContext holder = holderThread.call(cls::begin);
            holderThread.call(() -> m.lock(holder));
            AcquireContext ctx = cls.beginTransferable();
            CompletableFuture<LockResult> f = m.lockAsync(ctx, queue);
            assertThat(f).isNotDone();
            assertThat(ctx.owner()).isNull();
            assertThat(ctx.toString()).contains("owner=async (last on " + Thread.currentThread().getName() + ")");
            assertMisuse(ctx::attach, Rule.CONCURRENT_USE, "asynchronous lock of it is pending");
            try (AcquireContext next = cls.beginTransferable()) {   // the thread is free again
                assertThat(next.owner()).isSameAs(Thread.currentThread());
            }
            holderThread.run(holder::unlockAll);
            queue.drain();
            assertThat(f.join()).isEqualTo(LockResult.ACQUIRED);
            assertThat(ctx.toString()).contains("owner=detached (last on ");
            ctx.attach();
            ctx.unlockAll();
            ctx.close();
            holderThread.run(holder::close);
        }
        try (AcquireContext bound = cls.begin()) {
            assertMisuse(() -> m.lockSlowAsync(bound, queue), Rule.FOREIGN_THREAD, "lockSlowAsync");
        }
        assertThat(m.isLocked()).isFalse();
    }
}
