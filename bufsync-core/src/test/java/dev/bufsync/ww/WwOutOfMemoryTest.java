package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.ExhaustedHeap;
import dev.bufsync.ForkedJvm;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Out of memory, in the manner of OpenJDK's {@code OOMEInAQS}: a forked JVM with a small heap
 * fills it while platform threads of both algorithms lock and unlock with every lock form, with
 * and without a context, resolving back-offs with both slow forms, until each worker has done
 * some rounds on the full heap (or ten seconds passed); then frees the heap and checks that the
 * same mutexes still work: every worker finished, nothing is held, nobody is queued, no queue bit
 * is left set, mutual exclusion held throughout, and fresh threads lock each mutex with and
 * without a context. Platform threads only, as in OOMEInAQS: on an exhausted heap the JDK cannot
 * schedule a virtual thread (its unpark retries until memory returns, and a run here lost an
 * unparked virtual thread for good), whatever lock it waits for.
 */
class WwOutOfMemoryTest {

    @Test
    void everyLockFormSurvivesAnExhaustedHeap() throws Exception {
        ForkedJvm.Result r = ForkedJvm.run(Child.class, Duration.ofMinutes(3),
                List.of("-Xmx32m", "-XX:+UseSerialGC", "-Xss512k"));
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.output()).as("%s", r).contains("OK");
    }

    /** The child JVM. */
    static final class Child {
        private static final int MUTEXES = 3;              // per class
        private static final int OPS_AFTER_FILL = 20;      // per worker, with the heap exhausted,
        private static final long FULL_HEAP_NANOS = TimeUnit.SECONDS.toNanos(10);  // or this long
        private static final long WATCHDOG_NANOS = TimeUnit.SECONDS.toNanos(90);
        private static final Duration SHORT = Duration.ofMillis(2);
        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.privateLookupIn(QueuedMutex.class, MethodHandles.lookup())
                        .findVarHandle(QueuedMutex.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        static volatile Object data;
        static volatile boolean stop;
        static volatile boolean done;

        public static void main(String[] args) throws Exception {
            WwClass[] classes = {WwClass.builder("oom-ww").injectBackoff(false).build(),
                    WwClass.builder("oom-wd").algorithm(WwClass.Algorithm.WAIT_DIE).injectBackoff(false).build()};
            WwMutex[] mutexes = new WwMutex[classes.length * MUTEXES];
            for (int i = 0; i < mutexes.length; i++) {
                mutexes[i] = new WwMutex(classes[i / MUTEXES]);
            }
            AtomicIntegerArray inside = new AtomicIntegerArray(mutexes.length);
            Worker[] workers = new Worker[classes.length * 3];
            AtomicLongArray progress = new AtomicLongArray(workers.length);
            CountDownLatch warm = new CountDownLatch(workers.length);
            Thread[] threads = new Thread[workers.length];
            for (int w = 0; w < workers.length; w++) {
                int c = w / 3;
                workers[w] = new Worker(w, classes[c], mutexes, c * MUTEXES, inside, progress, warm);
                threads[w] = Thread.ofPlatform().daemon().name("oom-worker-" + w).unstarted(workers[w]);
            }
            Thread.ofPlatform().daemon().name("watchdog").start(() -> watch(mutexes, threads, workers));
            for (Thread t : threads) {
                t.start();
            }
            warm.await();
            long[] atFill = new long[workers.length];
            atFill[0] = progress.get(0);                       // link what runs on a full heap
            LockSupport.parkNanos(1L);
            atFill[0] = System.nanoTime();
            try {
                data = ExhaustedHeap.fill();
                for (int w = 0; w < workers.length; w++) {
                    atFill[w] = progress.get(w);
                }
                long fullUntil = System.nanoTime() + FULL_HEAP_NANOS;
                for (int w = 0; w < workers.length; w++) {
                    while (progress.get(w) < atFill[w] + OPS_AFTER_FILL && System.nanoTime() - fullUntil < 0) {
                        LockSupport.parkNanos(1_000_000L);
                    }
                }
            } catch (Throwable t) {
                data = null;
                t.printStackTrace(System.out);
                System.exit(3);
            }
            data = null;
            stop = true;
            for (Thread t : threads) {
                t.join();
            }
            System.gc();
            String failure = check(mutexes, inside, workers);
            done = true;
            if (failure != null) {
                System.out.println("FAILED: " + failure);
                System.exit(1);
            }
            long thrown = 0;
            for (Worker w : workers) {
                thrown += w.thrown;
            }
            System.out.println("OK: " + thrown + " throwables caught by workers, mutual exclusion held,"
                    + " every mutex works");
        }

        /** After the run: the same mutexes are free, unqueued, usable; exclusion was never broken. */
        static String check(WwMutex[] mutexes, AtomicIntegerArray inside, Worker[] workers) throws Exception {
            for (Worker w : workers) {
                if (w.violation != null) {
                    return w.violation;
                }
            }
            for (WwMutex m : mutexes) {
                int s = (int) STATE.getVolatile(m);
                if ((s & 1) != 0 || m.isLocked() || m.waiterCount() != 0) {
                    return m.describe() + " is left with state " + s + ", " + m;
                }
            }
            Thread t = Thread.ofPlatform().start(() -> {
                for (WwMutex m : mutexes) {
                    m.lock();
                    m.unlock();
                    try (AcquireContext ctx = m.wwClass().begin()) {
                        m.lock(ctx);
                        ctx.unlockAll();
                    } catch (BackoffException e) {
                        throw new AssertionError(e);
                    }
                }
            });
            t.join(TimeUnit.SECONDS.toMillis(30));
            return t.isAlive() ? "a fresh thread could not lock every mutex" : null;
        }

        /** Gives the heap back and reports the stuck state if the run does not end in time. */
        static void watch(WwMutex[] mutexes, Thread[] threads, Worker[] workers) {
            long deadline = System.nanoTime() + WATCHDOG_NANOS;
            while (!done && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(100_000_000L);
            }
            if (done) {
                return;
            }
            data = null;
            System.gc();
            StringBuilder sb = new StringBuilder("WEDGED after " + WATCHDOG_NANOS / 1_000_000_000L + " s\n");
            for (WwMutex m : mutexes) {
                sb.append(m.describe()).append(" state=").append((int) STATE.getVolatile(m))
                        .append(" locked=").append(m.isLocked()).append('\n');
            }
            for (Worker w : workers) {
                if (w.last != null) {
                    java.io.StringWriter trace = new java.io.StringWriter();
                    w.last.printStackTrace(new java.io.PrintWriter(trace));
                    sb.append("worker ").append(w.id).append(" last threw ").append(trace).append('\n');
                }
            }
            for (Thread t : threads) {
                sb.append(t).append(' ').append(t.getState()).append('\n');
                for (StackTraceElement e : t.getStackTrace()) {
                    sb.append("    at ").append(e).append('\n');
                }
            }
            System.out.println(sb);
            System.out.flush();
            Runtime.getRuntime().halt(2);
        }
    }

    /**
     * Locks two mutexes of its class with a context, then one without, cycling through every
     * form; after any throwable it releases whatever it holds, so that the run can go on.
     */
    static final class Worker implements Runnable {
        private final int id;
        private final WwClass cls;
        private final WwMutex[] mutexes;
        private final int base;
        private final AtomicIntegerArray inside;
        private final AtomicLongArray progress;
        private final CountDownLatch warm;
        private AcquireContext ctx;
        volatile long thrown;
        volatile Throwable last;                               // for the watchdog's report
        volatile String violation;

        Worker(int id, WwClass cls, WwMutex[] mutexes, int base, AtomicIntegerArray inside,
               AtomicLongArray progress, CountDownLatch warm) {
            this.id = id;
            this.cls = cls;
            this.mutexes = mutexes;
            this.base = base;
            this.inside = inside;
            this.progress = progress;
            this.warm = warm;
        }

        @Override
        public void run() {
            ctx = cls.begin();
            for (int i = 0; !Child.stop; i++) {
                try {
                    round(i);
                } catch (Throwable t) {
                    thrown++;
                    last = t;
                    repair();
                }
                progress.incrementAndGet(id);
                if (i == 64) {
                    warm.countDown();                          // every form ran at least once
                }
            }
            repair();
            ctx.close();
        }

        private void round(int i) throws Exception {
            int a = base + (i + id) % Child.MUTEXES;
            int b = base + (i + id + 1 + (i / 3) % (Child.MUTEXES - 1)) % Child.MUTEXES;
            try {
                lockWithContext(mutexes[a], i);
                lockWithContext(mutexes[b], i >> 2);
                critical(a);
                critical(b);
            } catch (BackoffException e) {
                ctx.unlockAll();
                if ((i & 1) == 0) {
                    e.mutex().lockSlow(ctx);
                } else {
                    e.mutex().lockSlowInterruptibly(ctx);
                }
            }
            ctx.unlockAll();
            int p = base + (i * 7 + id) % Child.MUTEXES;
            if (lockPlain(mutexes[p], i >> 4)) {
                critical(p);
                mutexes[p].unlock();
            }
        }

        private void lockWithContext(WwMutex m, int form) throws Exception {
            switch (form & 3) {
                case 0 -> m.lock(ctx);
                case 1 -> m.lockInterruptibly(ctx);
                case 2 -> m.tryLock(ctx);
                default -> m.tryLock(ctx, Child.SHORT);
            }
        }

        private boolean lockPlain(WwMutex m, int form) throws Exception {
            switch (form & 3) {
                case 0 -> m.lock();
                case 1 -> m.lockInterruptibly();
                case 2 -> {
                    return m.tryLock();
                }
                default -> {
                    return m.tryLock(Child.SHORT);
                }
            }
            return true;
        }

        private void critical(int idx) {
            if (!mutexes[idx].isHeldByCurrentThread()) {
                return;                                        // a tryLock that did not acquire
            }
            if (inside.getAndIncrement(idx) != 0) {
                violation = "mutual exclusion failure on mutex " + idx;
            }
            for (int k = 0; k < 50; k++) {
                Thread.onSpinWait();
            }
            inside.decrementAndGet(idx);
        }

        /** Releases everything, retrying until it succeeds (each step may meet the full heap). */
        private void repair() {
            for (;;) {
                try {
                    ctx.unlockAll();
                    WwMutex contended = ctx.contended();
                    if (contended != null) {
                        contended.lockSlow(ctx);
                        ctx.unlockAll();
                    }
                    for (int k = base; k < base + Child.MUTEXES; k++) {
                        if (mutexes[k].isHeldByCurrentThread()) {
                            mutexes[k].unlock();
                        }
                    }
                    return;
                } catch (Throwable t) {
                    thrown++;
                    last = t;
                    LockSupport.parkNanos(1_000_000L);
                }
            }
        }
    }
}
