package dev.bufsync.bench;

import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import dev.bufsync.ww.WwSharedMutex;
import dev.bufsync.ww.WwStats;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A way to lock a set of locks drawn from one pool without deadlock: the unit the lock-set
 * benchmarks compare. Each strategy owns a pool of {@code n} locks addressed by index and hands
 * out one {@link Locker} per thread, so a benchmark body is the same for every strategy:
 * {@code lockAll(ids) ... unlockAll()}.
 *
 * <p>The strategies, by their benchmark names (kept stable so that results compare over time):
 * <ul>
 *   <li>{@code global}: one {@link ReentrantLock} for the whole pool; the set is ignored.
 *   <li>{@code ordered}: one {@code ReentrantLock} per lock, taken in ascending index order
 *       (Dijkstra's resource ordering; Folly's {@code acquireLocked} orders by address). It needs
 *       the whole set before the first lock, which bufsync's callers do not have.
 *   <li>{@code smart-polite}: the C++ {@code std::lock} of libc++ (Hinnant, "Dining Philosophers
 *       Rebooted", 2014; Folly's {@code folly::lock}): lock one, try-lock the rest in turn; on a
 *       failure release all, {@link Thread#yield()}, and start again by blocking on the lock whose
 *       try-lock failed.
 *   <li>{@code persistent}: the same without the yield and without the reordering: always block
 *       on the first lock of the request, try the rest, release all on a failure, repeat.
 *   <li>{@code no-wait}: try-lock all; on any failure release all and retry after a random pause
 *       of up to {@value #NO_WAIT_PAUSE_NANOS} ns (DBx1000's NO_WAIT with its
 *       {@code ABORT_PENALTY}, "Staring into the Abyss", 2014).
 *   <li>{@code wound-wait}, {@code wait-die}: bufsync's {@link WwMutex}es; each {@code lockAll}
 *       is one {@link AcquireContext} running the documented back-off loop (unlock all, then
 *       {@code lockSlow} the contended mutex, then retry).
 *   <li>{@code wound-wait-polite}, {@code wait-die-polite} ({@link #POLITE}, not run by default):
 *       the same with polite waiting on ({@link WwClass.Builder#politeBackoffs(int)}, at most
 *       {@value #POLITE_BACKOFFS} per transaction), chosen with JMH's {@code -p strategy=...}.
 * </ul>
 *
 * <p>Strategies with a shared mode, for {@link Locker#lockAll(int[], int, int)} ({@link #SHARED}):
 * <ul>
 *   <li>{@code no-wait-rw}: {@code no-wait} over {@link ReentrantReadWriteLock}s, try-locking the
 *       read lock of what is only read (DBx1000's NO_WAIT with its shared locks).
 *   <li>{@code wound-wait-shared}, {@code wait-die-shared}: bufsync's {@link WwSharedMutex}es,
 *       taken shared for reads, with the same back-off loop (the contended lock slow-locked in
 *       the mode that backed off).
 * </ul>
 *
 * <p>All {@code ReentrantLock}s are non-fair, like the C++ {@code std::mutex} the published
 * figures used. Strategies are thread-safe; lockers are not.
 */
public abstract class LockStrategy {
    /*
     * Overview.
     *
     * A strategy is immutable after construction (its pool is a final array of locks); lockers
     * keep per-thread scratch state (what they hold, their counters) in plain fields, read by
     * other threads only after the benchmark's crew has finished a round (the crew's barrier
     * orders those reads).
     */

    /** Strategy names, exactly as results report them. */
    public static final String GLOBAL = "global", ORDERED = "ordered", SMART_POLITE = "smart-polite",
            PERSISTENT = "persistent", NO_WAIT = "no-wait", WOUND_WAIT = "wound-wait",
            WAIT_DIE = "wait-die";

    /** Every strategy name, baselines first. */
    public static final List<String> NAMES = List.of(GLOBAL, ORDERED, SMART_POLITE, PERSISTENT,
            NO_WAIT, WOUND_WAIT, WAIT_DIE);

    /** Names of the polite variants. */
    public static final String WOUND_WAIT_POLITE = "wound-wait-polite", WAIT_DIE_POLITE = "wait-die-polite";

    /** The polite variants of wound-wait and wait-die, which no benchmark runs by default. */
    public static final List<String> POLITE = List.of(WOUND_WAIT_POLITE, WAIT_DIE_POLITE);

    /** The bound on polite back-offs per transaction of the polite variants. */
    public static final int POLITE_BACKOFFS = 8;

    /** Names of the strategies with a shared mode. */
    public static final String NO_WAIT_RW = "no-wait-rw", WOUND_WAIT_SHARED = "wound-wait-shared",
            WAIT_DIE_SHARED = "wait-die-shared";

    /** The strategies with a shared mode, baseline first. */
    public static final List<String> SHARED = List.of(NO_WAIT_RW, WOUND_WAIT_SHARED, WAIT_DIE_SHARED);

    /** The longest pause of {@code no-wait} before a retry (DBx1000's ABORT_PENALTY, 100 µs). */
    public static final long NO_WAIT_PAUSE_NANOS = 100_000;

    private final String name;

    private LockStrategy(String name) {
        this.name = name;
    }

    /**
     * Makes a strategy with a pool of {@code locks} locks.
     *
     * @param name one of {@link #NAMES}, {@link #POLITE} or {@link #SHARED}
     * @param locks the pool size
     * @return the strategy
     * @throws IllegalArgumentException for an unknown name
     */
    public static LockStrategy create(String name, int locks) {
        return switch (name) {
            case GLOBAL -> new Global();
            case ORDERED -> new Ordered(locks);
            case SMART_POLITE -> new TryAndBackOff(SMART_POLITE, locks, true);
            case PERSISTENT -> new TryAndBackOff(PERSISTENT, locks, false);
            case NO_WAIT -> new NoWait(locks);
            case WOUND_WAIT -> new WoundWait(WOUND_WAIT, locks, WwClass.Algorithm.WOUND_WAIT);
            case WAIT_DIE -> new WoundWait(WAIT_DIE, locks, WwClass.Algorithm.WAIT_DIE);
            case WOUND_WAIT_POLITE -> new WoundWait(WOUND_WAIT_POLITE, locks, WwClass.Algorithm.WOUND_WAIT,
                    POLITE_BACKOFFS);
            case WAIT_DIE_POLITE -> new WoundWait(WAIT_DIE_POLITE, locks, WwClass.Algorithm.WAIT_DIE,
                    POLITE_BACKOFFS);
            case NO_WAIT_RW -> new NoWaitRw(locks);
            case WOUND_WAIT_SHARED -> new WoundWaitShared(WOUND_WAIT_SHARED, locks, WwClass.Algorithm.WOUND_WAIT);
            case WAIT_DIE_SHARED -> new WoundWaitShared(WAIT_DIE_SHARED, locks, WwClass.Algorithm.WAIT_DIE);
            default -> throw new IllegalArgumentException("unknown strategy '" + name
                    + "'; known: " + NAMES + ", " + POLITE + " and " + SHARED);
        };
    }

    /**
     * The strategy's name, as given to {@link #create}.
     *
     * @return the name
     */
    public final String name() {
        return name;
    }

    /**
     * Tells whether the strategy locks in ascending id order, so that a workload generated ahead
     * of time may hand it sorted sets (as a caller who knows the order would).
     *
     * @return {@code true} for {@code ordered}
     */
    public boolean locksInIdOrder() {
        return false;
    }

    /**
     * The counters of the strategy's {@link WwClass}, for the wound/wait strategies.
     *
     * @return the class's counters, or {@code null} for the baselines
     */
    public WwStats wwStats() {
        return null;
    }

    /**
     * A locker for one thread.
     *
     * @param seed seeds the locker's random choices (only {@code no-wait} makes any)
     * @return a new locker
     */
    public abstract Locker newLocker(long seed);

    @Override
    public String toString() {
        return name;
    }

    private static ReentrantLock[] pool(int n) {
        ReentrantLock[] locks = new ReentrantLock[n];
        for (int i = 0; i < n; i++) {
            locks[i] = new ReentrantLock();
        }
        return locks;
    }

    /** A locker of {@code ReentrantLock}s that remembers what it holds, to release it. */
    private abstract static class HoldingLocker implements Locker {
        final ReentrantLock[] locks;
        int[] held = new int[4];            // owner only: indices into locks, in locking order
        int heldCount;                      // owner only
        long rollbacks;                     // owner only

        HoldingLocker(ReentrantLock[] locks) {
            this.locks = locks;
        }

        final void hold(int id) {
            if (heldCount == held.length) {
                held = java.util.Arrays.copyOf(held, heldCount * 2);
            }
            held[heldCount++] = id;
        }

        @Override
        public final void unlockAll() {
            for (int i = heldCount - 1; i >= 0; i--) {
                locks[held[i]].unlock();
            }
            heldCount = 0;
        }

        @Override
        public final long rollbacks() {
            return rollbacks;
        }
    }

    // ------------------------------------------------------------ global

    private static final class Global extends LockStrategy {
        private final ReentrantLock lock = new ReentrantLock();

        Global() {
            super(GLOBAL);
        }

        @Override
        public Locker newLocker(long seed) {
            return new Locker() {
                @Override
                public void lockAll(int[] ids, int n) {
                    lock.lock();
                }

                @Override
                public void unlockAll() {
                    lock.unlock();
                }

                @Override
                public long rollbacks() {
                    return 0;
                }
            };
        }
    }

    // ------------------------------------------------------------ ordered

    private static final class Ordered extends LockStrategy {
        private final ReentrantLock[] locks;

        Ordered(int n) {
            super(ORDERED);
            this.locks = pool(n);
        }

        @Override
        public boolean locksInIdOrder() {
            return true;
        }

        @Override
        public Locker newLocker(long seed) {
            return new HoldingLocker(locks) {
                @Override
                public void lockAll(int[] ids, int n) {
                    heldCount = 0;
                    for (int i = 0; i < n; i++) {
                        insertSorted(ids[i]);
                    }
                    for (int i = 0; i < n; i++) {
                        locks[held[i]].lock();
                    }
                }

                /** Insertion sort into held: O(n) per set when the set comes sorted already. */
                private void insertSorted(int id) {
                    hold(id);
                    int i = heldCount - 1;
                    while (i > 0 && held[i - 1] > id) {
                        held[i] = held[i - 1];
                        i--;
                    }
                    held[i] = id;
                }
            };
        }
    }

    // ------------------------------------------------------------ smart-polite, persistent

    private static final class TryAndBackOff extends LockStrategy {
        private final ReentrantLock[] locks;
        private final boolean smartPolite;

        TryAndBackOff(String name, int n, boolean smartPolite) {
            super(name);
            this.locks = pool(n);
            this.smartPolite = smartPolite;
        }

        @Override
        public Locker newLocker(long seed) {
            return new HoldingLocker(locks) {
                @Override
                public void lockAll(int[] ids, int n) {
                    int first = 0;
                    for (;;) {
                        heldCount = 0;
                        locks[ids[first]].lock();
                        hold(ids[first]);
                        int failed = tryRest(ids, n, first);
                        if (failed < 0) {
                            return;
                        }
                        unlockAll();
                        rollbacks++;
                        if (smartPolite) {
                            Thread.yield();
                            first = failed;
                        }
                    }
                }

                /** Try-locks ids after {@code first}, wrapping; the failed position, or -1. */
                private int tryRest(int[] ids, int n, int first) {
                    for (int k = 1; k < n; k++) {
                        int i = first + k < n ? first + k : first + k - n;
                        if (!locks[ids[i]].tryLock()) {
                            return i;
                        }
                        hold(ids[i]);
                    }
                    return -1;
                }
            };
        }
    }

    // ------------------------------------------------------------ no-wait

    private static final class NoWait extends LockStrategy {
        private final ReentrantLock[] locks;

        NoWait(int n) {
            super(NO_WAIT);
            this.locks = pool(n);
        }

        @Override
        public Locker newLocker(long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            return new HoldingLocker(locks) {
                @Override
                public void lockAll(int[] ids, int n) {
                    while (!tryAll(ids, n)) {
                        unlockAll();
                        rollbacks++;
                        LockSupport.parkNanos(1 + random.nextLong(NO_WAIT_PAUSE_NANOS));
                    }
                }

                private boolean tryAll(int[] ids, int n) {
                    heldCount = 0;
                    for (int i = 0; i < n; i++) {
                        if (!locks[ids[i]].tryLock()) {
                            return false;
                        }
                        hold(ids[i]);
                    }
                    return true;
                }
            };
        }
    }

    // ------------------------------------------------------------ wound-wait, wait-die

    private static final class WoundWait extends LockStrategy {
        private final WwClass wwClass;
        private final WwMutex[] mutexes;

        WoundWait(String name, int n, WwClass.Algorithm algorithm) {
            this(name, n, algorithm, 0);
        }

        WoundWait(String name, int n, WwClass.Algorithm algorithm, int politeBackoffs) {
            super(name);
            this.wwClass = WwClass.builder("bench-" + name).algorithm(algorithm)
                    .injectBackoff(false).politeBackoffs(politeBackoffs).build();
            this.mutexes = new WwMutex[n];
            for (int i = 0; i < n; i++) {
                mutexes[i] = new WwMutex(wwClass);
            }
        }

        @Override
        public WwStats wwStats() {
            return wwClass.stats();
        }

        @Override
        public Locker newLocker(long seed) {
            return new Locker() {
                private AcquireContext ctx;          // owner only: the open transaction
                private long rollbacks;              // owner only

                @Override
                public void lockAll(int[] ids, int n) {
                    AcquireContext c = wwClass.begin();
                    ctx = c;
                    WwMutex contended = null;
                    for (;;) {
                        try {
                            if (contended != null) {
                                contended.lockSlow(c);
                            }
                            for (int i = 0; i < n; i++) {
                                mutexes[ids[i]].lock(c);
                            }
                            return;
                        } catch (BackoffException e) {
                            c.unlockAll();
                            contended = e.mutex();
                            rollbacks++;
                        }
                    }
                }

                @Override
                public void unlockAll() {
                    ctx.unlockAll();
                    ctx.close();
                    ctx = null;
                }

                @Override
                public long rollbacks() {
                    return rollbacks;
                }
            };
        }
    }

    // ------------------------------------------------------------ no-wait-rw

    private static final class NoWaitRw extends LockStrategy {
        private final ReentrantReadWriteLock[] locks;

        NoWaitRw(int n) {
            super(NO_WAIT_RW);
            this.locks = new ReentrantReadWriteLock[n];
            for (int i = 0; i < n; i++) {
                locks[i] = new ReentrantReadWriteLock();
            }
        }

        @Override
        public Locker newLocker(long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            return new Locker() {
                private Lock[] held = new Lock[4];  // owner only: the read or write locks taken
                private int heldCount;              // owner only
                private long rollbacks;             // owner only

                @Override
                public void lockAll(int[] ids, int n) {
                    lockAll(ids, n, 0);
                }

                @Override
                public void lockAll(int[] ids, int n, int sharedMask) {
                    if (held.length < n) {
                        held = new Lock[n];
                    }
                    while (!tryAll(ids, n, sharedMask)) {
                        unlockAll();
                        rollbacks++;
                        LockSupport.parkNanos(1 + random.nextLong(NO_WAIT_PAUSE_NANOS));
                    }
                }

                private boolean tryAll(int[] ids, int n, int sharedMask) {
                    heldCount = 0;
                    for (int i = 0; i < n; i++) {
                        ReentrantReadWriteLock rw = locks[ids[i]];
                        Lock l = (sharedMask & (1 << i)) != 0 ? rw.readLock() : rw.writeLock();
                        if (!l.tryLock()) {
                            return false;
                        }
                        held[heldCount++] = l;
                    }
                    return true;
                }

                @Override
                public void unlockAll() {
                    for (int i = heldCount - 1; i >= 0; i--) {
                        held[i].unlock();
                    }
                    heldCount = 0;
                }

                @Override
                public long rollbacks() {
                    return rollbacks;
                }
            };
        }
    }

    // ------------------------------------------------------------ wound-wait-shared, wait-die-shared

    private static final class WoundWaitShared extends LockStrategy {
        private final WwClass wwClass;
        private final WwSharedMutex[] locks;

        WoundWaitShared(String name, int n, WwClass.Algorithm algorithm) {
            super(name);
            this.wwClass = WwClass.builder("bench-" + name).algorithm(algorithm)
                    .injectBackoff(false).build();
            this.locks = new WwSharedMutex[n];
            for (int i = 0; i < n; i++) {
                locks[i] = new WwSharedMutex(wwClass);
            }
        }

        @Override
        public WwStats wwStats() {
            return wwClass.stats();
        }

        @Override
        public Locker newLocker(long seed) {
            return new Locker() {
                private AcquireContext ctx;          // owner only: the open transaction
                private long rollbacks;              // owner only

                @Override
                public void lockAll(int[] ids, int n) {
                    lockAll(ids, n, 0);
                }

                @Override
                public void lockAll(int[] ids, int n, int sharedMask) {
                    AcquireContext c = wwClass.begin();
                    ctx = c;
                    BackoffException contended = null;
                    for (;;) {
                        try {
                            if (contended != null && contended.shared()) {
                                contended.sharedMutex().lockSharedSlow(c);
                            } else if (contended != null) {
                                contended.sharedMutex().lockSlow(c);
                            }
                            for (int i = 0; i < n; i++) {
                                if ((sharedMask & (1 << i)) != 0) {
                                    locks[ids[i]].lockShared(c);
                                } else {
                                    locks[ids[i]].lock(c);
                                }
                            }
                            return;
                        } catch (BackoffException e) {
                            c.unlockAll();
                            contended = e;
                            rollbacks++;
                        }
                    }
                }

                @Override
                public void unlockAll() {
                    ctx.unlockAll();
                    ctx.close();
                    ctx = null;
                }

                @Override
                public long rollbacks() {
                    return rollbacks;
                }
            };
        }
    }
}
