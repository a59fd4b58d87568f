package dev.bufsync.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwSharedMutex;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Exec} with readers-writer locks: objects taken shared and exclusively join one
 * transaction with reservations, back-offs on them are retried by the exec, duplicates and
 * upgrades are reported, and close releases both kinds.
 */
class ExecSharedLockTest {

    private record Obj(Reservation reservation) implements HasReservation {
    }

    private static WwClass wwClass(WwClass.Algorithm algorithm, boolean inject) {
        return WwClass.builder("exec-shared-" + algorithm).algorithm(algorithm).injectBackoff(inject).build();
    }

    /** Shared, exclusive and reservation locks in one exec; close releases every one of them. */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void sharedExclusiveAndReservationsInOneTransaction(WwClass.Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm, false);
        WwSharedMutex read = new WwSharedMutex(cls);
        WwSharedMutex write = new WwSharedMutex(cls);
        Obj obj = new Obj(new Reservation(cls, "obj"));
        AcquireContext ctx;
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                assertThat(e.lockShared(read)).isTrue();
                assertThat(e.lockExclusive(write)).isTrue();
                assertThat(e.lock(obj)).isTrue();
            });
            ctx = exec.context();
            assertThat(read.isHeldBy(ctx)).isTrue();
            assertThat(read.isHeldExclusivelyBy(ctx)).isFalse();
            assertThat(write.isHeldExclusivelyBy(ctx)).isTrue();
            assertThat(exec.lockedShared()).containsExactly(read, write);
            assertThat(exec.locked()).containsExactly(obj);
        }
        assertThat(read.readerCount()).isZero();
        assertThat(write.isWriteLocked()).isFalse();
        assertThat(obj.reservation().mutex().isLocked()).isFalse();
    }

    /** A second shared lock is a duplicate; an exclusive lock of a shared one is an upgrade. */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void duplicatesAndUpgrades(WwClass.Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm, false);
        WwSharedMutex m = new WwSharedMutex(cls);
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                e.lockShared(m);
                assertThatThrownBy(() -> e.lockShared(m)).isInstanceOf(ExecDuplicateException.class);
                assertThat(e.lockExclusive(m)).as("upgrade").isTrue();
                assertThatThrownBy(() -> e.lockExclusive(m)).isInstanceOf(ExecDuplicateException.class);
            });
            assertThat(m.isHeldExclusivelyBy(exec.context())).isTrue();
            assertThat(exec.lockedShared()).containsExactly(m);
        }
        assertThat(m.isWriteLocked()).isFalse();
        try (Exec exec = Exec.begin(Exec.Option.IGNORE_DUPLICATES)) {
            exec.untilAllLocked(e -> {
                assertThat(e.lockShared(m)).isTrue();
                assertThat(e.lockShared(m)).isFalse();
            });
        }
    }

    /**
     * Forty readers-writer locks taken in both modes by a class with back-off injection: the exec
     * retries every back-off (shared ones slow-locked shared) and ends holding all of them.
     */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void retriesBackoffsOnSharedLocks(WwClass.Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm, true);
        List<WwSharedMutex> locks = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            locks.add(new WwSharedMutex(cls));
        }
        try (Exec exec = Exec.begin()) {
            exec.untilAllLocked(e -> {
                for (int i = 0; i < locks.size(); i++) {
                    if (i % 2 == 0) {
                        e.lockShared(locks.get(i));
                    } else {
                        e.lockExclusive(locks.get(i));
                    }
                }
            });
            assertThat(exec.retries()).isPositive();
            for (int i = 0; i < locks.size(); i++) {
                assertThat(locks.get(i).isHeldExclusivelyBy(exec.context())).isEqualTo(i % 2 == 1);
                assertThat(locks.get(i).isHeldBy(exec.context())).isTrue();
            }
            assertThat(exec.lockedShared()).hasSize(40);
        }
        assertThat(locks).allSatisfy(m -> assertThat(m.readerCount() + (m.isWriteLocked() ? 1 : 0)).isZero());
    }

    /**
     * A real conflict: an older exec writes lock b while it waits for lock a, which a younger exec
     * reads; the younger exec is told to back off (wounded or killed), retries by itself, and both
     * complete.
     */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void readerWriterConflictIsRetried(WwClass.Algorithm algorithm) throws Exception {
        WwClass cls = wwClass(algorithm, false);
        WwSharedMutex a = new WwSharedMutex(cls);
        WwSharedMutex b = new WwSharedMutex(cls);
        CountDownLatch olderHoldsB = new CountDownLatch(1);
        CountDownLatch youngerReadsA = new CountDownLatch(1);
        AtomicReference<Throwable> olderFailure = new AtomicReference<>();
        Thread older;
        try (Exec young = Exec.begin()) {
            CountDownLatch begun = new CountDownLatch(1);
            older = Thread.ofPlatform().start(() -> {
                try (Exec exec = Exec.begin()) {
                    exec.untilAllLocked(e -> {
                        e.lockExclusive(b);
                        begun.countDown();
                        olderHoldsB.countDown();
                        youngerReadsA.await();
                        e.lockExclusive(a);
                    });
                } catch (Throwable t) {
                    olderFailure.set(t);
                }
            });
            assertThat(begun.await(20, TimeUnit.SECONDS)).isTrue();   // the older context began first
            young.untilAllLocked(e -> {
                e.lockShared(a);
                youngerReadsA.countDown();
                olderHoldsB.await();
                e.lockShared(b);
            });
            assertThat(young.retries()).isPositive();
        }
        older.join(20_000);
        assertThat(older.isAlive()).isFalse();
        assertThat(olderFailure.get()).isNull();
    }
}
