package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.check.CheckPolicy;
import dev.bufsync.check.Checker;
import dev.bufsync.check.PotentialDeadlockException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every lock form of {@link WwMutex} tells the dependency checker what it does: a blocking form
 * announces the order it is about to take (so a lock that closes a cycle of classes throws
 * before it blocks), every form records the lock it holds (so the locks taken under it add an
 * order), and every release forgets it. Each case uses two fresh classes, ordered first A before
 * B, and then takes A under B: that must throw under {@link CheckPolicy#THROW}.
 */
class WwMutexCheckerTest {
    private final List<WwClass> overridden = new ArrayList<>();

    /** A fresh class whose cycles throw (a per-class override: other classes stay unchecked). */
    private WwClass checked(String name) {
        WwClass cls = WwClass.builder(name).injectBackoff(false).build();
        Checker.setPolicy(cls, CheckPolicy.THROW);
        overridden.add(cls);
        return cls;
    }

    @AfterEach
    void removeOverrides() {
        overridden.forEach(c -> Checker.setPolicy(c, null));
    }

    /** Locks {@code m} in one of its forms; each returns with {@code m} held by this thread. */
    @FunctionalInterface
    private interface Form {
        void lock(WwMutex m, AcquireContext ctx) throws Exception;
    }

    private static final Map<String, Form> BLOCKING_FORMS = Map.of(
            "lock()", (m, ctx) -> m.lock(),
            "lockInterruptibly()", (m, ctx) -> m.lockInterruptibly(),
            "tryLock(1 day)", (m, ctx) -> assertThat(m.tryLock(Duration.ofDays(1))).isTrue(),
            "lock(ctx)", (m, ctx) -> m.lock(ctx),
            "lockInterruptibly(ctx)", (m, ctx) -> m.lockInterruptibly(ctx),
            "tryLock(ctx, 1 day)", (m, ctx) -> m.tryLock(ctx, Duration.ofDays(1)));

    private static final Map<String, Form> PLAIN_FORMS = Map.of(
            "lock()", (m, ctx) -> m.lock(),
            "lockInterruptibly()", (m, ctx) -> m.lockInterruptibly(),
            "tryLock()", (m, ctx) -> assertThat(m.tryLock()).isTrue(),
            "tryLock(0)", (m, ctx) -> assertThat(m.tryLock(Duration.ZERO)).isTrue(),
            "tryLock(1 day)", (m, ctx) -> assertThat(m.tryLock(Duration.ofDays(1))).isTrue());

    /** Records the order A before B with plain locks: a, then b under it. */
    private static void orderAThenB(WwMutex a, WwMutex b) {
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
    }

    /** Each blocking form announces its acquisition: taking A under B closes the cycle and throws. */
    @Test
    void everyBlockingFormAnnouncesTheOrderItTakes() throws Exception {
        for (var form : BLOCKING_FORMS.entrySet()) {
            WwClass classA = checked("a-" + form.getKey());
            WwMutex a = new WwMutex(classA);
            WwMutex b = new WwMutex(checked("b-" + form.getKey()));
            orderAThenB(a, b);
            b.lock();
            try (AcquireContext ctx = classA.begin()) {
                assertThatThrownBy(() -> form.getValue().lock(a, ctx)).as(form.getKey())
                        .isInstanceOf(PotentialDeadlockException.class);
                assertThat(a.isLocked()).as(form.getKey()).isFalse();
                assertThat(ctx.heldCount()).isZero();
            } finally {
                b.unlock();
            }
        }
    }

    /** Each plain form records the lock it holds: B taken under it adds A before B. */
    @Test
    void everyPlainFormRecordsTheLockItHolds() throws Exception {
        for (var form : PLAIN_FORMS.entrySet()) {
            WwMutex a = new WwMutex(checked("a-" + form.getKey()));
            WwMutex b = new WwMutex(checked("b-" + form.getKey()));
            form.getValue().lock(a, null);
            b.lock();
            b.unlock();
            a.unlock();
            b.lock();
            try {
                assertThatThrownBy(a::lock).as(form.getKey()).isInstanceOf(PotentialDeadlockException.class);
            } finally {
                b.unlock();
            }
        }
    }

    /** A released lock, with or without a context, is forgotten: what is locked after it adds no order. */
    @Test
    void aReleasedLockAddsNoOrder() throws Exception {
        WwClass classA = checked("a-released");
        WwMutex a = new WwMutex(classA);
        WwMutex b = new WwMutex(checked("b-released"));
        a.lock();
        a.unlock();
        try (AcquireContext ctx = classA.begin()) {
            a.lock(ctx);
            a.unlock();
        }
        b.lock();                                   // A is not held: no order A before B
        b.unlock();
        b.lock();
        try {
            a.lock();                               // so B before A closes no cycle
            a.unlock();
        } finally {
            b.unlock();
        }
    }
}
