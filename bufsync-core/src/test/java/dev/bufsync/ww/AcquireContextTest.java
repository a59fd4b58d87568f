package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.ww.WwMisuseException.Rule;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Future;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link AcquireContext} bookkeeping. */
class AcquireContextTest {

    /**
     * The held list a closed context leaves to its thread's next context is bounded: a pooled
     * thread that once ran a transaction over many mutexes keeps at most a small array per class.
     */
    @Test
    void spareHeldListIsBounded() throws Exception {
        WwClass cls = WwClass.builder("spare").injectBackoff(false).build();
        List<WwMutex> many = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            many.add(new WwMutex(cls));
        }
        try (AcquireContext ctx = cls.begin()) {
            for (WwMutex m : many) {
                m.lock(ctx);
            }
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

    private static void assertMisuse(ThrowingCallable call, Rule rule, String inMessage) {
        assertThatThrownBy(call).isInstanceOf(WwMisuseException.class).hasMessageContaining(inMessage)
                .extracting(e -> ((WwMisuseException) e).rule()).isEqualTo(rule);
    }

    /**
     * A transferable context moves between threads with detach and attach; its mutexes then
     * show the new thread as owner (also in the JVM's own view, for thread dumps); two threads at
     * once, a detached use and a thread-bound move are misuses.
     */
    @Test
    void transferableMovesBetweenThreads() throws Exception {
        WwClass cls = WwClass.builder("transfer").injectBackoff(false).build();
        WwMutex m = new WwMutex(cls);
        AcquireContext ctx = cls.beginTransferable();
        assertThat(ctx.isTransferable()).isTrue();
        m.lock(ctx);
        try (Actor other = new Actor("other")) {
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
            assertMisuse(ctx::attach, Rule.CONCURRENT_USE, "attached to");
            assertMisuse(() -> other.run(() -> cls.beginTransferable()), Rule.TWO_CONTEXTS, "live");
            other.run(() -> {
                m.unlock();
                ctx.detach();
            });
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
}
