package dev.bufsync.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Test fixture: a thread that holds a buffer's reservation lock from {@link #of} until
 * {@link #release()} or {@link #close()}, for tests that make other threads queue for the lock
 * and then let them through.
 */
final class ReservationHolder implements AutoCloseable {
    private final SharedBuffer buffer;
    private final CountDownLatch released = new CountDownLatch(1);
    private final Thread thread;

    private ReservationHolder(SharedBuffer buffer, CountDownLatch locked) {
        this.buffer = buffer;
        this.thread = Thread.ofPlatform().name("holder of " + buffer.name()).start(() -> {
            buffer.reservation().lock();
            locked.countDown();
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                buffer.reservation().unlock();
            }
        });
    }

    /** Starts the holder and returns once it holds {@code buffer}'s reservation. */
    static ReservationHolder of(SharedBuffer buffer) throws InterruptedException {
        CountDownLatch locked = new CountDownLatch(1);
        ReservationHolder h = new ReservationHolder(buffer, locked);
        locked.await();
        return h;
    }

    /** Waits until at least {@code n} threads queue for the reservation (a bounded safety net). */
    void awaitWaiters(int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (buffer.reservation().mutex().waiterCount() < n) {
            assertThat(System.nanoTime() - deadline).as("%d waiter(s) for %s", n, buffer.name()).isNegative();
            Thread.yield();
        }
    }

    /** Lets the holder unlock. */
    void release() {
        released.countDown();
    }

    /** Releases the lock and waits until the holder has unlocked it. */
    @Override
    public void close() throws InterruptedException {
        release();
        thread.join(Duration.ofSeconds(30));
        assertThat(thread.isAlive()).as("%s still running", thread.getName()).isFalse();
    }
}
