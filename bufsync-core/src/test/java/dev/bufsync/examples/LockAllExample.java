package dev.bufsync.examples;

import dev.bufsync.exec.Exec;
import dev.bufsync.fence.FenceContext;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.HasReservation;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import java.time.Duration;
import java.util.List;

public class LockAllExample {
    public static void main(String[] args) throws InterruptedException {
        List<Reservation> buffers = List.of(new Reservation(), new Reservation(), new Reservation());
        FenceContext gpu = FenceContext.create("gpu");          // the producer's timeline
        Signaller done = gpu.next();                            // only the producer can signal

        try (Exec exec = Exec.begin()) {                        // lock every buffer of the job at once
            exec.untilAllLocked(e -> {                          // any order; retried by itself on conflict
                for (Reservation b : buffers) e.prepare(b, 1);  // lock + reserve one fence slot
            });
            for (HasReservation b : exec.locked()) {
                b.reservation().addFence(done.fence(), Usage.WRITE);   // cannot fail: slot reserved
            }
        }                                                       // unlocks everything

        // A reader, elsewhere, without any lock: the writer has not finished yet.
        Reservation buffer = buffers.get(0);
        System.out.println("idle before: " + buffer.await(Usage.beforeRead(), Duration.ZERO));

        // ... the device finishes the job ...
        done.signal();

        // Now the wait for the buffer's writers returns at once.
        System.out.println("idle after: " + buffer.await(Usage.beforeRead(), Duration.ofSeconds(1)));
    }
}
