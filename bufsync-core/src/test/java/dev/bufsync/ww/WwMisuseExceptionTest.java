package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwClass.Algorithm;
import dev.bufsync.ww.WwMisuseException.Rule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The misuse matrix: every case of the kernel's locking-selftest {@code ww_tests()} that must
 * fail (and the ones that must succeed beside them), plus the Java-only rules. Each negative test
 * asserts the rule, that the message names the mutex or context, and that nothing stays locked.
 */
class WwMisuseExceptionTest {
    private WwClass cls;
    private final List<WwMutex> mutexes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        cls = WwClass.builder("misuse").algorithm(Algorithm.WAIT_DIE).injectBackoff(false).build();
    }

    private WwMutex mutex() {
        WwMutex m = new WwMutex(cls);
        mutexes.add(m);
        return m;
    }

    @AfterEach
    void nothingStaysLocked() {
        for (WwMutex m : mutexes) {
            assertThat(m.isLocked()).as("%s stays locked", m).isFalse();
        }
    }

    private static void assertMisuse(Rule rule, ThrowingCallable call, String... named) {
        var t = assertThatThrownBy(call).isInstanceOf(WwMisuseException.class)
                .satisfies(e -> assertThat(((WwMisuseException) e).rule()).isEqualTo(rule))
                .hasMessageContaining(rule.name());
        for (String n : named) {
            t.hasMessageContaining(n);
        }
    }

    private static String name(WwMutex m) {
        return m.describe();
    }

    private static String name(AcquireContext ctx) {
        return "#" + ctx.stamp();
    }

    /**
     * Drives {@code ctx} into a back-off with injection (algorithm-independent), leaving it holding
     * at least one lock with the contended mutex returned.
     */
    private BackoffException forceBackoff(AcquireContext ctx) throws Exception {
        ctx.injectBackoff(true);
        mutex().lock(ctx);
        for (int i = 0; i < 32; i++) {
            try {
                mutex().lock(ctx);
            } catch (BackoffException e) {
                ctx.injectBackoff(false);
                assertThat(ctx.heldCount()).isPositive();
                return e;
            }
        }
        throw new AssertionError("no injected back-off within 32 locks");
    }

    // ---------------------------------------------------------------- ww api failures

    /** ww_test_fail_acquire (SUCCESS): ALREADY on relock; trylock of a held mutex fails. */
    @Test
    void failAcquireIsCleanApi() throws Exception {
        WwMutex o = mutex();
        try (AcquireContext t = cls.begin()) {
            assertThat(o.lock(t)).isEqualTo(LockResult.ACQUIRED);
            assertThat(o.lock(t)).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(o.tryLock()).isFalse();
            o.unlock();
            assertThat(o.tryLock()).isTrue();
            o.unlock();
        }
    }

    /** ww_test_normal (SUCCESS): the plain API never involves a context. */
    @Test
    void plainApiNeverTouchesAContext() throws Exception {
        WwMutex o = mutex();
        o.lock();
        assertThat(o.holderContext()).isNull();
        o.unlock();
        o.lockInterruptibly();
        o.unlock();
        assertThat(o.tryLock()).isTrue();
        assertThat(o.tryLock()).isFalse();
        o.unlock();
        assertThat(o.tryLock(Duration.ofMillis(1))).isTrue();
        o.unlock();
    }

    /** ww_test_unneeded_slow (FAILURE): lockSlow without a back-off. */
    @Test
    void unneededSlow() {
        WwMutex o = mutex();
        try (AcquireContext t = cls.begin()) {
            assertMisuse(Rule.SLOW_WITHOUT_BACKOFF, () -> o.lockSlow(t), name(o), name(t));
            assertMisuse(Rule.SLOW_WITHOUT_BACKOFF, () -> o.lockSlowInterruptibly(t), name(o));
        }
    }

    // ---------------------------------------------------------------- ww contexts mixing

    /** ww_test_two_contexts (FAILURE): two live contexts of one class on one thread. */
    @Test
    void twoContexts() {
        try (AcquireContext t = cls.begin()) {
            assertMisuse(Rule.TWO_CONTEXTS, cls::begin, name(t), "misuse");
        }
        // Contexts of different classes may nest.
        try (AcquireContext t = cls.begin(); AcquireContext u = WwClass.waitDie("other").begin()) {
            assertThat(u.stamp()).isPositive();
        }
    }

    /** ww_test_diff_class (FAILURE): a context used with a mutex of another class. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void diffClass(Algorithm algorithm) {
        WwMutex o = new WwMutex(WwClass.builder("foreign").algorithm(algorithm).build());
        try (AcquireContext t = cls.begin()) {
            assertMisuse(Rule.WRONG_CLASS, () -> o.lock(t), name(o), name(t), "foreign");
            assertMisuse(Rule.WRONG_CLASS, () -> o.tryLock(t), name(o));
        }
        assertThat(o.isLocked()).isFalse();
    }

    // ---------------------------------------------------------------- finishing ww context

    /** ww_test_context_done_twice (FAILURE). */
    @Test
    void contextDoneTwice() {
        try (AcquireContext t = cls.begin()) {
            t.acquireDone();
            assertMisuse(Rule.DONE_TWICE, t::acquireDone, name(t));
        }
    }

    /**
     * ww_test_context_unlock_twice: the kernel calls a second fini a failure; here close is
     * idempotent (AutoCloseable's advice), and any other use of the closed context is the misuse.
     */
    @Test
    void contextClosedTwice() {
        AcquireContext t = cls.begin();
        t.close();
        t.close();
        assertThat(t.isClosed()).isTrue();
        assertMisuse(Rule.CONTEXT_CLOSED, t::acquireDone, name(t));
        assertMisuse(Rule.CONTEXT_CLOSED, () -> mutex().lock(t), name(t));
    }

    /** ww_test_context_fini_early (FAILURE): close while holding a lock; the lock is released. */
    @Test
    void contextFiniEarly() throws Exception {
        WwMutex o = mutex();
        AcquireContext t = cls.begin();
        o.lock(t);
        t.acquireDone();
        assertMisuse(Rule.CLOSE_WITH_LOCKS_HELD, t::close, name(o), name(t));
        assertThat(t.isClosed()).isTrue();
        // The thread may begin a new context: the failed close still ended this one.
        try (AcquireContext again = cls.begin()) {
            assertThat(o.lock(again)).isEqualTo(LockResult.ACQUIRED);
            o.unlock();
        }
    }

    /** ww_test_context_lock_after_done (FAILURE). */
    @Test
    void contextLockAfterDone() {
        WwMutex o = mutex();
        try (AcquireContext t = cls.begin()) {
            t.acquireDone();
            assertMisuse(Rule.LOCK_AFTER_DONE, () -> o.lock(t), name(o), name(t));
            assertMisuse(Rule.LOCK_AFTER_DONE, () -> o.tryLock(t), name(o));
            assertMisuse(Rule.LOCK_AFTER_DONE, () -> o.tryLock(t, Duration.ZERO), name(o));
        }
    }

    /** Any use of a closed context. */
    @Test
    void closedContextIsUnusable() {
        WwMutex o = mutex();
        AcquireContext t = cls.begin();
        t.close();
        assertMisuse(Rule.CONTEXT_CLOSED, () -> o.lock(t), name(t));
        assertMisuse(Rule.CONTEXT_CLOSED, () -> o.tryLock(t), name(t));
        assertMisuse(Rule.CONTEXT_CLOSED, t::acquireDone, name(t));
        assertMisuse(Rule.CONTEXT_CLOSED, t::unlockAll, name(t));
    }

    // ---------------------------------------------------------------- locking mismatches

    /** ww_test_object_unlock_twice (FAILURE). */
    @Test
    void objectUnlockTwice() {
        WwMutex o = mutex();
        o.lock();
        o.unlock();
        assertMisuse(Rule.UNLOCK_NOT_HELD, o::unlock, name(o));
    }

    /** Unlock of a mutex held by another thread, with or without a context. */
    @Test
    void unlockForeign() throws Exception {
        WwMutex plain = mutex();
        WwMutex withCtx = mutex();
        try (Actor other = new Actor("other"); Actor third = new Actor("third")) {
            other.run(plain::lock);
            AcquireContext theirs = third.call(cls::begin);
            third.call(() -> withCtx.lock(theirs));
            assertMisuse(Rule.UNLOCK_FOREIGN, plain::unlock, name(plain), "other");
            assertMisuse(Rule.UNLOCK_FOREIGN, withCtx::unlock, name(withCtx), name(theirs));
            other.run(plain::unlock);
            third.run(theirs::unlockAll);
            third.run(theirs::close);
            assertThat(withCtx.isLocked()).isFalse();
        }
    }

    /** A context used or closed from another thread. */
    @Test
    void foreignThread() throws Exception {
        WwMutex o = mutex();
        try (AcquireContext t = cls.begin(); Actor other = new Actor("intruder")) {
            for (ThrowingCallable call : List.<ThrowingCallable>of(() -> o.lock(t), () -> o.tryLock(t),
                    t::acquireDone, t::close, t::unlockAll)) {
                Throwable thrown = other.call(() -> {
                    try {
                        call.call();
                        return null;
                    } catch (Throwable x) {
                        return x;
                    }
                });
                assertThat(thrown).isInstanceOf(WwMisuseException.class)
                        .hasMessageContaining("intruder").hasMessageContaining(name(t));
                assertThat(((WwMisuseException) thrown).rule()).isEqualTo(Rule.FOREIGN_THREAD);
            }
            assertThat(t.isClosed()).isFalse();
        }
    }

    /** A plain lock() of a mutex the thread holds would self-deadlock. */
    @Test
    void recursivePlainLock() {
        WwMutex o = mutex();
        o.lock();
        assertMisuse(Rule.RECURSIVE_LOCK, o::lock, name(o));
        o.unlock();
    }

    /**
     * A timed plain tryLock of a mutex the thread holds, without a context or through its own
     * context, could only time out: it is RECURSIVE_LOCK as lock() is. (The context forms answer
     * ALREADY_HELD for the holding context, the kernel's -EALREADY; the untimed tryLock() answers
     * false, as the kernel's trylock does.)
     */
    @Test
    void timedPlainTryLockOfAHeldMutex() throws Exception {
        WwMutex o = mutex();
        o.lock();
        assertMisuse(Rule.RECURSIVE_LOCK, () -> o.tryLock(Duration.ofMillis(1)), name(o));
        assertMisuse(Rule.RECURSIVE_LOCK, () -> o.tryLock(Duration.ZERO), name(o));
        assertThat(o.tryLock()).isFalse();
        o.unlock();
        try (AcquireContext t = cls.begin()) {
            o.lock(t);
            assertMisuse(Rule.RECURSIVE_LOCK, () -> o.tryLock(Duration.ofDays(1)), name(o), name(t));
            assertThat(o.tryLock(t, Duration.ofDays(1))).isEqualTo(LockResult.ALREADY_HELD);
            assertThat(o.tryLock()).isFalse();
            t.unlockAll();
        }
    }

    // ---------------------------------------------------------------- EDEADLK handling

    /** ww_test_edeadlk_normal (SUCCESS): unlock all, then lock the contended mutex normally. */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void edeadlkNormal(Algorithm algorithm) throws Exception {
        cls = WwClass.builder("misuse").algorithm(algorithm).build();
        try (AcquireContext t = cls.begin()) {
            BackoffException e = forceBackoff(t);
            assertThat(e.mutex().isLocked()).isFalse();
            t.unlockAll();
            assertThat(e.mutex().lock(t)).isEqualTo(LockResult.ACQUIRED);
            assertThat(t.contended()).isNull();
            t.unlockAll();
        }
    }

    /** ww_test_edeadlk_normal_slow (SUCCESS). */
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void edeadlkNormalSlow(Algorithm algorithm) throws Exception {
        cls = WwClass.builder("misuse").algorithm(algorithm).build();
        try (AcquireContext t = cls.begin()) {
            BackoffException e = forceBackoff(t);
            t.unlockAll();
            e.mutex().lockSlow(t);
            assertThat(e.mutex().isHeldBy(t)).isTrue();
            t.unlockAll();
        }
    }

    /** ww_test_edeadlk_no_unlock and _slow (FAILURE): relock while still holding others. */
    @Test
    void edeadlkNoUnlock() throws Exception {
        try (AcquireContext t = cls.begin()) {
            BackoffException e = forceBackoff(t);
            assertMisuse(Rule.LOCKS_HELD_AFTER_BACKOFF, () -> e.mutex().lock(t), name(e.mutex()), name(t));
            assertMisuse(Rule.LOCKS_HELD_AFTER_BACKOFF, () -> e.mutex().lockSlow(t), name(e.mutex()));
            assertThat(e.mutex().isLocked()).isFalse();
            t.unlockAll();
        }
    }

    /** ww_test_edeadlk_acquire_more, _slow, _edeadlk, _edeadlk_slow (FAILURE): lock a third mutex. */
    @Test
    void edeadlkAcquireMore() throws Exception {
        WwMutex o3 = mutex();
        try (AcquireContext t = cls.begin()) {
            forceBackoff(t);
            assertMisuse(Rule.LOCKS_HELD_AFTER_BACKOFF, () -> o3.lock(t), name(o3), name(t));
            assertMisuse(Rule.LOCKS_HELD_AFTER_BACKOFF, () -> o3.lockSlow(t), name(o3));
            assertMisuse(Rule.LOCKS_HELD_AFTER_BACKOFF, () -> o3.tryLock(t), name(o3));
            t.unlockAll();
        }
    }

    /** ww_test_edeadlk_acquire_wrong and _slow (FAILURE): unlock all, then lock another mutex. */
    @Test
    void edeadlkAcquireWrong() throws Exception {
        WwMutex o3 = mutex();
        try (AcquireContext t = cls.begin()) {
            BackoffException e = forceBackoff(t);
            t.unlockAll();
            assertMisuse(Rule.WRONG_MUTEX_AFTER_BACKOFF, () -> o3.lock(t), name(o3), name(e.mutex()));
            assertMisuse(Rule.WRONG_MUTEX_AFTER_BACKOFF, () -> o3.lockSlow(t), name(o3));
            assertMisuse(Rule.WRONG_MUTEX_AFTER_BACKOFF, () -> o3.tryLock(t, Duration.ZERO), name(o3));
            assertThat(o3.isLocked()).isFalse();
            // The context is still usable the right way.
            e.mutex().lockSlow(t);
            t.unlockAll();
        }
    }

    // ---------------------------------------------------------------- block / try / context matrix

    /** context then block (FAILURE). */
    @Test
    void contextThenBlock() throws Exception {
        WwMutex o = mutex();
        WwMutex o2 = mutex();
        try (AcquireContext t = cls.begin()) {
            o.lock(t);
            assertMisuse(Rule.MIXED_LOCKING, o2::lock, name(o2), name(t));
            t.unlockAll();
        }
    }

    /** context then try, context then context (SUCCESS). */
    @Test
    void contextThenTryOrContext() throws Exception {
        WwMutex o = mutex();
        WwMutex o2 = mutex();
        try (AcquireContext t = cls.begin()) {
            o.lock(t);
            assertThat(o2.tryLock()).isTrue();
            o2.unlock();
            assertThat(o2.lock(t)).isEqualTo(LockResult.ACQUIRED);
            t.unlockAll();
        }
    }

    /** try then block, try then context (FAILURE); try then try (SUCCESS). */
    @Test
    void tryThenAnything() throws Exception {
        WwMutex o = mutex();
        WwMutex o2 = mutex();
        assertThat(o.tryLock()).isTrue();
        assertMisuse(Rule.MIXED_LOCKING, o2::lock, name(o2));
        try (AcquireContext t = cls.begin()) {
            assertMisuse(Rule.MIXED_LOCKING, () -> o2.lock(t), name(o2), name(t));
            assertThat(o2.tryLock(t)).isEqualTo(LockResult.ACQUIRED);  // try after try is fine
            o2.unlock();
        }
        assertThat(o2.tryLock()).isTrue();
        o2.unlock();
        o.unlock();
    }

    /** block then block, block then context (FAILURE); block then try (SUCCESS). */
    @Test
    void blockThenAnything() throws Exception {
        WwMutex o = mutex();
        WwMutex o2 = mutex();
        o.lock();
        assertMisuse(Rule.MIXED_LOCKING, o2::lock, name(o2));
        try (AcquireContext t = cls.begin()) {
            assertMisuse(Rule.MIXED_LOCKING, () -> o2.lock(t), name(o2), name(t));
            assertMisuse(Rule.MIXED_LOCKING, () -> o2.lockInterruptibly(t), name(o2));
        }
        assertThat(o2.tryLock()).isTrue();
        o2.unlock();
        o.unlock();
        // Once nothing is held without a context, context locking is allowed again.
        try (AcquireContext t = cls.begin()) {
            assertThatCode(() -> o2.lock(t)).doesNotThrowAnyException();
            t.unlockAll();
        }
    }
}
