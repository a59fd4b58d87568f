package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.check.PotentialDeadlockException;
import dev.bufsync.ww.WwClass.Algorithm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unit tests of {@link WwSharedMutex}: readers share, a writer excludes everyone, already-held and
 * upgrades are reported distinctly, requests are served oldest first so that newer readers cannot
 * starve a writer, and conflicts between readers and writers are resolved by age with wound-wait
 * and wait-die; each for both algorithms where they differ.
 */
class WwSharedMutexTest {
    private static final long PATIENCE_S = Actor.PATIENCE.toSeconds();

    private static WwClass wwClass(Algorithm algorithm) {
        return WwClass.builder("shared-" + algorithm).algorithm(algorithm).injectBackoff(false).build();
    }

    private static void awaitWaiters(WwSharedMutex m, int n) {
        Actor.await(m + " has " + n + " waiter(s)", () -> m.waiterCount() == n);
    }

    /** The throwable a started step ended with; fails if it returned normally. */
    private static Throwable failureOf(Future<?> step) throws Exception {
        try {
            Object r = step.get(PATIENCE_S, TimeUnit.SECONDS);
            throw new AssertionError("expected the step to fail, it returned " + r);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
    }

    /** Runs a lock call on {@code actor} and returns its back-off, or fails if it did not back off. */
    private static BackoffException backoffOf(Actor actor, Callable<LockResult> lock) throws Exception {
        BackoffException e = actor.call(() -> {
            try {
                LockResult r = lock.call();
                throw new AssertionError("expected a back-off, got " + r);
            } catch (BackoffException x) {
                return x;
            }
        });
        assertThat(e).isNotNull();
        return e;
    }

    /**
     * Two transactions hold the lock shared at once; a writer gets it after both left, and the
     * class counts its wait as one contended acquisition (the readers' as none).
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void readersShareAndExcludeAWriter(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor r1 = new Actor("r1"); Actor r2 = new Actor("r2"); Actor w = new Actor("w")) {
            AcquireContext c1 = r1.call(cls::begin);
            AcquireContext c2 = r2.call(cls::begin);
            AcquireContext cw = w.call(cls::begin);
            assertThat(r1.call(() -> m.lockShared(c1))).isEqualTo(LockResult.ACQUIRED);
            assertThat(r2.call(() -> m.lockShared(c2))).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.readerCount()).isEqualTo(2);
            assertThat(m.isHeldBy(c1)).isTrue();
            assertThat(m.isHeldExclusivelyBy(c1)).isFalse();
            assertThat(w.call(() -> m.tryLock(cw))).isEqualTo(LockResult.BUSY);
            WwStats before = cls.stats();
            assertThat(before.contended()).as("the readers did not queue").isZero();
            Future<LockResult> writer = w.start(() -> m.lock(cw));
            awaitWaiters(m, 1);
            r1.run(() -> m.unlock(c1));
            assertThat(writer.isDone()).as("one reader still holds it").isFalse();
            r2.run(() -> m.unlock(c2));
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            WwStats waited = cls.stats().minus(before);
            assertThat(waited.contended()).as("the writer queued once").isOne();
            assertThat(waited.waitNanos()).isPositive();
            assertThat(m.isWriteLocked()).isTrue();
            assertThat(m.isHeldExclusivelyBy(cw)).isTrue();
            assertThat(r1.call(() -> m.tryLockShared(c1))).isEqualTo(LockResult.BUSY);
            w.run(cw::unlockAll);
            assertThat(m.isWriteLocked()).isFalse();
            r1.run(c1::close);
            r2.run(c2::close);
            w.run(cw::close);
        }
    }

    /**
     * Already held is reported as ALREADY_HELD in the same or a weaker mode, an upgrade of the only
     * reader as UPGRADED; the context still holds the lock once and unlocks it once.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void alreadyHeldAndUpgradeAreReportedDistinctly(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex other = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(m.lockShared(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.lockShared(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.tryLockShared(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(other.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.lock(ctx)).isEqualTo(LockResult.UPGRADED);
            assertThat(m.isHeldExclusivelyBy(ctx)).isTrue();
            assertThat(m.readerCount()).isZero();
            assertThat(m.lock(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.tryLock(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.lockShared(ctx)).as("exclusive covers shared").isEqualTo(LockResult.ALREADY_HELD);
            assertThat(ctx.heldCount()).isEqualTo(2);
            assertThat(ctx.heldSharedMutexes()).containsExactly(m);
            assertThat(ctx.heldLocks()).containsExactly(other);
            ctx.unlockAll();
            assertThat(m.isHeldBy(ctx)).isFalse();
            assertThat(m.isWriteLocked()).isFalse();
            assertThat(other.isLocked()).isFalse();
            assertThatThrownBy(() -> m.unlock(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                    e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.UNLOCK_NOT_HELD));
        }
    }

    /** The interruptible forms report what they did as the others do: acquired, upgraded, already held. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void interruptibleFormsReportTheirResult(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwSharedMutex n = new WwSharedMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            assertThat(m.lockSharedInterruptibly(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.lockSharedInterruptibly(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(m.lockInterruptibly(ctx)).isEqualTo(LockResult.UPGRADED);
            assertThat(m.lockInterruptibly(ctx)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(n.lockInterruptibly(ctx)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldExclusivelyBy(ctx)).isTrue();
            assertThat(n.isHeldExclusivelyBy(ctx)).isTrue();
            ctx.unlockAll();
        }
    }

    /**
     * A stream of newer readers cannot starve a waiting writer: a reader younger than the queued
     * writer queues behind it (tryLockShared is BUSY although only readers hold the lock), and is
     * served after the writer.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void newerReadersQueueBehindAWaitingWriter(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor r1 = new Actor("r1"); Actor w = new Actor("w"); Actor r2 = new Actor("r2")) {
            AcquireContext c1 = r1.call(cls::begin);
            AcquireContext cw = w.call(cls::begin);
            AcquireContext c2 = r2.call(cls::begin);
            r1.call(() -> m.lockShared(c1));
            Future<LockResult> writer = w.start(() -> m.lock(cw));
            awaitWaiters(m, 1);
            assertThat(r2.call(() -> m.tryLockShared(c2))).isEqualTo(LockResult.BUSY);
            Future<LockResult> reader = r2.start(() -> m.lockShared(c2));
            awaitWaiters(m, 2);
            r1.run(() -> m.unlock(c1));
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(reader.isDone()).as("the newer reader waits for the writer").isFalse();
            w.run(() -> m.unlock(cw));
            assertThat(reader.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            r2.run(c2::unlockAll);
            r1.run(c1::close);
            w.run(cw::close);
            r2.run(c2::close);
        }
    }

    /** A reader older than a waiting writer goes ahead of it: the oldest request progresses. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void olderReaderGoesAheadOfAYoungerWaitingWriter(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor r0 = new Actor("r0"); Actor r1 = new Actor("r1"); Actor w = new Actor("w")) {
            AcquireContext c0 = r0.call(cls::begin);
            AcquireContext c1 = r1.call(cls::begin);
            AcquireContext cw = w.call(cls::begin);
            r1.call(() -> m.lockShared(c1));
            Future<LockResult> writer = w.start(() -> m.lock(cw));
            awaitWaiters(m, 1);
            assertThat(r0.call(() -> m.lockShared(c0))).isEqualTo(LockResult.ACQUIRED);
            r1.run(() -> m.unlock(c1));
            assertThat(writer.isDone()).isFalse();
            r0.run(() -> m.unlock(c0));
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            w.run(cw::unlockAll);
            r0.run(c0::close);
            r1.run(c1::close);
            w.run(cw::close);
        }
    }

    /**
     * Two readers that both upgrade: the younger backs off naming the older (wait-die: it dies;
     * wound-wait: the older waiter wounds it), still holding the lock shared until it unlocks
     * everything; then the older one's upgrade completes.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void competingUpgradesResolveForTheOlder(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            old.call(() -> m.lockShared(co));
            young.call(() -> m.lockShared(cy));
            Future<LockResult> upgrade;
            BackoffException e;
            if (algorithm == Algorithm.WAIT_DIE) {
                e = backoffOf(young, () -> m.lock(cy));
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
                upgrade = old.start(() -> m.lock(co));
                awaitWaiters(m, 1);
            } else {
                upgrade = old.start(() -> m.lock(co));
                awaitWaiters(m, 1);
                e = backoffOf(young, () -> m.lock(cy));
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            }
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            assertThat(e.sharedMutex()).isSameAs(m);
            assertThat(e.mutex()).isNull();
            assertThat(e.shared()).isFalse();
            assertThat(young.call(() -> m.isHeldBy(cy))).as("still shared after the back-off").isTrue();
            assertThat(upgrade.isDone()).isFalse();
            young.run(cy::unlockAll);
            assertThat(upgrade.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.UPGRADED);
            Future<Void> slow = young.start(() -> {
                m.lockSlow(cy);
                return null;
            });
            awaitWaiters(m, 1);
            old.run(co::unlockAll);
            slow.get(PATIENCE_S, TimeUnit.SECONDS);
            assertThat(m.isHeldExclusivelyBy(cy)).isTrue();
            young.run(cy::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * An upgrade does not wait for an older queued writer that waits for it: once the upgrading
     * reader is the only holder it gets the lock ahead of the queue (waiting there would deadlock,
     * as the writer holds nothing and wounds nobody), and the writer follows.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void upgradeGoesAheadOfAnOlderQueuedWriterThatWaitsForIt(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor w = new Actor("w"); Actor u = new Actor("u"); Actor r = new Actor("r")) {
            AcquireContext cw = w.call(cls::begin);
            AcquireContext cu = u.call(cls::begin);
            AcquireContext cr = r.call(cls::begin);
            u.call(() -> m.lockShared(cu));
            r.call(() -> m.lockShared(cr));
            Future<LockResult> writer = w.start(() -> m.lock(cw));
            awaitWaiters(m, 1);
            Future<LockResult> upgrade = u.start(() -> m.lock(cu));
            awaitWaiters(m, 2);
            r.run(() -> m.unlock(cr));
            assertThat(upgrade.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.UPGRADED);
            assertThat(writer.isDone()).isFalse();
            u.run(cu::unlockAll);
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            w.run(cw::unlockAll);
            w.run(cw::close);
            u.run(cu::close);
            r.run(cr::close);
        }
    }

    /**
     * ABBA through readers: each holds its own lock shared and asks for the other's exclusively.
     * The younger backs off naming the older; the older gets both.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void abbaWithReadersResolvesForTheOlder(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex a = new WwSharedMutex(cls);
        WwSharedMutex b = new WwSharedMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            old.call(() -> a.lockShared(co));
            young.call(() -> b.lockShared(cy));
            Future<LockResult> older = old.start(() -> b.lock(co));
            awaitWaiters(b, 1);
            BackoffException e = backoffOf(young, () -> a.lock(cy));
            assertThat(e.reason()).isEqualTo(algorithm == Algorithm.WAIT_DIE
                    ? BackoffException.Reason.DIED : BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            assertThat(e.sharedMutex()).isSameAs(a);
            young.run(cy::unlockAll);
            assertThat(older.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(b.isHeldExclusivelyBy(co)).isTrue();
            old.run(co::unlockAll);
            young.run(() -> a.lockSlow(cy));
            assertThat(young.call(() -> b.lockShared(cy))).isEqualTo(LockResult.ACQUIRED);
            young.run(cy::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * Wound-wait with readers: an older writer that holds locks wounds the younger reader, which
     * keeps running (an uncontended lock succeeds) and backs off at its next contended lock.
     */
    @Test
    void woundWaitOlderWriterWoundsYoungerReaderLazily() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex held = new WwMutex(cls);
        WwMutex free = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            young.call(() -> m.lockShared(cy));
            old.call(() -> held.lock(co));
            Future<LockResult> writer = old.start(() -> m.lock(co));
            awaitWaiters(m, 1);
            Actor.await("the younger reader is wounded", cy::isWounded);
            assertThat(cls.stats().wounds()).isEqualTo(1);
            assertThat(young.call(() -> free.lock(cy))).isEqualTo(LockResult.ACQUIRED);
            BackoffException e = backoffOf(young, () -> held.lock(cy));
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            young.run(cy::unlockAll);
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(co::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /** Wound-wait: an older reader holding nothing else does not wound a younger writer; it waits. */
    @Test
    void woundWaitOlderReaderHoldingNothingWaits() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            young.call(() -> m.lock(cy));
            Future<LockResult> reader = old.start(() -> m.lockShared(co));
            awaitWaiters(m, 1);
            assertThat(cy.isWounded()).isFalse();
            young.run(cy::unlockAll);
            assertThat(reader.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(co::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * Wait-die with readers: a younger reader that holds locks dies rather than wait for an older
     * writer (a shared back-off), while a younger reader next to older readers shares without
     * dying.
     */
    @Test
    void waitDieYoungerReaderDiesForAnOlderWriterButSharesWithOlderReaders() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwSharedMutex n = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            old.call(() -> m.lock(co));
            old.call(() -> n.lockShared(co));
            young.call(() -> own.lock(cy));
            assertThat(young.call(() -> n.lockShared(cy))).isEqualTo(LockResult.ACQUIRED);
            BackoffException e = backoffOf(young, () -> m.lockShared(cy));
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(e.shared()).isTrue();
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            young.run(cy::unlockAll);
            Future<Void> slow = young.start(() -> {
                m.lockSharedSlow(cy);
                return null;
            });
            awaitWaiters(m, 1);
            old.run(co::unlockAll);
            slow.get(PATIENCE_S, TimeUnit.SECONDS);
            assertThat(m.readerCount()).isEqualTo(1);
            young.run(cy::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /** Wait-die: an older writer that queues ahead of a younger waiting reader that holds locks kills it. */
    @Test
    void waitDieOlderWriterKillsYoungerQueuedReader() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor oldest = new Actor("oldest"); Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext c0 = oldest.call(cls::begin);
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            AcquireContext holder = cls.begin();          // youngest: everyone waits for it
            m.lock(holder);
            young.call(() -> own.lock(cy));
            Future<LockResult> reader = young.start(() -> m.lockShared(cy));
            awaitWaiters(m, 1);
            Future<LockResult> writer = old.start(() -> m.lock(co));
            BackoffException e = (BackoffException) failureOf(reader);
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            young.run(cy::unlockAll);
            holder.unlockAll();
            holder.close();
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(co::unlockAll);
            oldest.run(c0::close);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * Wait-die: a reader older than a queued writer that holds locks is admitted ahead of it; the
     * writer now waits for an older holder, so it is woken to die (else it could wait for the
     * reader while the reader waits for the writer's other lock).
     */
    @Test
    void waitDieOlderReaderAdmittedAheadKillsTheYoungerQueuedWriter() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor r = new Actor("r"); Actor w = new Actor("w"); Actor h = new Actor("h")) {
            AcquireContext cr = r.call(cls::begin);
            AcquireContext cw = w.call(cls::begin);
            AcquireContext ch = h.call(cls::begin);
            h.call(() -> m.lockShared(ch));
            w.call(() -> own.lock(cw));
            Future<LockResult> writer = w.start(() -> m.lock(cw));
            awaitWaiters(m, 1);
            assertThat(r.call(() -> m.lockShared(cr))).isEqualTo(LockResult.ACQUIRED);
            BackoffException e = (BackoffException) failureOf(writer);
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(e.olderStamp()).isEqualTo(cr.stamp());
            w.run(cw::unlockAll);
            r.run(cr::unlockAll);
            h.run(ch::unlockAll);
            r.run(cr::close);
            w.run(cw::close);
            h.run(ch::close);
        }
    }

    /**
     * Virtual threads: 2,000 transactions on virtual threads, each taking two of 20 locks in
     * random modes and order with the back-off loop, all complete (waits park the virtual thread,
     * never pin a carrier in a monitor) and leave every lock free.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void virtualThreadTransactionsAllComplete(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex[] locks = new WwSharedMutex[20];
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new WwSharedMutex(cls);
        }
        int n = 2_000;
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.SplittableRandom random = new java.util.SplittableRandom(12);
            for (int k = 0; k < n; k++) {
                int a = random.nextInt(locks.length);
                int b = (a + 1 + random.nextInt(locks.length - 1)) % locks.length;
                boolean sa = random.nextBoolean();
                boolean sb = random.nextBoolean();
                executor.submit(() -> WwSharedMutexLincheckTest.transaction(cls, locks[a], sa, locks[b], sb, done));
            }
            executor.shutdown();
            assertThat(executor.awaitTermination(PATIENCE_S * 3, TimeUnit.SECONDS)).as("all finished").isTrue();
        }
        assertThat(done.get()).isEqualTo(n);
        for (WwSharedMutex m : locks) {
            assertThat(m.isWriteLocked() || m.readerCount() != 0 || m.waiterCount() != 0).as(m.toString()).isFalse();
        }
    }

    /** Misuse is caught as for WwMutex: another class, lockSlow without a back-off, a foreign unlock. */
    @Test
    void misuseIsReported() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwClass otherClass = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwSharedMutex foreign = new WwSharedMutex(otherClass);
        try (AcquireContext ctx = cls.begin(); Actor other = new Actor("other")) {
            assertThatThrownBy(() -> foreign.lockShared(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                    e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.WRONG_CLASS));
            assertThatThrownBy(() -> m.lockSharedSlow(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                    e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.SLOW_WITHOUT_BACKOFF));
            m.lockShared(ctx);
            assertThatThrownBy(() -> other.run(() -> m.unlock(ctx))).isInstanceOfSatisfying(
                    WwMisuseException.class, e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.UNLOCK_FOREIGN));
            ctx.acquireDone();
            assertThatThrownBy(() -> m.lock(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                    e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.LOCK_AFTER_DONE));
            m.unlock(ctx);
        }
    }

    /** An interrupted shared lock gives up without holding or queueing anything. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void interruptibleSharedLockGivesUp(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor w = new Actor("w"); Actor r = new Actor("r")) {
            AcquireContext cw = w.call(cls::begin);
            AcquireContext cr = r.call(cls::begin);
            w.call(() -> m.lock(cw));
            Future<LockResult> reader = r.start(() -> m.lockSharedInterruptibly(cr));
            awaitWaiters(m, 1);
            r.thread.interrupt();
            assertThat(failureOf(reader)).isInstanceOf(InterruptedException.class);
            assertThat(m.waiterCount()).isZero();
            assertThat(r.call(() -> m.isHeldBy(cr))).isFalse();
            w.run(cw::unlockAll);
            assertThat(r.call(() -> m.lockShared(cr))).isEqualTo(LockResult.ACQUIRED);
            r.run(cr::unlockAll);
            w.run(cw::close);
            r.run(cr::close);
        }
    }

    /** The monitoring queries and toString follow the holders and the queue; a null context holds nothing. */
    @Test
    void queriesAndToStringFollowTheState() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        String name = "WwSharedMutex@" + Integer.toHexString(System.identityHashCode(m)) + "(" + cls.name() + ")";
        assertThat(m.wwClass()).isSameAs(cls);
        assertThat(m).hasToString(name + "[unlocked]");
        assertThat(m.isHeldBy(null)).isFalse();
        assertThat(m.isHeldExclusivelyBy(null)).isFalse();
        try (Actor r1 = new Actor("r1"); Actor r2 = new Actor("r2"); Actor w = new Actor("w")) {
            AcquireContext c1 = r1.call(cls::begin);
            AcquireContext c2 = r2.call(cls::begin);
            AcquireContext cw = w.call(cls::begin);
            r1.call(() -> m.lockShared(c1));
            r2.call(() -> m.lockShared(c2));
            assertThat(m).hasToString(name + "[2 reader(s)]");
            Future<LockResult> writer = w.start(() -> m.lock(cw));
            awaitWaiters(m, 1);
            assertThat(m).hasToString(name + "[2 reader(s), 1 waiting]");
            assertThat(m.isHeldBy(cw)).isFalse();
            r1.run(c1::unlockAll);
            r2.run(c2::unlockAll);
            writer.get(PATIENCE_S, TimeUnit.SECONDS);
            assertThat(m).hasToString(name + "[written by context #" + cw.stamp() + "]");
            assertThat(m.isHeldBy(null)).isFalse();
            assertThat(m.readerCount()).isZero();
            w.run(cw::unlockAll);
            assertThat(m).hasToString(name + "[unlocked]");
            r1.run(c1::close);
            r2.run(c2::close);
            w.run(cw::close);
        }
    }

    /**
     * An interrupt pending before the call fails every interruptible form at once, even on a free
     * lock: nothing is acquired and the interrupt is consumed. A slow form keeps the context in
     * its backed-off state, so it can be repeated, and then holds the lock once.
     */
    @Test
    void pendingInterruptFailsEveryInterruptibleForm() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            old.call(() -> m.lock(co));
            young.call(() -> own.lock(cy));
            backoffOf(young, () -> m.lockShared(cy));
            young.run(cy::unlockAll);
            old.run(co::unlockAll);
            for (ThrowingConsumer<AcquireContext> form : List.<ThrowingConsumer<AcquireContext>>of(
                    m::lockSharedInterruptibly, m::lockInterruptibly, m::lockSharedSlowInterruptibly,
                    m::lockSlowInterruptibly)) {
                boolean consumed = young.call(() -> {
                    Thread.currentThread().interrupt();
                    assertThatThrownBy(() -> form.accept(cy)).isInstanceOf(InterruptedException.class);
                    return !Thread.currentThread().isInterrupted();
                });
                assertThat(consumed).as("the interrupt is consumed").isTrue();
                assertThat(m.isHeldBy(cy)).isFalse();
                assertThat(cy.heldCount()).isZero();
                assertThat(cy.contendedSharedMutex()).as("still backed off").isSameAs(m);
            }
            young.run(() -> m.lockSlowInterruptibly(cy));
            assertThat(m.isHeldExclusivelyBy(cy)).isTrue();
            assertThat(cy.heldCount()).isEqualTo(1);
            assertThat(cy.contendedSharedMutex()).isNull();
            young.run(cy::unlockAll);
            assertThat(m.isHeldBy(cy)).isFalse();
            old.run(co::close);
            young.run(cy::close);
        }
    }

    @FunctionalInterface
    private interface ThrowingConsumer<T> {
        void accept(T t) throws Exception;
    }

    /**
     * The exclusive and the slow interruptible forms give up when interrupted while they wait: the
     * request leaves the queue, and a slow form stays repeatable.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void interruptibleExclusiveAndSlowLocksGiveUpWhileWaiting(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            old.call(() -> m.lockShared(co));
            Future<LockResult> writer = young.start(() -> m.lockInterruptibly(cy));
            awaitWaiters(m, 1);
            young.thread.interrupt();
            assertThat(failureOf(writer)).isInstanceOf(InterruptedException.class);
            assertThat(m.waiterCount()).isZero();
            assertThat(m.isHeldBy(cy)).isFalse();

            old.run(co::unlockAll);
            old.call(() -> m.lock(co));
            young.call(() -> own.lock(cy));
            Future<LockResult> died = young.start(() -> m.lockShared(cy));
            Future<LockResult> wounder = null;
            if (algorithm == Algorithm.WOUND_WAIT) {            // waits; the older one wounds it
                awaitWaiters(m, 1);
                wounder = old.start(() -> own.lock(co));
            }
            assertThat(failureOf(died)).isInstanceOf(BackoffException.class);
            young.run(cy::unlockAll);
            if (wounder != null) {
                assertThat(wounder.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            }
            Future<Void> slow = young.start(() -> {
                m.lockSharedSlowInterruptibly(cy);
                return null;
            });
            awaitWaiters(m, 1);
            young.thread.interrupt();
            assertThat(failureOf(slow)).isInstanceOf(InterruptedException.class);
            assertThat(m.waiterCount()).isZero();
            assertThat(cy.heldCount()).isZero();
            assertThat(young.call(cy::contendedSharedMutex)).isSameAs(m);
            old.run(co::unlockAll);
            young.run(() -> m.lockSharedSlowInterruptibly(cy));
            assertThat(m.readerCount()).isEqualTo(1);
            assertThat(m.isHeldBy(cy)).isTrue();
            young.run(cy::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * An interrupt does not end an uninterruptible wait: the thread waits on, gets the lock, and
     * returns with its interrupt status set again.
     */
    @Test
    void uninterruptibleWaitKeepsTheInterrupt() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor w = new Actor("w"); Actor r = new Actor("r")) {
            AcquireContext cw = w.call(cls::begin);
            AcquireContext cr = r.call(cls::begin);
            w.call(() -> m.lock(cw));
            Future<Boolean> reader = r.start(() -> {
                assertThat(m.lockShared(cr)).isEqualTo(LockResult.ACQUIRED);
                return Thread.interrupted();
            });
            awaitWaiters(m, 1);
            r.thread.interrupt();
            Actor.await("the waiter took the interrupt", () -> !r.thread.isInterrupted());
            assertThat(m.waiterCount()).as("still waiting").isEqualTo(1);
            w.run(cw::unlockAll);
            assertThat(reader.get(PATIENCE_S, TimeUnit.SECONDS)).as("interrupt status set again").isTrue();
            assertThat(m.isHeldBy(cr)).isTrue();
            r.run(cr::unlockAll);
            w.run(cw::close);
            r.run(cr::close);
        }
    }

    /** tryLock upgrades the only reader (UPGRADED, still one hold) and is BUSY while another reads. */
    @Test
    void tryLockUpgradesOnlyTheOnlyReader() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (AcquireContext ctx = cls.begin(); Actor other = new Actor("other")) {
            AcquireContext co = other.call(cls::begin);
            m.lockShared(ctx);
            other.call(() -> m.lockShared(co));
            assertThat(m.tryLock(ctx)).isEqualTo(LockResult.BUSY);
            assertThat(m.isHeldExclusivelyBy(ctx)).isFalse();
            assertThat(m.readerCount()).isEqualTo(2);
            other.run(co::unlockAll);
            assertThat(m.tryLock(ctx)).isEqualTo(LockResult.UPGRADED);
            assertThat(m.isHeldExclusivelyBy(ctx)).isTrue();
            assertThat(ctx.heldCount()).isEqualTo(1);
            ctx.unlockAll();
            assertThat(m.isWriteLocked()).isFalse();
            other.run(co::close);
        }
    }

    /**
     * Back-off injection applies to both modes: a lock of a context that holds locks reports an
     * injected back-off in the mode it asked for, with the lock given back.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void injectedBackoffKeepsTheMode(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        for (boolean shared : new boolean[] {true, false}) {
            try (AcquireContext ctx = cls.begin()) {
                ctx.injectBackoff(true);
                BackoffException e = lockUntilInjected(ctx, shared);
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.INJECTED);
                assertThat(e.shared()).isEqualTo(shared);
                assertThat(e.sharedMutex().isHeldBy(ctx)).as("given back").isFalse();
                assertThat(ctx.heldSharedMutexes()).doesNotContain(e.sharedMutex());
                assertThat(ctx.contendedSharedMutex()).isSameAs(e.sharedMutex());
                assertThat(e.getMessage()).contains(e.sharedMutex().describe(), "class " + cls.name(),
                        "back-off injection is on", shared ? "then lockSharedSlow" : "then lockSlow");
                ctx.unlockAll();
            }
        }
    }

    /** Locks fresh locks in one mode with {@code ctx} until a lock backs off; returns the back-off. */
    private static BackoffException lockUntilInjected(AcquireContext ctx, boolean shared) {
        for (int i = 0; i < 20; i++) {
            WwSharedMutex m = new WwSharedMutex(ctx.wwClass());
            try {
                assertThat(shared ? m.lockShared(ctx) : m.lock(ctx)).isEqualTo(LockResult.ACQUIRED);
            } catch (BackoffException e) {
                assertThat(e.sharedMutex()).isSameAs(m);
                assertThat(ctx.heldCount()).isEqualTo(i);
                return e;
            }
        }
        throw new AssertionError("no back-off was injected");
    }

    /**
     * Wait-die: a requester that holds locks dies for an older request queued ahead of it, even
     * when every holder is younger; the back-off names that request's context.
     */
    @Test
    void waitDieRequesterDiesForAnOlderQueuedRequest() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor oldest = new Actor("oldest"); Actor middle = new Actor("middle"); Actor youngest = new Actor("youngest")) {
            AcquireContext c0 = oldest.call(cls::begin);
            AcquireContext c1 = middle.call(cls::begin);
            AcquireContext c2 = youngest.call(cls::begin);
            youngest.call(() -> m.lock(c2));
            Future<LockResult> queued = oldest.start(() -> m.lockShared(c0));
            awaitWaiters(m, 1);
            middle.call(() -> own.lock(c1));
            BackoffException e = backoffOf(middle, () -> m.lockShared(c1));
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.DIED);
            assertThat(e.olderStamp()).isEqualTo(c0.stamp());
            assertThat(m.waiterCount()).isEqualTo(1);
            middle.run(c1::unlockAll);
            youngest.run(c2::unlockAll);
            assertThat(queued.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            oldest.run(c0::unlockAll);
            oldest.run(c0::close);
            middle.run(c1::close);
            youngest.run(c2::close);
        }
    }

    /**
     * Wound-wait: a wounded context backs off before it queues (the kernel's check), so it wounds
     * none of the younger holders of the lock it asked for.
     */
    @Test
    void woundWaitWoundedRequesterBacksOffBeforeQueueing() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex x = new WwMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor middle = new Actor("middle"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cm = middle.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            young.call(() -> m.lock(cy));
            middle.call(() -> x.lock(cm));
            old.call(() -> own.lock(co));
            Future<LockResult> older = old.start(() -> x.lock(co));
            Actor.awaitWaiters(x, 1);
            Actor.await("the middle one is wounded", cm::isWounded);
            BackoffException e = backoffOf(middle, () -> m.lockShared(cm));
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            assertThat(cy.isWounded()).as("the younger holder was not wounded").isFalse();
            assertThat(m.waiterCount()).isZero();
            middle.run(cm::unlockAll);
            assertThat(older.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(co::unlockAll);
            young.run(cy::unlockAll);
            old.run(co::close);
            middle.run(cm::close);
            young.run(cy::close);
        }
    }

    /**
     * Requests queue by age whatever the order they came in: a younger, an older and a middle
     * writer queued in that order are served oldest first.
     */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void requestsQueueByAgeNotArrival(Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor h = new Actor("h"); Actor a = new Actor("a"); Actor b = new Actor("b"); Actor c = new Actor("c")) {
            AcquireContext ca = a.call(cls::begin);
            AcquireContext cb = b.call(cls::begin);
            AcquireContext cc = c.call(cls::begin);
            AcquireContext ch = h.call(cls::begin);             // youngest: nobody backs off for it
            h.call(() -> m.lockShared(ch));
            Future<LockResult> fc = c.start(() -> m.lock(cc));
            awaitWaiters(m, 1);
            Future<LockResult> fa = a.start(() -> m.lock(ca));
            awaitWaiters(m, 2);
            Future<LockResult> fb = b.start(() -> m.lock(cb));
            awaitWaiters(m, 3);
            h.run(ch::unlockAll);                               // each release grants the next at once
            assertThat(m.isHeldExclusivelyBy(ca)).as("the oldest first").isTrue();
            assertThat(fa.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            a.run(ca::unlockAll);
            assertThat(m.isHeldExclusivelyBy(cb)).as("then the middle one").isTrue();
            assertThat(fb.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            b.run(cb::unlockAll);
            assertThat(m.isHeldExclusivelyBy(cc)).isTrue();
            assertThat(fc.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            c.run(cc::unlockAll);
            for (var actorAndCtx : List.of(Map.entry(a, ca), Map.entry(b, cb), Map.entry(c, cc), Map.entry(h, ch))) {
                actorAndCtx.getKey().run(actorAndCtx.getValue()::close);
            }
        }
    }

    /**
     * A thread that holds a mutex of the class without a context may not block on a shared mutex
     * with one (it could deadlock unseen), but may poll it.
     */
    @Test
    void blockingWithAContextWhileHoldingAPlainLockIsAMisuse() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex plain = new WwMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            plain.lock();
            try {
                for (ThrowingConsumer<AcquireContext> form : List.<ThrowingConsumer<AcquireContext>>of(
                        m::lockShared, m::lock, m::lockSharedInterruptibly, m::lockInterruptibly)) {
                    assertThatThrownBy(() -> form.accept(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                            e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.MIXED_LOCKING));
                }
                assertThat(m.tryLockShared(ctx)).isEqualTo(LockResult.ACQUIRED);
                assertThat(m.tryLock(ctx)).isEqualTo(LockResult.UPGRADED);
            } finally {
                plain.unlock();
            }
            ctx.unlockAll();
        }
    }

    /** What a hooked waiter throws where its wait loop checks for an interrupt. */
    private static final class WaiterFailure extends Error {
        WaiterFailure() {
            super("the waiter failed while it waited", null, false, false);
        }
    }

    /** Runs {@code step} on the test's behalf from inside a hook (which cannot throw checked exceptions). */
    private static void unchecked(Actor.ThrowingRunnable step) {
        try {
            step.run();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A waiter that fails before its turn (an error where its wait loop checks for an interrupt)
     * leaves the queue and lets through the request it held up: a younger reader behind the
     * failed older writer shares the lock with its reader.
     */
    @Test
    void waiterFailingBeforeItsTurnLeavesTheQueue() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WaiterFailure failure = new WaiterFailure();
        try (Actor t = HookedThread.actor("t"); Actor s = new Actor("s"); Actor h = new Actor("h")) {
            AcquireContext ct = t.call(cls::begin);
            AcquireContext cs = s.call(cls::begin);
            AcquireContext ch = h.call(cls::begin);
            h.call(() -> m.lockShared(ch));
            AtomicReference<Future<LockResult>> reader = new AtomicReference<>();
            Future<LockResult> writer = t.start(() -> {
                HookedThread.arm(() -> {
                    reader.set(s.start(() -> m.lockShared(cs)));
                    awaitWaiters(m, 2);                      // queued behind the older writer
                    throw failure;
                });
                return m.lockInterruptibly(ct);
            });
            assertThat(failureOf(writer)).isSameAs(failure);
            assertThat(m.waiterCount()).as("granted as the writer left").isZero();
            assertThat(m.readerCount()).isEqualTo(2);
            assertThat(reader.get().get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(ct)).isFalse();
            assertThat(ct.heldCount()).isZero();
            s.run(cs::unlockAll);
            h.run(ch::unlockAll);
            t.run(ct::close);
            s.run(cs::close);
            h.run(ch::close);
        }
    }

    /**
     * A waiter granted the lock just before it fails gives it back, to the next request: the
     * younger writer queued behind the failed reader gets it.
     */
    @Test
    void waiterGrantedBeforeItFailsGivesTheLockBack() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WaiterFailure failure = new WaiterFailure();
        try (Actor t = HookedThread.actor("t"); Actor x = new Actor("x"); Actor w = new Actor("w")) {
            AcquireContext ct = t.call(cls::begin);
            AcquireContext cx = x.call(cls::begin);
            AcquireContext cw = w.call(cls::begin);
            w.call(() -> m.lock(cw));
            Future<LockResult> writer = x.start(() -> m.lock(cx));
            awaitWaiters(m, 1);
            Future<LockResult> reader = t.start(() -> {
                HookedThread.arm(() -> {
                    unchecked(() -> w.run(cw::unlockAll));  // grants the older reader only
                    Actor.await("the reader is granted", () -> m.readerCount() == 1);
                    throw failure;
                });
                return m.lockSharedInterruptibly(ct);
            });
            assertThat(failureOf(reader)).isSameAs(failure);
            assertThat(m.isHeldExclusivelyBy(cx)).as("granted as the reader left").isTrue();
            assertThat(writer.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(ct)).isFalse();
            assertThat(ct.heldCount()).isZero();
            x.run(cx::unlockAll);
            t.run(ct::close);
            x.run(cx::close);
            w.run(cw::close);
        }
    }

    /**
     * An upgrade granted just before its waiter fails goes back to shared: the context still holds
     * the lock once, shared, and the younger reader that queued behind the upgrade shares it.
     */
    @Test
    void upgradeGrantedBeforeItFailsGoesBackToShared() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WaiterFailure failure = new WaiterFailure();
        try (Actor t = HookedThread.actor("t"); Actor r = new Actor("r"); Actor q = new Actor("q")) {
            AcquireContext ct = t.call(cls::begin);
            AcquireContext cr = r.call(cls::begin);
            AcquireContext cq = q.call(cls::begin);
            t.call(() -> m.lockShared(ct));
            r.call(() -> m.lockShared(cr));
            AtomicReference<Future<LockResult>> reader = new AtomicReference<>();
            Future<LockResult> upgrade = t.start(() -> {
                HookedThread.arm(() -> {
                    reader.set(q.start(() -> m.lockShared(cq)));
                    awaitWaiters(m, 2);                      // behind the upgrade
                    unchecked(() -> r.run(cr::unlockAll));  // grants the upgrade
                    Actor.await("the upgrade is granted", m::isWriteLocked);
                    throw failure;
                });
                return m.lockInterruptibly(ct);
            });
            assertThat(failureOf(upgrade)).isSameAs(failure);
            assertThat(m.isHeldBy(ct)).isTrue();
            assertThat(m.isHeldExclusivelyBy(ct)).isFalse();
            assertThat(m.readerCount()).as("granted as the upgrade went back").isEqualTo(2);
            assertThat(reader.get().get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(ct.heldCount()).isEqualTo(1);
            t.run(ct::unlockAll);
            q.run(cq::unlockAll);
            assertThat(m.readerCount()).isZero();
            t.run(ct::close);
            r.run(cr::close);
            q.run(cq::close);
        }
    }

    /** One way for a context to come to hold a readers-writer lock: the lock to use, then the acquisition. */
    private interface Acquisition {
        WwSharedMutex prepare(AcquireContext ctx) throws Exception;

        void acquire(AcquireContext ctx, WwSharedMutex m) throws Exception;

        static Acquisition of(ThrowingBiConsumer form) {
            return new Acquisition() {
                @Override
                public WwSharedMutex prepare(AcquireContext ctx) {
                    return new WwSharedMutex(ctx.wwClass());
                }

                @Override
                public void acquire(AcquireContext ctx, WwSharedMutex m) throws Exception {
                    form.accept(ctx, m);
                }
            };
        }

        /** A slow form: prepare backs off on a lock (by injection), which the form then takes. */
        static Acquisition slow(ThrowingBiConsumer form) {
            return new Acquisition() {
                @Override
                public WwSharedMutex prepare(AcquireContext ctx) {
                    ctx.injectBackoff(true);
                    BackoffException e = lockUntilInjected(ctx, true);
                    ctx.injectBackoff(false);
                    ctx.unlockAll();
                    return e.sharedMutex();
                }

                @Override
                public void acquire(AcquireContext ctx, WwSharedMutex m) throws Exception {
                    form.accept(ctx, m);
                }
            };
        }
    }

    @FunctionalInterface
    private interface ThrowingBiConsumer {
        void accept(AcquireContext ctx, WwSharedMutex m) throws Exception;
    }

    /**
     * The lock-order checker sees every form of acquisition and the release: with the classes A
     * and B checked, B's lock taken (in each form) while A's is held and then A's wanted while
     * B's is held closes a cycle; once B's is released, wanting A's adds nothing. A poll adds no
     * edge itself (it cannot wait), but its hold counts: here the edge A to B comes from a
     * blocking lock before it.
     */
    @Test
    void lockOrderCheckerSeesEveryAcquisitionAndTheRelease() throws Exception {
        Map<String, Acquisition> forms = new LinkedHashMap<>();
        forms.put("lockShared", Acquisition.of((c, m) -> m.lockShared(c)));
        forms.put("lockSharedInterruptibly", Acquisition.of((c, m) -> m.lockSharedInterruptibly(c)));
        forms.put("lock", Acquisition.of((c, m) -> m.lock(c)));
        forms.put("lockInterruptibly", Acquisition.of((c, m) -> m.lockInterruptibly(c)));
        forms.put("lockSharedSlow", Acquisition.slow((c, m) -> m.lockSharedSlow(c)));
        forms.put("lockSlow", Acquisition.slow((c, m) -> m.lockSlow(c)));
        forms.put("lockSharedSlowInterruptibly", Acquisition.slow((c, m) -> m.lockSharedSlowInterruptibly(c)));
        forms.put("lockSlowInterruptibly", Acquisition.slow((c, m) -> m.lockSlowInterruptibly(c)));
        forms.put("tryLockShared", Acquisition.of((c, m) -> {
            WwSharedMutex seed = new WwSharedMutex(c.wwClass());
            seed.lockShared(c);
            seed.unlock(c);
            assertThat(m.tryLockShared(c)).isEqualTo(LockResult.ACQUIRED);
        }));
        for (Map.Entry<String, Acquisition> form : forms.entrySet()) {
            WwClass a = WwClass.builder("checked-a-" + form.getKey()).injectBackoff(false).build();
            WwClass b = WwClass.builder("checked-b-" + form.getKey()).injectBackoff(false).build();
            Checker.setPolicy(a, CheckPolicy.THROW);
            Checker.setPolicy(b, CheckPolicy.THROW);
            try (AcquireContext ca = a.begin(); AcquireContext cb = b.begin()) {
                WwMutex first = new WwMutex(a);
                WwMutex second = new WwMutex(a);
                WwSharedMutex m = form.getValue().prepare(cb);
                first.lock(ca);
                form.getValue().acquire(cb, m);                                // A -> B
                assertThat(m.isHeldBy(cb)).isTrue();
                assertThatThrownBy(() -> second.lock(ca)).as(form.getKey())    // B -> A closes it
                        .isInstanceOf(PotentialDeadlockException.class);
                m.unlock(cb);
                assertThat(second.lock(ca)).as(form.getKey() + ", released").isEqualTo(LockResult.ACQUIRED);
                ca.unlockAll();
            } finally {
                Checker.setPolicy(a, null);
                Checker.setPolicy(b, null);
            }
        }
    }

    /**
     * A wound through a readers-writer lock reaches a transaction whose lock of a mutex is
     * pending asynchronously: its waiter is handed to its executor and backs off. Here the three
     * would otherwise wait for each other for ever: the oldest for the youngest's shared lock,
     * the youngest (asynchronously) for the middle one's mutex, the middle one for the oldest's.
     */
    @Test
    void woundReachesATransactionWaitingAsynchronouslyElsewhere() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex s = new WwSharedMutex(cls);
        WwMutex a = new WwMutex(cls);
        WwMutex m = new WwMutex(cls);
        RunQueue queue = new RunQueue();
        try (Actor old = new Actor("old"); Actor middle = new Actor("middle")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cm = middle.call(cls::begin);
            AcquireContext cy = cls.beginTransferable();
            s.lockShared(cy);
            cy.detach();
            old.call(() -> a.lock(co));
            middle.call(() -> m.lock(cm));
            CompletableFuture<LockResult> youngWaits = m.lockAsync(cy, queue);
            Future<LockResult> middleWaits = middle.start(() -> a.lock(cm));
            Actor.awaitWaiters(a, 1);
            Future<LockResult> oldWaits = old.start(() -> s.lock(co));   // wounds the youngest
            Actor.await("the wounded waiter is handed to its executor", () -> queue.pending() == 1);
            queue.drain();
            assertThat(youngWaits).isCompletedExceptionally();
            assertThatThrownBy(youngWaits::join).cause().isInstanceOfSatisfying(BackoffException.class, e -> {
                assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
                assertThat(e.olderStamp()).isEqualTo(co.stamp());
            });
            cy.unlockAll();
            assertThat(oldWaits.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(co::unlockAll);
            assertThat(middleWaits.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            middle.run(cm::unlockAll);
            cy.close();
            old.run(co::close);
            middle.run(cm::close);
        }
    }

    /**
     * Every form checks its rules: each lock form refuses a context of another class, each slow
     * form a context that did not back off on this lock.
     */
    @Test
    void everyFormChecksItsRules() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(wwClass(Algorithm.WAIT_DIE));
        List<ThrowingConsumer<AcquireContext>> locks = List.of(m::lockShared, m::lockSharedInterruptibly,
                m::tryLockShared, m::lock, m::lockInterruptibly, m::tryLock);
        List<ThrowingConsumer<AcquireContext>> slows = List.of(m::lockSharedSlow, m::lockSlow,
                m::lockSharedSlowInterruptibly, m::lockSlowInterruptibly);
        try (AcquireContext ctx = cls.begin()) {
            for (ThrowingConsumer<AcquireContext> form : locks) {
                assertThatThrownBy(() -> form.accept(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                        e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.WRONG_CLASS));
            }
            for (ThrowingConsumer<AcquireContext> form : slows) {
                assertThatThrownBy(() -> form.accept(ctx)).isInstanceOfSatisfying(WwMisuseException.class,
                        e -> assertThat(e.rule()).isEqualTo(WwMisuseException.Rule.SLOW_WITHOUT_BACKOFF));
            }
            assertThat(m.readerCount() + m.waiterCount()).isZero();
            assertThat(ctx.heldCount()).isZero();
        }
    }

    /**
     * A context's held list grows for readers-writer locks as for mutexes (here from its first
     * size, on a class new to the thread), and the first lock of a round clears a wound left from
     * the last round, as the kernel does.
     */
    @Test
    void heldListGrowsAndTheFirstLockClearsAStaleWound() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        List<WwSharedMutex> ms = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            ms.add(new WwSharedMutex(cls));
        }
        WwMutex x = new WwMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            young.run(() -> {
                for (WwSharedMutex m : ms) {
                    assertThat(m.lockShared(cy)).isEqualTo(LockResult.ACQUIRED);
                }
            });
            assertThat(cy.heldSharedMutexes()).containsExactlyElementsOf(ms);
            young.run(cy::unlockAll);
            young.call(() -> x.lock(cy));
            old.call(() -> own.lock(co));
            Future<LockResult> older = old.start(() -> x.lock(co));
            Actor.await("wounded", cy::isWounded);
            young.run(cy::unlockAll);
            assertThat(older.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(cy.isWounded()).as("left over").isTrue();
            young.call(() -> ms.get(0).lockShared(cy));
            assertThat(cy.isWounded()).as("cleared by the first lock").isFalse();
            young.run(cy::unlockAll);
            old.run(co::unlockAll);
            old.run(co::close);
            young.run(cy::close);
        }
    }

    /**
     * Wound-wait: a request queued on a readers-writer lock by a context that holds locks backs
     * off when an older transaction that holds locks wounds it meanwhile (by waiting for a mutex
     * the younger one holds), rather than wait on.
     */
    @Test
    void woundWaitQueuedRequestBacksOffWhenWounded() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex x = new WwMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor young = new Actor("young"); Actor youngest = new Actor("youngest")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            AcquireContext ch = youngest.call(cls::begin);
            youngest.call(() -> m.lock(ch));
            young.call(() -> x.lock(cy));
            Future<LockResult> queued = young.start(() -> m.lockShared(cy));
            awaitWaiters(m, 1);
            assertThat(ch.isWounded()).as("the younger holder is wounded").isTrue();
            old.call(() -> own.lock(co));
            Future<LockResult> older = old.start(() -> x.lock(co));
            BackoffException e = (BackoffException) failureOf(queued);
            assertThat(e.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(e.olderStamp()).isEqualTo(co.stamp());
            assertThat(e.shared()).isTrue();
            assertThat(m.waiterCount()).isZero();
            young.run(cy::unlockAll);
            assertThat(older.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            old.run(co::unlockAll);
            youngest.run(ch::unlockAll);
            old.run(co::close);
            young.run(cy::close);
            youngest.run(ch::close);
        }
    }

    /**
     * Wait-die: a waiter that holds locks is asked to look again when an older request queues
     * ahead of it; if that request has left by the time it looks (here: interrupted), nothing
     * older is in its way and it waits on (parked on the lock) until its turn.
     */
    @Test
    void waitDieWaiterWhoseOlderRivalLeftWaitsOn() throws Exception {
        WwClass cls = wwClass(Algorithm.WAIT_DIE);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        try (Actor o = new Actor("o"); Actor y = HookedThread.actor("y"); Actor h = new Actor("h")) {
            AcquireContext co = o.call(cls::begin);
            AcquireContext cy = y.call(cls::begin);
            AcquireContext ch = h.call(cls::begin);
            h.call(() -> m.lock(ch));
            y.call(() -> own.lock(cy));
            AtomicReference<Future<LockResult>> rival = new AtomicReference<>();
            Future<LockResult> waiter = y.start(() -> {
                HookedThread.arm(() -> {
                    rival.set(o.start(() -> m.lockSharedInterruptibly(co)));   // queues ahead: look again
                    awaitWaiters(m, 2);
                    o.thread.interrupt();                                  // and leaves
                    awaitWaiters(m, 1);
                });
                return m.lockSharedInterruptibly(cy);
            });
            Actor.await("the waiter parks again, or returns", () ->
                    LockSupport.getBlocker(y.thread) == m || waiter.isDone());
            assertThat(waiter.isDone()).as("waits for the writer").isFalse();
            assertThat(failureOf(rival.get())).isInstanceOf(InterruptedException.class);
            h.run(ch::unlockAll);
            assertThat(waiter.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(m.isHeldBy(cy)).isTrue();
            y.run(cy::unlockAll);
            o.run(co::close);
            y.run(cy::close);
            h.run(ch::close);
        }
    }

    /**
     * Wound-wait: a wound whose wounder has left (here: an older writer that gave up on an
     * interrupt) is dropped: at its next contended lock the wounded reader finds no older waiter
     * that holds locks for its lock (an older one that holds nothing does not count), waits
     * instead of backing off, and gets the mutex.
     */
    @Test
    void woundWaitWoundOfAWounderThatLeftIsDropped() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        WwMutex own = new WwMutex(cls);
        WwMutex x = new WwMutex(cls);
        try (Actor old = new Actor("old"); Actor older = new Actor("older"); Actor young = new Actor("young");
                Actor h = new Actor("h")) {
            AcquireContext co = old.call(cls::begin);
            AcquireContext c2 = older.call(cls::begin);
            AcquireContext cy = young.call(cls::begin);
            AcquireContext ch = h.call(cls::begin);
            young.call(() -> m.lockShared(cy));
            h.call(() -> x.lock(ch));
            Future<LockResult> waitsHoldingNothing = older.start(() -> m.lock(c2));
            awaitWaiters(m, 1);
            old.call(() -> own.lock(co));
            Future<LockResult> writer = old.start(() -> m.lockInterruptibly(co));
            Actor.await("the reader is wounded", cy::isWounded);
            old.thread.interrupt();
            assertThat(failureOf(writer)).isInstanceOf(InterruptedException.class);
            Future<LockResult> next = young.start(() -> x.lock(cy));
            Actor.await("the reader queues, or returns", () -> x.waiterCount() == 1 || next.isDone());
            assertThat(next.isDone()).as("waits for the holder instead of backing off").isFalse();
            h.run(ch::unlockAll);
            assertThat(next.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            assertThat(cy.backoffs()).isZero();
            young.run(cy::unlockAll);
            assertThat(waitsHoldingNothing.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.ACQUIRED);
            older.run(c2::unlockAll);
            old.run(co::unlockAll);
            old.run(co::close);
            older.run(c2::close);
            young.run(cy::close);
            h.run(ch::close);
        }
    }

    /**
     * A queued upgrade is granted only when its context is the only holder: a release that
     * leaves another reader grants nothing; the last one makes the context the writer.
     */
    @Test
    void upgradeWaitsUntilItsContextIsTheOnlyHolder() throws Exception {
        WwClass cls = wwClass(Algorithm.WOUND_WAIT);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Actor u = new Actor("u"); Actor r1 = new Actor("r1"); Actor r2 = new Actor("r2")) {
            AcquireContext cu = u.call(cls::begin);
            AcquireContext c1 = r1.call(cls::begin);
            AcquireContext c2 = r2.call(cls::begin);
            r1.call(() -> m.lockShared(c1));                  // the first reader in the list
            u.call(() -> m.lockShared(cu));
            r2.call(() -> m.lockShared(c2));
            Future<LockResult> upgrade = u.start(() -> m.lock(cu));
            awaitWaiters(m, 1);
            r1.run(c1::unlockAll);
            assertThat(m.isWriteLocked()).as("another reader is left").isFalse();
            assertThat(m.readerCount()).isEqualTo(2);
            assertThat(m.waiterCount()).isEqualTo(1);
            r2.run(c2::unlockAll);
            assertThat(m.isHeldExclusivelyBy(cu)).isTrue();
            assertThat(upgrade.get(PATIENCE_S, TimeUnit.SECONDS)).isEqualTo(LockResult.UPGRADED);
            assertThat(m.readerCount()).isZero();
            u.run(cu::unlockAll);
            u.run(cu::close);
            r1.run(c1::close);
            r2.run(c2::close);
        }
    }
}
