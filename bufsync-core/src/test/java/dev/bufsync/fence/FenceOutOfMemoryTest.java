package dev.bufsync.fence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.ExhaustedHeap;
import dev.bufsync.ForkedJvm;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Out of memory, in the manner of OpenJDK's {@code OOMEInAQS}: a forked JVM with a small heap
 * fills it while threads (platform and virtual) create fences, register callbacks that allocate
 * (and so throw {@link OutOfMemoryError}, as does the default handler's logging), wait with a
 * timeout, and signal. Only platform threads' callbacks let the error escape to the handler: its
 * logging blocks on the JDK logger's monitors, and a virtual thread blocked on a monitor is
 * resumed by the JDK's "VirtualThread-unblocker" thread, which a full heap can kill (seen in CI:
 * the virtual workers then never ran again); a virtual thread's callback counts its error and
 * returns. Then the child frees the heap and checks that callbacks did run out of memory, that
 * every registered callback ran exactly once, no signal threw, no fence was left half-signalled,
 * and the same context still issues fences that work.
 */
class FenceOutOfMemoryTest {

    @Test
    void signallingSurvivesAnExhaustedHeap() throws Exception {
        ForkedJvm.Result r = ForkedJvm.run(Child.class, Duration.ofSeconds(150),   // under JUnit's 3 m
                List.of("-Xmx32m", "-XX:+UseSerialGC", "-Xss512k"));
        assertThat(r.exitCode()).as("%s", r).isZero();
        assertThat(r.output()).as("%s", r).contains("OK");
    }

    /** The child JVM. */
    static final class Child {
        private static final int WORKERS = 4;
        private static final int OPS_AFTER_FILL = 10;       // per worker, with the heap exhausted,
        /**
         * or this long, whichever comes first: on the full heap the default handler's logging
         * reloads the JDK's locale data (held by soft references) on every attempt, and one
         * operation can take a worker tens of seconds on a loaded machine.
         */
        private static final long FULL_HEAP_NANOS = TimeUnit.SECONDS.toNanos(20);
        private static final long WATCHDOG_NANOS = TimeUnit.SECONDS.toNanos(120);

        static volatile Object data;
        static volatile boolean stop;
        static volatile boolean done;
        static final AtomicLong registered = new AtomicLong();
        static final AtomicLong ran = new AtomicLong();
        static final AtomicLong signalFailures = new AtomicLong();
        static final AtomicLong pendingAfterSignal = new AtomicLong();
        static final AtomicLong callbacksOutOfMemory = new AtomicLong();

        /** A callback that allocates, so that it throws OutOfMemoryError on a full heap. */
        static final FenceCallback ALLOCATING = f -> {
            ran.incrementAndGet();
            try {
                data = new long[1 << 16];
            } catch (OutOfMemoryError e) {
                callbacksOutOfMemory.incrementAndGet();
                throw e;
            }
            data = null;
        };

        /** As {@link #ALLOCATING}, but the error stays in the callback (for virtual threads). */
        static final FenceCallback ALLOCATING_QUIETLY = f -> {
            try {
                ALLOCATING.onSignal(f);
            } catch (OutOfMemoryError counted) {
                // counted by ALLOCATING; kept from the handler's logging (see the class comment)
            }
        };

