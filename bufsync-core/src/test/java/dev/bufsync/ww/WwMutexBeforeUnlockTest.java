package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.ClassLayout;

/**
 * The before-unlock hook of {@link WwMutex#WwMutex(WwClass, Runnable)}: it runs exactly once per
 * release, on every release path, in the releasing thread while the mutex is still held and no
 * spin bit is held; a throwing hook still lets the mutex go.
 */
class WwMutexBeforeUnlockTest {

    private static WwClass wwClass() {
        return WwClass.builder("hook").injectBackoff(false).build();
    }

    /** A hook that records, at each run, whether its mutex was still held by the running thread. */
    private static final class Probe implements Runnable {
        final List<String> runs = new ArrayList<>();
        WwMutex mutex;
        RuntimeException toThrow;

        WwMutex attach(WwClass cls) {
            mutex = new WwMutex(cls, this);
            return mutex;
        }

        @Override
        public void run() {
            AcquireContext c = mutex.holderContext();
            runs.add("held=" + mutex.isHeldByCurrentThread()
                    + (c != null ? " inContext=" + c.heldLocks().contains(mutex) : "")
                    + " waiters=" + mutex.waiterCount());  // takes the queue bit: none may be held
            if (toThrow != null) {
                throw toThrow;
            }
        }
    }

    @Test
    void unlockWithContextRunsTheHookOnceWhileHeld() throws Exception {
        WwClass cls = wwClass();
        Probe p = new Probe();
        WwMutex m = p.attach(cls);
        try (AcquireContext ctx = cls.begin()) {
            m.lock(ctx);
            m.unlock();
            assertThat(p.runs).containsExactly("held=true inContext=true waiters=0");
            assertThat(m.isLocked()).isFalse();
        }
    }

    @Test
    void unlockWithoutContextRunsTheHookOnceWhileHeld() throws Exception {
        Probe p = new Probe();
        WwMutex m = p.attach(wwClass());
        m.lock();
        m.unlock();
        assertThat(m.tryLock()).isTrue();
        m.unlock();
        assertThat(p.runs).containsExactly("held=true waiters=0", "held=true waiters=0");
    }

    @Test
    void unlockAllAndCloseRunEachHookOnceWhileHeld() throws Exception {
        WwClass cls = wwClass();
        Probe a = new Probe();
        Probe b = new Probe();
        WwMutex ma = a.attach(cls);
        WwMutex mb = b.attach(cls);
        AcquireContext ctx = cls.begin();
        ma.lock(ctx);
        mb.lock(ctx);
        ctx.unlockAll();
        assertThat(a.runs).containsExactly("held=true inContext=true waiters=0");
        assertThat(b.runs).containsExactly("held=true inContext=true waiters=0");
        ma.lock(ctx);
        assertThatThrownBy(ctx::close).isInstanceOf(WwMisuseException.class);   // closed holding ma
        assertThat(a.runs).hasSize(2).allMatch(r -> r.equals("held=true inContext=true waiters=0"));
        assertThat(b.runs).hasSize(1);
        assertThat(ma.isLocked()).isFalse();
    }

    @Test
    void injectedBackoffReleaseRunsTheHookOnce() throws Exception {
        WwClass cls = WwClass.builder("hook-inject").injectBackoff(true).firstStamp(0).build();
        Probe p = new Probe();
        WwMutex first = new WwMutex(cls);
        WwMutex m = p.attach(cls);
        try (AcquireContext ctx = cls.begin()) {                // stamp 0: the second lock injects
            first.lock(ctx);
            assertThatThrownBy(() -> m.lock(ctx)).isInstanceOf(BackoffException.class);
            assertThat(p.runs).containsExactly("held=true inContext=true waiters=0");
            assertThat(m.isLocked()).isFalse();
            ctx.unlockAll();
        }
    }

    @Test
    void hookSeesQueuedWaiterAndHandsOverAfterwards() throws Exception {
        WwClass cls = wwClass();
        Probe p = new Probe();
        WwMutex m = p.attach(cls);
        try (Actor waiter = new Actor("waiter")) {
            m.lock();
            var queued = waiter.start(() -> {
                m.lock();
                m.unlock();
                return null;
            });
            Actor.awaitWaiters(m, 1);
            m.unlock();
            queued.get();
        }
        assertThat(p.runs).containsExactly("held=true waiters=1", "held=true waiters=0");
    }

    @Test
    void throwingHookStillReleasesOnUnlock() throws Exception {
        WwClass cls = wwClass();
        Probe p = new Probe();
        WwMutex m = p.attach(cls);
        p.toThrow = new IllegalStateException("hook");
        m.lock();
        assertThatThrownBy(m::unlock).isSameAs(p.toThrow);
        assertThat(m.isLocked()).isFalse();
        m.lock();                                   // not MIXED_LOCKING: the plain count went down
        assertThatThrownBy(m::unlock).isSameAs(p.toThrow);
        try (Actor other = new Actor("other")) {
            assertThat(other.<Boolean>call(m::tryLock)).isTrue();
        }
    }

    @Test
    void throwingHooksStillReleaseEverythingOnUnlockAllAndClose() throws Exception {
        WwClass cls = wwClass();
        Probe a = new Probe();
        Probe b = new Probe();
        Probe c = new Probe();
        WwMutex ma = a.attach(cls);
        WwMutex mb = b.attach(cls);
        WwMutex mc = c.attach(cls);
        a.toThrow = new IllegalStateException("a");
        c.toThrow = new IllegalStateException("c");
        AcquireContext ctx = cls.begin();
        ma.lock(ctx);
        mb.lock(ctx);
        mc.lock(ctx);
        assertThatThrownBy(ctx::unlockAll).isSameAs(c.toThrow)   // newest first: c, then b, then a
                .satisfies(t -> assertThat(t.getSuppressed()).containsExactly(a.toThrow));
        assertThat(ctx.heldCount()).isZero();
        assertThat(List.of(ma, mb, mc)).noneMatch(WwMutex::isLocked);
        assertThat(List.of(a.runs, b.runs, c.runs)).allMatch(r -> r.size() == 1);

        ma.lock(ctx);
        assertThatThrownBy(ctx::close).isSameAs(a.toThrow);
        assertThat(ctx.isClosed()).isTrue();
        assertThat(ma.isLocked()).isFalse();
        try (AcquireContext next = cls.begin()) {               // the thread's context slot is free
            assertThat(ma.lock(next)).isEqualTo(LockResult.ACQUIRED);
            a.toThrow = null;
            next.unlockAll();
        }
    }

    /** The hook costs no field: a mutex with or without one is at most 32 bytes. */
    @Test
    void mutexStaysWithin32Bytes() {
        assertThat(ClassLayout.parseClass(WwMutex.class).instanceSize()).isLessThanOrEqualTo(32);
    }
}
