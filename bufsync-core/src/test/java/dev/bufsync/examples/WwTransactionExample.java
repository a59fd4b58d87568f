package dev.bufsync.examples;

import dev.bufsync.ww.AcquireContext;
import dev.bufsync.ww.BackoffException;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.util.List;

public class WwTransactionExample {
    static final WwClass BUFFERS = WwClass.woundWait("buffers");

    /** Locks every mutex, in the order given, without deadlock; runs {@code work}; unlocks. */
    static void lockAll(List<WwMutex> mutexes, Runnable work) {
        try (AcquireContext ctx = BUFFERS.begin()) {            // takes a ticket, kept across retries
            for (;;) {
                try {
                    for (WwMutex m : mutexes) m.lock(ctx);      // ALREADY_HELD is harmless
                    break;
                } catch (BackoffException e) {                  // an older transaction wins the conflict
                    ctx.unlockAll();
                    e.mutex().lockSlow(ctx);                    // wait for the contended one, then retry
                }
            }
            ctx.acquireDone();
            work.run();                                         // ... work on everything ...
            ctx.unlockAll();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        WwMutex a = new WwMutex(BUFFERS);
        WwMutex b = new WwMutex(BUFFERS);
        long[] count = {0};                                     // guarded by a and b
        Thread t1 = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 10_000; i++) lockAll(List.of(a, b), () -> count[0]++);
        });
        Thread t2 = Thread.ofVirtual().start(() -> {            // the opposite order: no deadlock
            for (int i = 0; i < 10_000; i++) lockAll(List.of(b, a), () -> count[0]++);
        });
        t1.join();
        t2.join();
        System.out.println("transactions: " + count[0]);
    }
}