        public static void main(String[] args) throws Exception {
            FenceContext ctx = FenceContext.create("oom");
            AtomicLongArray progress = new AtomicLongArray(WORKERS);
            CountDownLatch warm = new CountDownLatch(WORKERS);
            Thread[] threads = new Thread[WORKERS];
            for (int w = 0; w < WORKERS; w++) {
                int me = w;
                boolean virtual = w % 2 == 1;
                threads[w] = (virtual ? Thread.ofVirtual() : Thread.ofPlatform().daemon())
                        .name("oom-worker-" + w).unstarted(() -> work(me, ctx, progress, warm, virtual));
            }
            Thread.ofPlatform().daemon().name("watchdog").start(() -> watch(threads));
            for (Thread t : threads) {
                t.start();
            }
            warm.await();
            Signaller logged = ctx.next();                   // initialise the handler's logging
            logged.fence().addCallback(f -> {
                throw new IllegalStateException("logged before the heap fills");
            });
            logged.signal();
            long[] atFill = new long[WORKERS];
            atFill[0] = progress.get(0);                       // link what runs on a full heap
            LockSupport.parkNanos(1L);
            try {
                data = ExhaustedHeap.fill();
                long filled = System.nanoTime();
                for (int w = 0; w < WORKERS; w++) {
                    atFill[w] = progress.get(w);
                }
                for (int w = 0; w < WORKERS; w++) {
                    while (progress.get(w) < atFill[w] + OPS_AFTER_FILL
                            && System.nanoTime() - filled < FULL_HEAP_NANOS) {
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
            String failure = check(ctx);
            done = true;
            if (failure != null) {
                System.out.println("FAILED: " + failure);
                System.exit(1);
            }
            System.out.println("OK: " + registered.get() + " callbacks registered and run once ("
                    + callbacksOutOfMemory.get() + " ran out of memory), every signal returned, the"
                    + " context still works");
        }

        /**
         * One round after another: create, register, wait a little (a virtual thread polls: its
         * timed park needs the JDK's unparker, which itself allocates), signal, check.
         */
        static void work(int me, FenceContext ctx, AtomicLongArray progress, CountDownLatch warm,
                boolean virtual) {
            Duration wait = virtual ? Duration.ZERO : Duration.ofNanos(1_000);
            boolean warmed = false;
            while (!stop) {
                Signaller s;
                try {
                    s = ctx.next();
                } catch (OutOfMemoryError noFence) {
                    progress.incrementAndGet(me);
                    continue;
                }
                try {
                    if (s.fence().addCallback(virtual ? ALLOCATING_QUIETLY : ALLOCATING)) {
                        registered.incrementAndGet();
                    }
                    s.fence().await(wait);
                } catch (Throwable notRegisteredOrNotWaited) {
                    // allocation failed before anything was registered
                }
                try {
                    s.signal();
                } catch (Throwable t) {
                    signalFailures.incrementAndGet();
                }
                if (!s.fence().isSignaled()) {
                    pendingAfterSignal.incrementAndGet();
                }
                s.fence().status();                          // spins forever if left half-signalled
                progress.incrementAndGet(me);
                if (!warmed) {
                    warmed = true;
                    warm.countDown();
                }
            }
        }

        /** After the run: every callback ran once, every signal returned, the context works. */
        static String check(FenceContext ctx) throws InterruptedException {
            if (signalFailures.get() != 0) {
                return signalFailures.get() + " signal() calls threw";
            }
            if (pendingAfterSignal.get() != 0) {
                return pendingAfterSignal.get() + " fences pending after their signal";
            }
            if (callbacksOutOfMemory.get() == 0) {
                return "no callback ran out of memory: the full heap exercised nothing";
            }
            if (ran.get() != registered.get()) {
                return ran.get() + " callbacks ran of " + registered.get() + " registered";
            }
            Signaller s = ctx.next();
            CountDownLatch called = new CountDownLatch(1);
            s.fence().addCallback(f -> called.countDown());
            s.signal();
            if (!called.await(10, TimeUnit.SECONDS) || s.fence().status() != Fence.Status.SIGNALED) {
                return "a fresh fence of the same context does not work";
            }
            return null;
        }

        /** Reports and ends a child that hangs, so that a failure names what is stuck. */
        static void watch(Thread[] threads) {
            long deadline = System.nanoTime() + WATCHDOG_NANOS;
            while (!done && System.nanoTime() - deadline < 0) {
                LockSupport.parkNanos(100_000_000L);
            }
            if (!done) {
                data = null;
                for (Thread t : threads) {
                    System.out.println(t + " " + t.getState());
                    for (StackTraceElement e : t.getStackTrace()) {
                        System.out.println("    at " + e);
                    }
                }
                System.out.println("FAILED: hung");
                System.exit(2);
            }
        }
    }
}
