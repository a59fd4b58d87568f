package dev.bufsync.ww;

import static dev.bufsync.ww.Actor.awaitWaiters;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.ww.WwClass.Algorithm;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Unit tests of {@link WwMutex} semantics, each for both algorithms where they differ. */
class WwMutexTest {

    private static WwClass wwClass(Algorithm algorithm) {
        return WwClass.builder("test-" + algorithm).algorithm(algorithm).injectBackoff(false).build();
    }

    /** Starts {@code waiter} locking {@code m} without a context and returns once it is queued. */
    private static Future<?> queuePlainWaiter(Actor waiter, WwMutex m) {
        Future<?> f = waiter.start(() -> {
            m.lock();
            return null;
        });
        awaitWaiters(m, 1);
        return f;
    }

    /** Lock and unlock with a context; the mutex reports its holder and is free afterwards. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void lockUnlockWithContext(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(m.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(ctx)).isTrue();
            assertThat(m.holderContext()).isSameAs(ctx);
            assertThat(m.owner()).isSameAs(Thread.currentThread());
            assertThat(ctx.heldLocks()).containsExactly(m);
            m.unlock();
            assertThat(m.isLocked()).isFalse();
            assertThat(ctx.heldCount()).isZero();
        }
    }

    /** The kernel's test_aa: relock with the same context is ALREADY_HELD; trylocks fail. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aa(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(m.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.tryLock()).isFalse();
            assertThat(m.tryLock(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.lock(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.lockInterruptibly(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.tryLock(ctx, Duration.ofMillis(1))).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(ctx.heldCount()).isEqualTo(1);
            m.unlock();
            assertThat(m.isLocked()).isFalse();
        }
    }

    /** tryLock with a context reports BUSY without waiting; timed tryLock reports TIMED_OUT. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void tryLockBusyAndTimeout(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        try (Actor other = new Actor("other")) {
            other.run(m::lock);
            try (AcquireContext ctx = cls.begin()) {
                assertThat(m.tryLock(ctx)).isEqualTo(LockResult.BUSY);
                assertThat(m.tryLock(ctx, Duration.ZERO)).isEqualTo(LockResult.TIMED_OUT);
                assertThat(cls.stats().contended()).as("a zero timeout polls, never queues").isZero();
                long start = System.nanoTime();
                assertThat(m.tryLock(ctx, Duration.ofMillis(50))).isEqualTo(LockResult.TIMED_OUT);
                assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
                assertThat(m.waiterCount()).isZero();
                assertThat(ctx.heldCount()).isZero();
            }
            other.run(m::unlock);
        }
    }

    /** A negative timeout is an IllegalArgumentException naming the value. */
    @Test
    void negativeTimeoutIsRejected() {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThatThrownBy(() -> m.tryLock(ctx, Duration.ofMillis(-1)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-0.001");
            assertThatThrownBy(() -> m.tryLock(Duration.ofNanos(-5)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** An interrupted waiter gives up with InterruptedException and leaves the queue. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void interruptibleLockGivesUp(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        m.lock();
        try (Actor waiter = new Actor("waiter")) {
            Future<Object> f = waiter.start(() -> {
                try (AcquireContext ctx = cls.begin()) {
                    try {
                        m.lockInterruptibly(ctx);
                        return "acquired";
                    } catch (InterruptedException e) {
                        return ctx.heldCount() == 0 && !Thread.currentThread().isInterrupted()
                                ? "interrupted-clean" : "interrupted-dirty";
                    }
                }
            });
            awaitWaiters(m, 1);
            waiter.thread.interrupt();
            assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo("interrupted-clean");
            assertThat(m.waiterCount()).isZero();
            assertThat(m.isHeldByCurrentThread()).isTrue();
        }
        m.unlock();
        assertThat(m.isLocked()).isFalse();
    }

    /** An uninterruptible waiter keeps waiting through an interrupt and re-asserts it after. */
    @Test
    void uninterruptibleLockKeepsInterruptStatus() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        m.lock();
        try (Actor waiter = new Actor("waiter")) {
            Future<Boolean> f = waiter.start(() -> {
                try (AcquireContext ctx = cls.begin()) {
                    m.lock(ctx);
                    boolean interrupted = Thread.interrupted();
                    m.unlock();
                    return interrupted;
                }
            });
            awaitWaiters(m, 1);
            waiter.thread.interrupt();
            Actor.await("the waiter clears its interrupt and parks again",
                    () -> !waiter.thread.isInterrupted() && waiter.thread.getState() == Thread.State.WAITING);
            assertThat(f.isDone()).isFalse();
            assertThat(m.waiterCount()).isEqualTo(1);
            m.unlock();
            assertThat(f.get(20, TimeUnit.SECONDS)).isTrue();
        }
    }

    /**
     * Unlock frees the mutex and wakes the first waiter; a running thread may take it first, but
     * only once: the waiter, finding it taken, is marked for hand-off, and the next unlock makes it
     * the holder before it even runs, so nobody can take it then.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void firstWaiterIsOvertakenAtMostOnce(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        int overtaken = 0;
        for (int attempt = 0; attempt < 100 && overtaken == 0; attempt++) {
            m.lock();
            try (Actor waiter = new Actor("waiter")) {
                Future<?> f = queuePlainWaiter(waiter, m);
                Actor.await("the waiter parks", () -> waiter.thread.getState() == Thread.State.WAITING);
                m.unlock();
                if (m.tryLock()) {              // overtook the woken waiter
                    overtaken++;
                    Actor.await("the waiter finds the mutex taken and is marked for hand-off",
                            () -> m.toString().contains("(hand-off)"));
                    m.unlock();
                    assertThat(m.owner()).isSameAs(waiter.thread);
                    assertThat(m.tryLock()).isFalse();
                } else {                        // the waiter was faster this time
                    Actor.await("the waiter holds it", () -> m.owner() == waiter.thread);
                }
                f.get(20, TimeUnit.SECONDS);
                waiter.run(m::unlock);
            }
            assertThat(m.isLocked()).isFalse();
        }
        assertThat(overtaken).as("a running thread overtook a woken waiter in 100 attempts").isOne();
    }

    /** Context waiters queue by stamp, oldest first, whatever their arrival order. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void contextWaitersAreServedOldestFirst(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        m.lock();
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            assertThat(WwClass.isOlder(oldCtx.stamp(), youngCtx.stamp())).isTrue();
            Future<LockResult> y = young.start(() -> m.lock(youngCtx));
            awaitWaiters(m, 1);
            Future<LockResult> o = old.start(() -> m.lock(oldCtx));
            awaitWaiters(m, 2);
            m.unlock();
            // Had the young one got it first, it would hold it until told to unlock: no race.
            Actor.await("the old context holds it", () -> m.holderContext() == oldCtx);
            assertThat(y.isDone()).isFalse();
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(m::unlock);
            assertThat(y.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            young.run(m::unlock);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /** Waiters without a context keep FIFO order among themselves. */
    @Test
    void plainWaitersAreFifo() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        m.lock();
        List<Actor> actors = new ArrayList<>();
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Actor a = new Actor("plain-" + i);
                actors.add(a);
                futures.add(a.start(() -> {
                    m.lock();
                    return null;
                }));
                awaitWaiters(m, i + 1);
            }
            m.unlock();
            for (int i = 0; i < 4; i++) {
                Thread next = actors.get(i).thread;
                // Whoever gets it holds it until told to unlock, so the order cannot race.
                Actor.await(next.getName() + " holds it", () -> m.owner() == next);
                futures.get(i).get(20, TimeUnit.SECONDS);
                actors.get(i).run(m::unlock);
            }
        } finally {
            actors.forEach(Actor::close);
        }
        assertThat(m.isLocked()).isFalse();
    }

    /** The first lock of a context never backs off, even against an older holder. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void firstLockNeverBacksOff(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            old.call(() -> m.lock(oldCtx));
            Future<LockResult> y = young.start(() -> m.lock(youngCtx));
            awaitWaiters(m, 1);
            old.run(oldCtx::unlockAll);
            assertThat(y.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            young.run(youngCtx::unlockAll);
            young.run(youngCtx::close);
            old.run(oldCtx::close);
        }
    }

    /** Wait-die: a younger context that holds locks dies at once on an older holder. */
    @Test
    void waitDieYoungerHolderOfLocksDies() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            old.call(() -> a.lock(oldCtx));
            young.call(() -> b.lock(youngCtx));
            BackoffException e = young.call(() -> {
                try {
                    a.lock(youngCtx);
                    return null;
                } catch (BackoffException x) {
                    return x;
                }
            });
            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(e.mutex()).isSameAs(a);
            assertThat(e.olderStamp()).isEqualTo(oldCtx.stamp());
            assertThat(young.call(youngCtx::contended)).isSameAs(a);
            assertThat(young.call(youngCtx::heldCount)).isEqualTo(1);
            // The older context waits for the younger holder instead.
            Future<LockResult> o = old.start(() -> b.lock(oldCtx));
            awaitWaiters(b, 1);
            assertThat(o.isDone()).isFalse();
            young.run(youngCtx::unlockAll);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            young.run(() -> a.lockSlow(youngCtx));
            assertThat(a.holderContext()).isSameAs(youngCtx);
            young.run(youngCtx::unlockAll);
            young.run(youngCtx::close);
            old.run(oldCtx::close);
        }
    }

    /**
     * Wound-wait: an older waiter that holds locks wounds the younger holder, which keeps running
     * (an uncontended lock still succeeds) and backs off at its next contended lock.
     */
    @Test
    void woundWaitWoundsYoungerHolderLazily() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex free = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            young.call(() -> a.lock(youngCtx));
            old.call(() -> b.lock(oldCtx));
            Future<LockResult> o = old.start(() -> a.lock(oldCtx));
            awaitWaiters(a, 1);
            Actor.await("the younger holder is wounded", youngCtx::isWounded);
            assertThat(youngCtx.toString()).endsWith(", held=1, wounded]");
            assertThat(young.call(() -> free.lock(youngCtx))).isEqualTo(LockResult.ACQUIRED);
            BackoffException e = young.call(() -> {
                try {
                    b.lock(youngCtx);
                    return null;
                } catch (BackoffException x) {
                    return x;
                }
            });
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(oldCtx.stamp());
            assertThat(e.mutex()).isSameAs(b);
            young.run(youngCtx::unlockAll);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            young.run(() -> b.lockSlow(youngCtx));
            young.run(youngCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
            assertThat(cls.stats().wounds()).isEqualTo(1);
            // Only the older context's lock queued: the wounded one backed off without queueing.
            assertThat(cls.stats().contended()).isEqualTo(1);
            assertThat(cls.stats().backoffs()).isEqualTo(1);
        }
    }

    /** Wound-wait: a wounded context that is already waiting elsewhere is woken and backs off. */
    @Test
    void woundWaitWakesAWoundedWaiter() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        WwMutex c = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor third = new Actor("third")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            third.run(c::lock);                         // c is busy, so young will queue on it
            young.call(() -> a.lock(youngCtx));
            Future<Object> y = young.start(() -> {
                try {
                    return c.lock(youngCtx);
                } catch (BackoffException x) {
                    return x;
                }
            });
            awaitWaiters(c, 1);
            old.call(() -> b.lock(oldCtx));
            Future<LockResult> o = old.start(() -> a.lock(oldCtx));
            Object result = y.get(20, TimeUnit.SECONDS);
            assertThat(result).isInstanceOf(BackoffException.class);
            assertThat(((BackoffException) result).reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(c.waiterCount()).isZero();
            young.run(youngCtx::unlockAll);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            third.run(c::unlock);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /** Wait-die: an older waiter that queues ahead of a younger one holding locks makes it die. */
    @Test
    void waitDieOlderWaiterKillsYoungerQueuedHolder() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor third = new Actor("third")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            third.run(a::lock);                          // a plain holder: nobody dies for it
            young.call(() -> b.lock(youngCtx));
            Future<Object> y = young.start(() -> {
                try {
                    return a.lock(youngCtx);
                } catch (BackoffException x) {
                    return x;
                }
            });
            awaitWaiters(a, 1);
            Future<LockResult> o = old.start(() -> a.lock(oldCtx));
            Object result = y.get(20, TimeUnit.SECONDS);
            assertThat(result).isInstanceOf(BackoffException.class);
            assertThat(((BackoffException) result).reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(((BackoffException) result).olderStamp()).isEqualTo(oldCtx.stamp());
            third.run(a::unlock);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            young.run(youngCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /** Stamps compare by signed difference, so ordering survives wrap-around. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void stampsAreWrapSafe(Algorithm algorithm) throws Exception {
        WwClass cls = WwClass.builder("wrap").algorithm(algorithm).firstStamp(Long.MAX_VALUE).build();
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            assertThat(oldCtx.stamp()).isEqualTo(Long.MAX_VALUE);
            assertThat(youngCtx.stamp()).isEqualTo(Long.MIN_VALUE);
            assertThat(WwClass.isOlder(oldCtx.stamp(), youngCtx.stamp())).isTrue();
            old.call(() -> a.lock(oldCtx));
            young.call(() -> b.lock(youngCtx));
            // The younger (wrapped) context is the one that backs off, under either algorithm.
            Future<LockResult> o = old.start(() -> b.lock(oldCtx));
            awaitWaiters(b, 1);
            Object r = young.call(() -> {
                try {
                    return a.lock(youngCtx);
                } catch (BackoffException x) {
                    return x;
                }
            });
            assertThat(r).isInstanceOf(BackoffException.class);
            young.run(youngCtx::unlockAll);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /** Injection makes successful locks report a back-off on the kernel's geometric schedule. */
    @Test
    void backoffInjectionFollowsGeometricSchedule() throws Exception {
        WwClass cls = WwClass.builder("inject").injectBackoff(true).build();
        List<WwMutex> mutexes = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            mutexes.add(new WwMutex(cls));
        }
        try (AcquireContext ctx = cls.begin()) {
            assertThat(mutexes.get(0).lock(ctx)).isEqualTo(LockResult.ACQUIRED); // first never
            int countdown = (int) (ctx.stamp() & 0xf);
            List<Integer> injectedAt = new ArrayList<>();
            for (int i = 1; i < mutexes.size(); i++) {
                try {
                    mutexes.get(i).lock(ctx);
                } catch (BackoffException e) {
                    assertThat(e.reason()).isEqualTo(BackoffException.Reason.INJECTED);
                    assertThat(e.mutex().isLocked()).isFalse();
                    injectedAt.add(i);
                    ctx.unlockAll();
                    e.mutex().lockSlow(ctx);
                    e.mutex().unlock();
                    mutexes.get(0).lock(ctx);
                }
            }
            // Intervals: countdown, then 3, 10, 35 ... (x3.5) successful locks between injections.
            assertThat(injectedAt).isNotEmpty();
            assertThat(injectedAt.get(0)).isEqualTo(countdown + 1);
            ctx.unlockAll();
        }
        assertThat(cls.stats().injected()).isEqualTo(cls.stats().backoffs()).isPositive();
    }

    /** Per-class counters count contexts, acquisitions, contention and waiting. */
    @Test
    void statsCountActivity() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            m.lock(ctx);
            m.unlock();
        }
        m.lock();
        try (Actor waiter = new Actor("waiter")) {
            Future<?> f = queuePlainWaiter(waiter, m);
            m.unlock();
            f.get(20, TimeUnit.SECONDS);
            waiter.run(m::unlock);
        }
        WwStats s = cls.stats();
        assertThat(s.contexts()).isEqualTo(1);
        assertThat(s.acquisitions()).isEqualTo(3);
        assertThat(s.contended()).isEqualTo(1);
        assertThat(s.waitNanos()).isPositive();
        assertThat(s.minus(s)).isEqualTo(new WwStats(0, 0, 0, 0, 0, 0, 0));
    }

    /** toString of a mutex names its class, holder and waiters; of a context its stamp and locks. */
    @Test
    void toStringDescribesHolderAndWaiters() throws Exception {
        WwClass cls = WwClass.woundWait("gpu");
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin(); Actor waiter = new Actor("waiter-7")) {
            m.lock(ctx);
            Future<?> f = queuePlainWaiter(waiter, m);
            assertThat(m.toString()).contains("gpu").contains("held by context #" + ctx.stamp())
                    .contains(Thread.currentThread().getName()).contains("waiters=[waiter-7]");
            assertThat(ctx.toString()).contains("#" + ctx.stamp()).contains("class=gpu")
                    .contains("held=1");
            m.unlock();
            f.get(20, TimeUnit.SECONDS);
            waiter.run(m::unlock);
        }
        assertThat(m.toString()).contains("unlocked");
    }

    /**
     * A mutex that a thread waits for is an ownable synchronizer of its holder: ThreadMXBean
     * shows the owner and the waiter's lock.
     */
    @Test
    void ownerIsVisibleToThreadMxBean() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        var mx = ManagementFactory.getThreadMXBean();
        try (AcquireContext ctx = cls.begin(); Actor waiter = new Actor("mx-waiter")) {
            m.lock(ctx);
            Future<?> f = queuePlainWaiter(waiter, m);
            ThreadInfo mine = mx.getThreadInfo(new long[] {Thread.currentThread().threadId()}, false, true)[0];
            assertThat(mine.getLockedSynchronizers())
                    .anyMatch(l -> l.getClassName().equals(WwMutex.class.getName())
                            && l.getIdentityHashCode() == System.identityHashCode(m));
            Actor.await("the waiter parks", () -> waiter.thread.getState() == Thread.State.WAITING);
            ThreadInfo theirs = mx.getThreadInfo(waiter.thread.threadId());
            assertThat(theirs.getLockName()).startsWith(WwMutex.class.getName());
            assertThat(theirs.getLockOwnerId()).isEqualTo(Thread.currentThread().threadId());
            m.unlock();
            f.get(20, TimeUnit.SECONDS);
            waiter.run(m::unlock);
        }
    }

    /** A real deadlock of plain (no-context) locks is found by ThreadMXBean.findDeadlockedThreads. */
    @Test
    void plainDeadlockIsVisibleToDeadlockDetection() throws Exception {
        WwClass one = WwClass.woundWait("one");
        WwClass two = WwClass.woundWait("two");
        Checker.setPolicy(one, CheckPolicy.OFF);   // a real deadlock on purpose: in throw mode the checker would refuse it
        WwMutex a = new WwMutex(one);
        WwMutex b = new WwMutex(two);
        var mx = ManagementFactory.getThreadMXBean();
        try (Actor t1 = new Actor("dl-1"); Actor t2 = new Actor("dl-2")) {
            t1.run(a::lock);
            t2.run(b::lock);
            t1.start(() -> {
                b.lockInterruptibly();
                return null;
            });
            t2.start(() -> {
                a.lockInterruptibly();
                return null;
            });
            Actor.await("both threads deadlock", () -> {
                long[] ids = mx.findDeadlockedThreads();
                return ids != null && ids.length == 2;
            });
            t1.thread.interrupt();
            t2.thread.interrupt();
        } finally {
            Checker.setPolicy(one, null);           // a leftover override changes later checker tests
        }
    }

    /**
     * The bound is per wait, not per wake-up: once the woken first waiter has been overtaken for
     * {@code handoffAfterNanos} without running, the next release hands the mutex to it, so a
     * thread that unlocks and relocks in a loop overtakes it at most once when the bound is zero.
     * (Before, each release freed the mutex again until the waiter ran.)
     */
    @Test
    void firstWaiterIsOvertakenAtMostOncePerWaitWithAZeroBound() throws Exception {
        long bound = QueuedMutex.handoffAfterNanos;
        QueuedMutex.handoffAfterNanos = 0L;
        try {
            assertThat(overtakingsOfAQueuedWaiter(1000)).isLessThanOrEqualTo(1);
        } finally {
            QueuedMutex.handoffAfterNanos = bound;
        }
    }

    /**
     * With an unreachable bound, hand-off comes only from the waiter itself (it ran, found the
     * mutex taken, and marked itself): the relocking thread overtakes it until then, and never
     * overtakes it after (the loop ends with the waiter holding the mutex).
     */
    @Test
    void firstWaiterGetsTheMutexOnceItRanWithoutATimeBound() throws Exception {
        long bound = QueuedMutex.handoffAfterNanos;
        QueuedMutex.handoffAfterNanos = Long.MAX_VALUE;
        try {
            assertThat(overtakingsOfAQueuedWaiter(Integer.MAX_VALUE)).isLessThan(Integer.MAX_VALUE);
        } finally {
            QueuedMutex.handoffAfterNanos = bound;
        }
    }

    /**
     * Queues a plain waiter behind the calling thread's hold, then unlocks and relocks up to
     * {@code rounds} times until a relock fails; checks the waiter got the mutex.
     *
     * @return how many times the relock overtook the waiter
     */
    private int overtakingsOfAQueuedWaiter(int rounds) throws Exception {
        WwMutex m = new WwMutex(wwClass(Algorithm.WOUND_WAIT));
        m.lock();
        try (Actor waiter = new Actor("waiter")) {
            Future<?> f = queuePlainWaiter(waiter, m);
            int overtaken = 0;
            for (int i = 0; i < rounds; i++) {
                m.unlock();
                if (!m.tryLock()) {
                    break;
                }
                overtaken++;
            }
            f.get(20, TimeUnit.SECONDS);
            assertThat(m.owner()).isSameAs(waiter.thread);
            waiter.run(m::unlock);
            return overtaken;
        }
    }

    /**
     * A wound from a context that has since left its queue and closed is stale: the wounded
     * context, now the oldest live one, must not back off for it (docs/ww.md invariant 3), and
     * waits for the busy mutex instead.
     */
    @Test
    void staleWoundFromAClosedContextIsDropped() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex x = new WwMutex(cls);
        WwMutex m = new WwMutex(cls);
        WwMutex n = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor plain = new Actor("plain")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            old.call(() -> x.lock(oldCtx));
            young.call(() -> m.lock(youngCtx));
            Future<LockResult> o = old.start(() -> m.lockInterruptibly(oldCtx));
            awaitWaiters(m, 1);
            Actor.await("the younger holder is wounded", youngCtx::isWounded);
            old.thread.interrupt();
            assertThatThrownBy(() -> o.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(InterruptedException.class);
            old.run(oldCtx::unlockAll);
            old.run(oldCtx::close);                 // youngCtx is now the oldest live context
            plain.run(n::lock);
            Future<LockResult> y = young.start(() -> n.lock(youngCtx));
            Actor.await("the young context queues or backs off", () -> n.waiterCount() == 1 || y.isDone());
            assertThat(y).as("backed off for a closed context").isNotDone();
            plain.run(n::unlock);
            assertThat(y.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            young.run(youngCtx::unlockAll);
            young.run(youngCtx::close);
        }
    }

    /**
     * Wound-wait: an older waiter that holds nothing never wounds (the no-locks guard): the
     * younger holder is not wounded and waits at its next contended lock instead of backing off.
     */
    @Test
    void olderWaiterHoldingNothingDoesNotWound() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        WwMutex n = new WwMutex(cls);
        WwMutex y1 = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor plain = new Actor("plain")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            young.call(() -> y1.lock(youngCtx));
            young.call(() -> m.lock(youngCtx));
            Future<LockResult> o = old.start(() -> m.lock(oldCtx));
            awaitWaiters(m, 1);
            assertThat(youngCtx.isWounded()).isFalse();
            plain.run(n::lock);
            Future<LockResult> y = young.start(() -> n.lock(youngCtx));
            Actor.await("the young context queues or backs off", () -> n.waiterCount() == 1 || y.isDone());
            assertThat(y).as("backed off for an older context that holds nothing").isNotDone();
            plain.run(n::unlock);
            assertThat(y.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            young.run(youngCtx::unlockAll);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
            assertThat(cls.stats().wounds()).isZero();
        }
    }

    /** The timed context form acquires: at once when free, and after waiting when released. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void timedTryLockWithContextAcquires(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        try (Actor holder = new Actor("holder"); Actor taker = new Actor("taker")) {
            AcquireContext ctx = taker.call(cls::begin);
            assertThat(taker.call(() -> m.tryLock(ctx, Duration.ofDays(1)))).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(ctx)).isTrue();
            assertThat(ctx.heldLocks()).containsExactly(m);
            taker.run(m::unlock);
            holder.run(m::lock);
            Future<LockResult> f = taker.start(() -> m.tryLock(ctx, Duration.ofDays(1)));
            awaitWaiters(m, 1);
            holder.run(m::unlock);
            assertThat(f.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(ctx)).isTrue();
            assertThat(ctx.heldLocks()).containsExactly(m);
            taker.run(ctx::unlockAll);
            taker.run(ctx::close);
        }
    }

    /**
     * Wait-die (the kernel's check_waiters): an older context that takes the mutex by barging,
     * while a younger one that holds locks waits behind a plain waiter, wakes it so that it dies;
     * nothing else would wake it while the older context holds the mutex. Repeated until the
     * older context wins the race for the freed mutex against the woken plain waiter.
     */
    @Test
    void waitDieBargerWakesYoungerLockHolderToDie() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        int barged = 0;
        for (int attempt = 0; attempt < 100 && barged == 0; attempt++) {
            WwMutex m = new WwMutex(cls);
            WwMutex x = new WwMutex(cls);
            try (Actor plain = new Actor("plain"); Actor young = new Actor("young");
                 AcquireContext oldCtx = cls.begin()) {
                AcquireContext youngCtx = young.call(cls::begin);
                young.call(() -> x.lock(youngCtx));
                m.lock();                                            // plain holder: nobody dies for it
                Future<?> p = queuePlainWaiter(plain, m);
                Future<Object> y = young.start(() -> {
                    try {
                        return m.lock(youngCtx);
                    } catch (BackoffException e) {
                        return e;
                    }
                });
                awaitWaiters(m, 2);
                m.unlock();                                          // frees it for the plain waiter
                if (m.tryLock(oldCtx) == LockResult.ACQUIRED) {      // the older context barges
                    barged++;
                    Object result = y.get(20, TimeUnit.SECONDS);
                    assertThat(result).isInstanceOf(BackoffException.class);
                    assertThat(((BackoffException) result).reason()).isEqualTo(BackoffException.Reason.DIED);
                    assertThat(((BackoffException) result).olderStamp()).isEqualTo(oldCtx.stamp());
                    oldCtx.unlockAll();
                } else {
                    Actor.await("the plain waiter holds it", () -> m.owner() == plain.thread);
                }
                p.get(20, TimeUnit.SECONDS);
                plain.run(m::unlock);
                if (!(y.get(20, TimeUnit.SECONDS) instanceof BackoffException)) {
                    young.run(m::unlock);
                }
                young.run(youngCtx::unlockAll);
                young.run(youngCtx::close);
            }
        }
        assertThat(barged).as("the older context barged in 100 attempts").isOne();
    }

    /** A zero timeout polls: it takes a free mutex at once (and times out on a busy one). */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void zeroTimeoutTakesAFreeMutex(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(m.tryLock(ctx, Duration.ZERO)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(ctx)).isTrue();
            assertThat(ctx.heldLocks()).containsExactly(m);
            ctx.unlockAll();
        }
        assertThat(m.tryLock(Duration.ZERO)).isTrue();
        assertThat(m.isHeldByCurrentThread()).isTrue();
        m.unlock();
    }

    /** The non-blocking context form takes a free mutex and reports a busy one. */
    @Test
    void tryLockWithContextTakesAFreeMutex() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(m.tryLock(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.holderContext()).isSameAs(ctx);
            assertThat(ctx.heldLocks()).containsExactly(m);
            ctx.unlockAll();
        }
        assertThat(cls.stats().acquisitions()).isEqualTo(1);
    }

    /**
     * A pending interrupt ends every interruptible form before it waits, even for a free mutex,
     * and nothing is acquired; the interrupt is consumed.
     */
    @Test
    void pendingInterruptEndsEveryInterruptibleForm() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        List<Actor.ThrowingRunnable> forms = new ArrayList<>();
        forms.add(m::lockInterruptibly);
        forms.add(() -> m.tryLock(Duration.ofDays(1)));
        try (AcquireContext ctx = cls.begin()) {
            forms.add(() -> m.lockInterruptibly(ctx));
            forms.add(() -> m.tryLock(ctx, Duration.ofDays(1)));
            for (Actor.ThrowingRunnable form : forms) {
                Thread.currentThread().interrupt();
                assertThatThrownBy(form::run).isInstanceOf(InterruptedException.class);
                assertThat(Thread.currentThread().isInterrupted()).isFalse();
                assertThat(m.isLocked()).isFalse();
                assertThat(ctx.heldCount()).isZero();
            }
            // Nothing was counted as held without a context: a blocking context lock is allowed.
            assertThat(m.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
            ctx.unlockAll();
        }
    }

    /**
     * lockSlowInterruptibly gives up on a pending interrupt and keeps the context backed off, so
     * it can be called again; then it acquires and ends the back-off.
     */
    @Test
    void lockSlowInterruptiblyCanBeRepeatedAfterAnInterrupt() throws Exception {
        WwClass cls = WwClass.builder("slow").firstStamp(0).injectBackoff(true).build();
        WwMutex a = new WwMutex(cls);
        WwMutex b = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            a.lock(ctx);
            assertThatThrownBy(() -> b.lock(ctx)).isInstanceOf(BackoffException.class);
            ctx.unlockAll();
            Thread.currentThread().interrupt();
            assertThatThrownBy(() -> b.lockSlowInterruptibly(ctx)).isInstanceOf(InterruptedException.class);
            assertThat(b.isLocked()).isFalse();
            assertThat(ctx.contended()).isSameAs(b);
            b.lockSlowInterruptibly(ctx);
            assertThat(b.isHeldBy(ctx)).isTrue();
            assertThat(ctx.contended()).isNull();
            assertThat(ctx.heldLocks()).containsExactly(b);
            ctx.unlockAll();
        }
    }

    /** A timeout too long for a long of nanoseconds waits as long as it takes. */
    @Test
    void hugeTimeoutWaits() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        m.lock();
        try (Actor waiter = new Actor("waiter")) {
            Future<Boolean> f = waiter.start(() -> m.tryLock(Duration.ofSeconds(Long.MAX_VALUE)));
            awaitWaiters(m, 1);
            m.unlock();
            assertThat(f.get(20, TimeUnit.SECONDS)).isTrue();
            assertThat(m.owner()).isSameAs(waiter.thread);
            waiter.run(m::unlock);
        }
    }

    /** A plain timed tryLock gives up when its time runs out, leaves the queue and holds nothing. */
    @Test
    void plainTimedTryLockTimesOut() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        WwMutex other = new WwMutex(cls);
        try (Actor holder = new Actor("holder")) {
            holder.run(m::lock);
            assertThat(m.tryLock(Duration.ZERO)).isFalse();
            assertThat(cls.stats().contended()).as("a zero timeout polls, never queues").isZero();
            long start = System.nanoTime();
            assertThat(m.tryLock(Duration.ofMillis(30))).isFalse();
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(30));
            assertThat(m.waiterCount()).isZero();
            assertThat(m.owner()).isSameAs(holder.thread);
            other.lock();                                // nothing counted as held without a context
            other.unlock();
            holder.run(m::unlock);
        }
    }

    /** The monitoring accessors tell who holds the mutex, with or without a context. */
    @Test
    void accessorsTellWhoHoldsIt() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        assertThat(m.isLocked()).isFalse();
        assertThat(m.owner()).isNull();
        assertThat(m.holderContext()).isNull();
        assertThat(m.isHeldByCurrentThread()).isFalse();
        assertThat(m.isHeldBy(null)).isFalse();
        assertThat(m.wwClass()).isSameAs(cls);
        assertThat(new WwMutex(cls, () -> { }).wwClass()).isSameAs(cls);
        m.lock();
        assertThat(m.isLocked()).isTrue();
        assertThat(m.owner()).isSameAs(Thread.currentThread());
        assertThat(m.holderContext()).isNull();
        assertThat(m.isHeldByCurrentThread()).isTrue();
        assertThat(m.isHeldBy(null)).isFalse();
        m.unlock();
        try (Actor other = new Actor("other")) {
            AcquireContext ctx = other.call(cls::begin);
            other.call(() -> m.lock(ctx));
            assertThat(m.isHeldByCurrentThread()).isFalse();
            assertThat(m.owner()).isSameAs(other.thread);
            assertThat(m.holderContext()).isSameAs(ctx);
            assertThat(m.isHeldBy(ctx)).isTrue();
            other.run(ctx::unlockAll);
            assertThat(m.isHeldBy(ctx)).isFalse();
            other.run(ctx::close);
        }
    }

    /** toString names a plain holder, and every waiter in queue order, with a context's stamp. */
    @Test
    void toStringListsAPlainHolderAndEveryWaiter() throws Exception {
        WwClass cls = WwClass.woundWait("display");
        WwMutex m = new WwMutex(cls);
        m.lock();
        try (Actor plain = new Actor("plain-w"); Actor withCtx = new Actor("ctx-w")) {
            Future<?> p = queuePlainWaiter(plain, m);
            AcquireContext ctx = withCtx.call(cls::begin);
            Future<LockResult> c = withCtx.start(() -> m.lock(ctx));
            awaitWaiters(m, 2);
            // A context waiter queues after waiters without a context (the sort skips them).
            assertThat(m).hasToString(m.describe() + "[held by " + Thread.currentThread().getName()
                    + " without a context, waiters=[plain-w, #" + ctx.stamp() + " on ctx-w]]");
            m.unlock();
            p.get(20, TimeUnit.SECONDS);
            assertThat(m).hasToString(m.describe() + "[held by plain-w without a context, waiters=[#"
                    + ctx.stamp() + " on ctx-w]]");
            plain.run(m::unlock);
            assertThat(c.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m).hasToString(m.describe() + "[held by context #" + ctx.stamp() + " on ctx-w]");
            withCtx.run(ctx::unlockAll);
            withCtx.run(ctx::close);
        }
        assertThat(m).hasToString(m.describe() + "[unlocked]");
        assertThat(m.describe()).isEqualTo("WwMutex@" + Integer.toHexString(System.identityHashCode(m)) + "(display)");
    }

    /**
     * Wound-wait: a second older waiter finds the holder wounded already; the wound is counted
     * once. The older waiters then get the mutex oldest first.
     */
    @Test
    void aWoundIsCountedOnceHoweverManyWoundIt() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        WwMutex x1 = new WwMutex(cls);
        WwMutex x2 = new WwMutex(cls);
        try (Actor first = new Actor("first"); Actor second = new Actor("second"); Actor young = new Actor("young")) {
            AcquireContext c1 = first.call(cls::begin);
            AcquireContext c2 = second.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            first.call(() -> x1.lock(c1));
            second.call(() -> x2.lock(c2));
            young.call(() -> m.lock(cy));
            Future<LockResult> f1 = first.start(() -> m.lock(c1));
            awaitWaiters(m, 1);
            Actor.await("the holder is wounded", cy::isWounded);
            Future<LockResult> f2 = second.start(() -> m.lock(c2));
            awaitWaiters(m, 2);
            assertThat(cls.stats().wounds()).isEqualTo(1);
            young.run(cy::unlockAll);
            assertThat(f1.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(f2).isNotDone();
            first.run(c1::unlockAll);
            assertThat(f2.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            second.run(c2::unlockAll);
            first.run(c1::close);
            second.run(c2::close);
            young.run(cy::close);
            assertThat(cls.stats().wounds()).isEqualTo(1);
        }
    }

    /**
     * Wait-die: a younger context that holds locks dies before queueing behind an older context
     * waiter, even when the holder has no context; it names that waiter and never queues.
     */
    @Test
    void waitDieYoungerHolderOfLocksDiesBehindAnOlderWaiter() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwMutex m = new WwMutex(cls);
        WwMutex x = new WwMutex(cls);
        m.lock();                                               // a plain holder: nobody dies for it
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            Future<LockResult> o = old.start(() -> m.lock(oldCtx));
            awaitWaiters(m, 1);
            young.call(() -> x.lock(youngCtx));
            BackoffException e = young.call(() -> {
                try {
                    m.lock(youngCtx);
                    return null;
                } catch (BackoffException died) {
                    return died;
                }
            });
            assertThat(e).isNotNull();
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(e.olderStamp()).isEqualTo(oldCtx.stamp());
            assertThat(e.mutex()).isSameAs(m);
            assertThat(m.waiterCount()).isOne();
            m.unlock();
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(cls.stats().contended()).as("only the older context queued").isOne();
            old.run(oldCtx::unlockAll);
            young.run(youngCtx::unlockAll);
            young.run(() -> m.lockSlow(youngCtx));
            young.run(youngCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /** Whether ThreadMXBean lists {@code m} among the ownable synchronizers {@code t} holds. */
    private static boolean ownsSynchronizer(Thread t, WwMutex m) {
        ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(new long[] {t.threadId()}, false, true)[0];
        return java.util.Arrays.stream(info.getLockedSynchronizers())
                .anyMatch(l -> l.getIdentityHashCode() == System.identityHashCode(m));
    }

    /**
     * The owner thread that thread dumps show follows the mutex on its contended paths: a mutex
     * locked while nobody waits is not listed, its holder is shown once a waiter has queued, the
     * unlocking thread stops owning it, a waiter that took it from the queue owns it, and nobody
     * after the last unlock (invariant 10 of docs/ww.md).
     */
    @Test
    void ownerThreadFollowsTheMutexThroughTheQueue() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        Thread me = Thread.currentThread();
        try (Actor first = new Actor("owner-first"); Actor second = new Actor("owner-second")) {
            m.lock();
            assertThat(ownsSynchronizer(me, m)).as("nobody waits: not listed").isFalse();
            Future<?> f1 = queuePlainWaiter(first, m);
            assertThat(ownsSynchronizer(me, m)).as("a waiter queued: the holder is shown").isTrue();
            Future<?> f2 = second.start(() -> {
                m.lock();
                return null;
            });
            awaitWaiters(m, 2);
            m.unlock();
            f1.get(20, TimeUnit.SECONDS);
            assertThat(ownsSynchronizer(me, m)).as("the releaser still owns it").isFalse();
            assertThat(ownsSynchronizer(first.thread, m)).as("the first waiter owns it").isTrue();
            first.run(m::unlock);
            f2.get(20, TimeUnit.SECONDS);
            assertThat(ownsSynchronizer(first.thread, m)).isFalse();
            assertThat(ownsSynchronizer(second.thread, m)).as("taken from the queue").isTrue();
            second.run(m::unlock);
            assertThat(m.shownOwner()).isNull();
            AcquireContext ctx = first.call(cls::begin);
            first.call(() -> m.lock(ctx));
            Future<?> f3 = queuePlainWaiter(second, m);
            assertThat(ownsSynchronizer(first.thread, m)).as("a context's thread is shown").isTrue();
            first.run(ctx::unlockAll);
            f3.get(20, TimeUnit.SECONDS);
            assertThat(ownsSynchronizer(first.thread, m)).isFalse();
            second.run(m::unlock);
            assertThat(m.shownOwner()).isNull();
            first.run(ctx::close);
        }
    }

    /**
     * Wound-wait: a younger context that takes the mutex by barging, while an older one that
     * holds locks waits behind a plain waiter, is wounded at once by its own check of the
     * waiters; nothing else would wound it, since the older one queued before it held the mutex.
     * Repeated until the younger context wins the race for the freed mutex against the woken
     * plain waiter.
     */
    @Test
    void woundWaitBargerIsWoundedByAnOlderWaiter() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        int barged = 0;
        for (int attempt = 0; attempt < 100 && barged == 0; attempt++) {
            WwMutex m = new WwMutex(cls);
            WwMutex x = new WwMutex(cls);
            try (Actor plain = new Actor("plain"); Actor old = new Actor("old")) {
                AcquireContext oldCtx = old.call(cls::begin);
                try (AcquireContext youngCtx = cls.begin()) {
                    old.call(() -> x.lock(oldCtx));
                    m.lock();                                          // plain holder: nobody is wounded
                    Future<?> p = queuePlainWaiter(plain, m);
                    Future<LockResult> o = old.start(() -> m.lock(oldCtx));
                    awaitWaiters(m, 2);
                    m.unlock();                                        // frees it for the plain waiter
                    if (m.tryLock(youngCtx) == LockResult.ACQUIRED) {  // the younger context barges
                        barged++;
                        assertThat(youngCtx.isWounded()).isTrue();
                        assertThat(cls.stats().wounds()).isEqualTo(1);
                        youngCtx.unlockAll();
                    } else {
                        Actor.await("the plain waiter holds it", () -> m.owner() == plain.thread);
                    }
                    p.get(20, TimeUnit.SECONDS);
                    plain.run(m::unlock);
                    assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
                    old.run(oldCtx::unlockAll);
                    old.run(oldCtx::close);
                }
            }
        }
        assertThat(barged).as("the younger context barged in 100 attempts").isOne();
    }

    /**
     * Every plain form that takes the mutex counts one acquisition, and a form that finds it busy
     * counts none.
     */
    @Test
    void everyPlainFormCountsOneAcquisition() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        m.lockInterruptibly();
        m.unlock();
        assertThat(m.tryLock()).isTrue();
        m.unlock();
        assertThat(m.tryLock(Duration.ZERO)).isTrue();
        m.unlock();
        assertThat(m.tryLock(Duration.ofDays(1))).isTrue();
        m.unlock();
        assertThat(cls.stats().acquisitions()).isEqualTo(4);
        try (Actor other = new Actor("other")) {
            other.run(m::lock);
            assertThat(m.tryLock()).isFalse();
            assertThat(m.tryLock(Duration.ZERO)).isFalse();
            other.run(m::unlock);
        }
        assertThat(cls.stats().acquisitions()).isEqualTo(5);
        assertThat(cls.stats().contended()).isZero();
    }

    /** The waiting time counted is the time the waiter spent queued: within the time the test took. */
    @Test
    void waitNanosIsTheTimeSpentQueued() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        m.lock();
        long before = System.nanoTime();
        try (Actor waiter = new Actor("waiter")) {
            Future<?> f = queuePlainWaiter(waiter, m);
            m.unlock();
            f.get(20, TimeUnit.SECONDS);
            waiter.run(m::unlock);
        }
        long elapsed = System.nanoTime() - before;
        assertThat(cls.stats().contended()).isOne();
        assertThat(cls.stats().waitNanos()).isPositive().isLessThanOrEqualTo(elapsed);
    }

    /**
     * The context forms that never wait, and the asynchronous one, grow the context's list of held
     * locks as the blocking forms do: a context takes more mutexes than the list's first size.
     */
    @Test
    void nonBlockingAndAsynchronousFormsGrowTheHeldList() throws Exception {
        for (int form = 0; form < 3; form++) {
            // A class of its own per form: a closed context leaves its grown list to the thread's
            // next context of the same class, which would then need no growth.
            WwClass cls = wwClass(Algorithm.WOUND_WAIT);
            List<WwMutex> ms = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                ms.add(new WwMutex(cls));
            }
            AcquireContext ctx = form < 2 ? cls.begin() : cls.beginTransferable();
            for (WwMutex m : ms) {
                switch (form) {
                    case 0 -> assertThat(m.tryLock(ctx)).isEqualTo(LockResult.ACQUIRED);
                    case 1 -> assertThat(m.tryLock(ctx, Duration.ZERO)).isEqualTo(LockResult.ACQUIRED);
                    default -> assertThat(m.lockAsync(ctx, Runnable::run)).isCompletedWithValue(LockResult.ACQUIRED);
                }
            }
            if (form == 2) {
                ctx.attach();
            }
            assertThat(ctx.heldLocks()).as("form %d", form).containsExactlyElementsOf(ms);
            ctx.unlockAll();
            ctx.close();
        }
    }

    /** An interruptible form, run by a waiter thread: {@code true} if it acquired. */
    @FunctionalInterface
    private interface WaitingForm {
        boolean lock(WwMutex m, AcquireContext ctx) throws Exception;
    }

    /** The interruptible forms that queue; ctx is null for the plain ones. */
    private static final List<WaitingForm> INTERRUPTIBLE_FORMS = List.of(
            (m, ctx) -> {
                m.lockInterruptibly();
                return true;
            },
            (m, ctx) -> m.tryLock(Duration.ofDays(1)),
            (m, ctx) -> m.lockInterruptibly(ctx) == LockResult.ACQUIRED,
            (m, ctx) -> m.tryLock(ctx, Duration.ofDays(1)) == LockResult.ACQUIRED,
            (m, ctx) -> {
                m.lockSlowInterruptibly(ctx);
                return true;
            });

    /**
     * Runs form {@code index} in a waiter queued behind a plain holder, then either interrupts the
     * waiter or releases the mutex; returns what the waiter saw and checks that the mutex and the
     * context agree with it.
     */
    private static String queuedForm(int index, boolean interrupt) throws Exception {
        boolean slow = index == 4;
        WwClass cls = slow ? WwClass.builder("slow").firstStamp(0).injectBackoff(true).build()
                : wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        WwMutex other = new WwMutex(cls);
        try (Actor holder = new Actor("holder"); Actor waiter = new Actor("waiter")) {
            AcquireContext ctx = index < 2 ? null : waiter.call(cls::begin);
            if (slow) {                                   // an injected back-off on m makes lockSlow legal
                waiter.call(() -> other.lock(ctx));
                assertThatThrownBy(() -> waiter.call(() -> m.lock(ctx))).isInstanceOf(BackoffException.class);
                waiter.run(ctx::unlockAll);
            }
            holder.run(m::lock);
            Future<String> f = waiter.start(() -> {
                try {
                    return INTERRUPTIBLE_FORMS.get(index).lock(m, ctx) ? "acquired" : "timed out";
                } catch (InterruptedException e) {
                    return Thread.currentThread().isInterrupted() ? "interrupted, still flagged" : "interrupted";
                }
            });
            awaitWaiters(m, 1);
            if (interrupt) {
                waiter.thread.interrupt();
            } else {
                holder.run(m::unlock);
            }
            String outcome = f.get(20, TimeUnit.SECONDS);
            assertThat(m.waiterCount()).isZero();
            if (outcome.equals("acquired")) {
                assertThat(m.owner()).isSameAs(waiter.thread);
                assertThat(m.holderContext()).isSameAs(ctx);
                waiter.run(m::unlock);
            } else {
                assertThat(m.owner()).isSameAs(holder.thread);
                holder.run(m::unlock);
            }
            if (ctx != null) {
                assertThat(waiter.call(ctx::heldCount)).isZero();
                waiter.run(ctx::close);
            }
            waiter.run(other::lock);                     // nothing is counted as held without a context
            waiter.run(other::unlock);
            return outcome;
        }
    }

    /** Every interruptible form that queued acquires the mutex when its holder releases it. */
    @Test
    void everyInterruptibleFormAcquiresAfterWaiting() throws Exception {
        for (int i = 0; i < INTERRUPTIBLE_FORMS.size(); i++) {
            assertThat(queuedForm(i, false)).as("form %d", i).isEqualTo("acquired");
        }
    }

    /** Every interruptible form that queued gives up on an interrupt, holding nothing, the interrupt consumed. */
    @Test
    void everyInterruptibleFormGivesUpWhenInterruptedWhileQueued() throws Exception {
        for (int i = 0; i < INTERRUPTIBLE_FORMS.size(); i++) {
            assertThat(queuedForm(i, true)).as("form %d", i).isEqualTo("interrupted");
        }
    }

    /**
     * Wound-wait: a wound whose wounder has since let go of its locks and queued again holding
     * nothing is stale: the wounded context does not back off for it at its next contended lock
     * (only a queued context that holds locks confirms a wound), and waits instead.
     */
    @Test
    void aWoundIsNotConfirmedByTheWounderQueuedAgainHoldingNothing() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex x = new WwMutex(cls);
        WwMutex m = new WwMutex(cls);
        WwMutex n = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor plain = new Actor("plain")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            old.call(() -> x.lock(oldCtx));
            young.call(() -> m.lock(youngCtx));
            Future<LockResult> o = old.start(() -> m.lockInterruptibly(oldCtx));
            awaitWaiters(m, 1);
            Actor.await("the younger holder is wounded", youngCtx::isWounded);
            old.thread.interrupt();
            assertThatThrownBy(() -> o.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(InterruptedException.class);
            old.run(oldCtx::unlockAll);
            Future<LockResult> again = old.start(() -> m.lock(oldCtx));   // queued, holding nothing
            awaitWaiters(m, 1);
            plain.run(n::lock);
            Future<LockResult> y = young.start(() -> n.lock(youngCtx));
            Actor.await("the young context queues or backs off", () -> n.waiterCount() == 1 || y.isDone());
            assertThat(y).as("backed off for a wounder that holds nothing").isNotDone();
            plain.run(n::unlock);
            assertThat(y.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            young.run(youngCtx::unlockAll);
            assertThat(again.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /**
     * A live context that holds nothing does not forbid a blocking plain lock; one that holds a
     * lock does, and the misuse names it (or, for a plain hold, says so).
     */
    @Test
    void blockingPlainLockBesideALiveContext() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        WwMutex n = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            m.lock();
            assertThatThrownBy(n::lock).isInstanceOf(WwMisuseException.class)
                    .hasMessageContaining("other mutexes of class " + cls.name() + " without a context;");
            m.unlock();
            m.lockInterruptibly();
            m.unlock();
            m.lock(ctx);
            assertThatThrownBy(n::lockInterruptibly).isInstanceOf(WwMisuseException.class)
                    .hasMessageContaining("other mutexes of class " + cls.name() + " through " + ctx + ";");
            ctx.unlockAll();
        }
    }

    /**
     * Wait-die: a younger context that holds locks and waits behind a plain waiter dies when an
     * older context queues between them, naming that older context (the plain waiter ahead of it
     * names nobody).
     */
    @Test
    void waitDieOlderWaiterKillsYoungerHolderBehindAPlainWaiter() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwMutex m = new WwMutex(cls);
        WwMutex x = new WwMutex(cls);
        m.lock();                                               // a plain holder: nobody dies for it
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor plain = new Actor("plain")) {
            AcquireContext oldCtx = old.call(cls::begin);
            AcquireContext youngCtx = young.call(cls::begin);
            Future<?> p = queuePlainWaiter(plain, m);
            young.call(() -> x.lock(youngCtx));
            Future<Object> y = young.start(() -> {
                try {
                    return m.lock(youngCtx);
                } catch (BackoffException e) {
                    return e;
                }
            });
            awaitWaiters(m, 2);
            Future<LockResult> o = old.start(() -> m.lock(oldCtx));
            assertThat(y.get(20, TimeUnit.SECONDS)).isInstanceOfSatisfying(BackoffException.class, e -> {
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
                assertThat(e.olderStamp()).isEqualTo(oldCtx.stamp());
            });
            awaitWaiters(m, 2);
            m.unlock();
            p.get(20, TimeUnit.SECONDS);
            plain.run(m::unlock);
            assertThat(o.get(20, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(oldCtx::unlockAll);
            young.run(youngCtx::unlockAll);
            old.run(oldCtx::close);
            young.run(youngCtx::close);
        }
    }

    /** A timed plain tryLock of a mutex the thread holds names the holding context only when there is one. */
    @Test
    void recursiveTimedTryLockNamesTheHoldingContextOnlyIfAny() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwMutex m = new WwMutex(cls);
        m.lock();
        assertThatThrownBy(() -> m.tryLock(Duration.ofDays(1))).isInstanceOf(WwMisuseException.class)
                .hasMessageEndingWith(", which it already holds; a WwMutex is not reentrant");
        m.unlock();
        try (AcquireContext ctx = cls.begin()) {
            m.lock(ctx);
            assertThatThrownBy(() -> m.tryLock(Duration.ofDays(1))).isInstanceOf(WwMisuseException.class)
                    .hasMessageEndingWith(", which it already holds through " + ctx + "; a WwMutex is not reentrant");
            ctx.unlockAll();
        }
    }

    /**
     * Wait-die: every blocking context form that meets an older holder while holding another lock
     * throws the back-off instead of returning a result, and the dying context gains nothing.
     */
    @Test
    void everyBlockingContextFormBacksOffInsteadOfReturning() throws Exception {
        List<WaitingForm> forms = List.of(
                (m, ctx) -> m.lock(ctx) == LockResult.ACQUIRED,
                (m, ctx) -> m.lockInterruptibly(ctx) == LockResult.ACQUIRED,
                (m, ctx) -> m.tryLock(ctx, Duration.ofDays(1)) == LockResult.ACQUIRED);
        for (int i = 0; i < forms.size(); i++) {
            WaitingForm form = forms.get(i);
            WwClass cls = wwClass(Algorithm.WAIT_DIE);
            WwMutex a = new WwMutex(cls);
            WwMutex b = new WwMutex(cls);
            try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
                AcquireContext oldCtx = old.call(cls::begin);
                AcquireContext youngCtx = young.call(cls::begin);
                old.call(() -> a.lock(oldCtx));
                young.call(() -> b.lock(youngCtx));
                Object outcome = young.call(() -> {
                    try {
                        return form.lock(a, youngCtx);
                    } catch (BackoffException x) {
                        return x;
                    }
                });
                assertThat(outcome).as("form %d", i).isInstanceOf(BackoffException.class);
                assertThat(((BackoffException) outcome).reason()).isEqualTo(BackoffException.Reason.DIED);
                assertThat(a.holderContext()).isSameAs(oldCtx);
                assertThat(young.call(youngCtx::heldLocks)).as("form %d", i).containsExactly(b);
                young.run(youngCtx::unlockAll);
                young.run(youngCtx::close);
                old.run(oldCtx::unlockAll);
                old.run(oldCtx::close);
            }
        }
    }

    /**
     * Two threads hand one mutex back and forth with short critical sections, so that a contender
     * often gets it by spinning (its holder releases within the spin) and as often queues: every
     * transaction completes and the mutex excludes. A spin that took the mutex but then queued
     * anyway would wait for itself.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void shortCriticalSectionsHandTheMutexBackAndForth(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwMutex m = new WwMutex(cls);
        int rounds = 20_000;
        long[] inside = new long[1];
        try (Actor a = new Actor("a"); Actor b = new Actor("b")) {
            Callable<Long> body = () -> {
                long mine = 0;
                for (int i = 0; i < rounds; i++) {
                    try (AcquireContext ctx = cls.begin()) {
                        m.lock(ctx);
                        inside[0]++;
                        mine++;
                        ctx.unlockAll();
                    }
                }
                return mine;
            };
            Future<Long> fa = a.start(body);
            Future<Long> fb = b.start(body);
            assertThat(fa.get(60, TimeUnit.SECONDS) + fb.get(60, TimeUnit.SECONDS)).isEqualTo(2L * rounds);
        }
        assertThat(inside[0]).as("no increment lost: the mutex excluded").isEqualTo(2L * rounds);
        assertThat(m.isLocked()).isFalse();
    }
}
