package dev.bufsync.buffer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.fence.Fence;
import dev.bufsync.fence.FenceArray;
import dev.bufsync.fence.Fences;
import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Reservation;
import dev.bufsync.resv.Usage;
import dev.bufsync.ww.WwClass;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousServerSocketChannel;
import java.nio.channels.AsynchronousSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unit tests of {@link SharedBuffer}: allocation, the explicit/implicit fence bridge (the kernel's
 * EXPORT/IMPORT_SYNC_FILE), idle notification (poll), the close rule and use after close.
 */
class SharedBufferTest {
    private final Producer producer = new Producer("buffer-test");

    @AfterEach
    void cleanUp() {
        producer.close();
    }

    // ---------------------------------------------------------------- allocation

    /** A buffer has its name, size, zeroed memory and a reservation of the class asked for. */
    @Test
    void allocate() throws Exception {
        SharedBuffer buf = producer.buffer("frame");
        assertThat(buf.name()).isEqualTo("frame");
        assertThat(buf.size()).isEqualTo(4096);
        assertThat(buf.reservation()).isSameAs(buf.reservation());
        assertThat(buf.reservation().name()).isEqualTo("frame");
        assertThat(buf.reservation().mutex().wwClass()).isSameAs(Reservation.DEFAULT_CLASS);
        assertThat(buf.isClosed()).isFalse();
        try (CpuAccess cpu = buf.beginCpuAccess(Access.READ, Duration.ZERO)) {
            assertThat(cpu.segment().byteSize()).isEqualTo(4096);
            for (long off = 0; off < 4096; off += 8) {
                assertThat(cpu.segment().get(JAVA_LONG, off)).isZero();
            }
        }
        WwClass cls = WwClass.woundWait("custom");
        SharedBuffer custom = producer.track(SharedBuffer.allocate("custom", 1, cls));
        assertThat(custom.reservation().mutex().wwClass()).isSameAs(cls);
        assertThat(custom.toString()).contains("custom", "1 bytes", "open");
        assertThatThrownBy(() -> SharedBuffer.allocate("empty", 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
    }

    // ---------------------------------------------------------------- export / import

    /** Exporting when nothing is pending gives the signalled stub, for both accesses. */
    @Test
    void exportOfNothingIsSignalledStub() {
        SharedBuffer buf = producer.buffer("idle");
        producer.attach(buf, Usage.BOOKKEEP);                  // never exported
        for (Access a : Access.values()) {
            Fence f = buf.exportFence(a);
            assertThat(f).isSameAs(Fences.stub());
            assertThat(f.isSignaled()).isTrue();
        }
    }

    /** Export for a write covers readers and writers; export for a read covers writers only. */
    @Test
    void exportForWriteCoversReadersAndWriters() {
        SharedBuffer buf = producer.buffer("busy");
        Signaller reader = producer.attach(buf, Usage.READ);
        Signaller writer = producer.attach(buf, Usage.WRITE);
        assertThat(buf.exportFence(Access.READ)).isSameAs(writer.fence());
        Fence forWrite = buf.exportFence(Access.WRITE);
        assertThat(forWrite).isInstanceOf(FenceArray.class);
        assertThat(Fences.unwrap(forWrite)).containsExactlyInAnyOrder(reader.fence(), writer.fence());
        writer.signal();
        assertThat(forWrite.isSignaled()).as("export for a write signalled before the reader").isFalse();
        assertThat(buf.exportFence(Access.READ)).isSameAs(Fences.stub());
        reader.signal();
        assertThat(forWrite.isSignaled()).isTrue();
    }

    /** Importing as WRITE makes readers and writers wait; importing as READ makes only writers wait. */
    @ParameterizedTest
    @EnumSource(Access.class)
    void importedFenceIsWaitedForByConflictingAccesses(Access imported) throws Exception {
        SharedBuffer buf = producer.buffer("import-" + imported);
        Signaller s = producer.next();
        buf.importFence(s.fence(), imported);
        assertThat(buf.reservation().fences(Usage.BOOKKEEP)).containsExactly(s.fence());
        assertThat(buf.reservation().fences(imported.usage())).containsExactly(s.fence());
        assertThat(buf.reservation().isLocked()).isFalse();
        assertThatThrownBy(() -> buf.beginCpuAccess(Access.WRITE, Duration.ZERO)).isInstanceOf(TimeoutException.class);
        if (imported == Access.WRITE) {
            assertThatThrownBy(() -> buf.beginCpuAccess(Access.READ, Duration.ZERO))
                    .isInstanceOf(TimeoutException.class);
        } else {
            buf.beginCpuAccess(Access.READ, Duration.ZERO).close();
        }
        assertThat(buf.exportFence(Access.WRITE)).isSameAs(s.fence());
        s.signal();
        buf.beginCpuAccess(Access.WRITE, Duration.ZERO).close();
    }

    /** A container is imported as its members, each with the usage asked for. */
    @Test
    void containerImportsAsMembers() {
        SharedBuffer buf = producer.buffer("container");
        Signaller a = producer.next();
        Signaller b = producer.next();
        FenceArray both = FenceArray.allOf(a.fence(), b.fence());
        buf.importFence(both, Access.WRITE);
        assertThat(buf.reservation().fences(Usage.WRITE)).containsExactlyInAnyOrder(a.fence(), b.fence())
                .doesNotContain(both);
    }

    /** The explicit round trip: a writer of one buffer, exported and imported into another, makes its readers wait. */
    @Test
    void exportThenImportCarriesTheDependency() throws Exception {
        SharedBuffer src = producer.buffer("src");
        SharedBuffer dst = producer.buffer("dst");
        Signaller writer = producer.attach(src, Usage.WRITE);
        dst.importFence(src.exportFence(Access.READ), Access.WRITE);
        assertThatThrownBy(() -> dst.beginCpuAccess(Access.READ, Duration.ZERO)).isInstanceOf(TimeoutException.class);
        writer.signal();
        dst.beginCpuAccess(Access.READ, Duration.ZERO).close();
    }

    // ---------------------------------------------------------------- onIdle

    /** On an idle buffer the callback runs at once, on the calling thread, and onIdle says so. */
    @Test
    void onIdleRunsAtOnceWhenIdle() {
        SharedBuffer buf = producer.buffer("poll-idle");
        producer.attach(buf, Usage.BOOKKEEP);
        for (Access a : Access.values()) {
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            assertThat(buf.onIdle(a, () -> ranOn.set(Thread.currentThread()))).isTrue();
            assertThat(ranOn.get()).isSameAs(Thread.currentThread());
        }
    }

    /**
     * Read readiness (EPOLLIN): a pending reader does not delay it; a pending writer does, and the
     * callback runs once, on the thread that signals the writer's fence.
     */
    @Test
    void onIdleForReadWaitsForWriters() {
        SharedBuffer buf = producer.buffer("poll-read");
        Signaller reader = producer.attach(buf, Usage.READ);
        AtomicInteger runs = new AtomicInteger();
        assertThat(buf.onIdle(Access.READ, runs::incrementAndGet)).isTrue();
        assertThat(runs.get()).isEqualTo(1);
        Signaller writer = producer.attach(buf, Usage.WRITE);
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        assertThat(buf.onIdle(Access.READ, () -> {
            runs.incrementAndGet();
            ranOn.set(Thread.currentThread());
        })).isFalse();
        reader.signal();
        assertThat(runs.get()).isEqualTo(1);
        Thread signaller = Thread.ofPlatform().name("writer-signaller").unstarted(writer::signal);
        signaller.start();
        join(signaller);
        assertThat(runs.get()).isEqualTo(2);
        assertThat(ranOn.get()).isSameAs(signaller);
        producer.attach(buf, Usage.WRITE).signal();
        assertThat(runs.get()).as("the callback ran more than once").isEqualTo(2);
    }

    /** Write readiness (EPOLLOUT): the callback waits for readers and writers, and runs once, after the last. */
    @Test
    void onIdleForWriteWaitsForReadersAndWriters() {
        SharedBuffer buf = producer.buffer("poll-write");
        Signaller reader1 = producer.attach(buf, Usage.READ);
        Signaller reader2 = producer.attach(buf, Usage.READ);
        Signaller writer = producer.attach(buf, Usage.WRITE);
        producer.attach(buf, Usage.BOOKKEEP);                   // never waited for
        AtomicInteger runs = new AtomicInteger();
        assertThat(buf.onIdle(Access.WRITE, runs::incrementAndGet)).isFalse();
        writer.signal();
        reader1.signal();
        assertThat(runs.get()).isZero();
        reader2.signal();
        assertThat(runs.get()).isEqualTo(1);
        assertThat(buf.onIdle(Access.WRITE, runs::incrementAndGet)).isTrue();
        assertThat(runs.get()).isEqualTo(2);
    }

    /** Like poll, onIdle waits for the fences pending when it was called, not for fences added later. */
    @Test
    void onIdleWaitsForTheFencesPendingAtTheCall() {
        SharedBuffer buf = producer.buffer("poll-snapshot");
        Signaller first = producer.attach(buf, Usage.WRITE);
        AtomicInteger runs = new AtomicInteger();
        buf.onIdle(Access.READ, runs::incrementAndGet);
        Signaller later = producer.attach(buf, Usage.WRITE);
        first.signal();
        assertThat(runs.get()).isEqualTo(1);
        assertThat(buf.onIdle(Access.READ, runs::incrementAndGet)).as("still busy with the later writer").isFalse();
        later.signal();
        assertThat(runs.get()).isEqualTo(2);
    }

    // ---------------------------------------------------------------- the close rule

    /** Closing an idle buffer frees it at once, even with mapped attachments, which are revoked. */
    @Test
    void closeOfIdleBufferRevokesMappings() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("idle-close", 64);
        MemorySegment view = buf.attach("display", Access.READ).map();
        assertThat(buf.close(Duration.ZERO)).isTrue();
        assertThat(buf.isClosed()).isTrue();
        assertThatThrownBy(() -> view.get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Already closed");
        assertThat(buf.close(Duration.ZERO)).as("a second close").isTrue();
        buf.close();
        assertThat(buf.toString()).contains("closed");
    }

    /**
     * Closing with a fence pending: the buffer refuses new users at once, keeps its memory and
     * views while the work runs, and frees them only when the fence has signalled.
     */
    @Test
    void closeWithPendingFenceRefusesNewUsersAndKeepsMemory() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("busy-close", 64);
        MemorySegment view = buf.attach("gpu", Access.WRITE).map();
        Signaller job = producer.attach(buf, Usage.BOOKKEEP);   // even explicitly synced work counts
        assertThat(buf.close(Duration.ZERO)).isFalse();
        assertThat(buf.isClosed()).isTrue();
        assertThatThrownBy(() -> buf.attach("late", Access.READ)).isInstanceOf(BufferClosedException.class)
                .hasMessageContaining("closing").hasMessageContaining("busy-close");
        view.set(JAVA_LONG, 0, 1L);                               // the job in flight still works
        assertThat(buf.close(Duration.ofMillis(10))).isFalse();
        job.signal();
        assertThat(buf.close(Duration.ZERO)).isTrue();
        assertThatThrownBy(() -> view.get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
    }

    /**
     * A view still in use by an NIO operation makes freeing the memory fail ("Session is acquired
     * by 1 clients"): the close throws naming the buffer, the buffer stays closing with its memory
     * and attachments intact, and once the I/O is done a later close frees it (the old close
     * flipped to CLOSED first: it then answered "freed" for ever and never freed the memory).
     */
    @Test
    void closeWhileAViewIsInUseByIoThrowsAndALaterCloseFrees() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("nio-close", 64);
        Attachment nic = buf.attach("nic", Access.WRITE);
        MemorySegment view = nic.map();
        try (AsynchronousServerSocketChannel server = AsynchronousServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                AsynchronousSocketChannel client = AsynchronousSocketChannel.open()) {
            client.connect(server.getLocalAddress()).get(30, TimeUnit.SECONDS);
            try (AsynchronousSocketChannel peer = server.accept().get(30, TimeUnit.SECONDS)) {
                Future<Integer> read = client.read(view.asByteBuffer());   // pending: holds the memory

                assertThatThrownBy(buf::close).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("nio-close").hasMessageContaining("in use by an I/O operation")
                        .hasRootCauseMessage("Session is acquired by 1 clients");
                assertThat(buf.isClosed()).as("closing: refuses new users").isTrue();
                assertThat(buf.toString()).contains("closing");
                assertThat(nic.isAttached()).isTrue();
                assertThat(buf.attachments()).containsExactly(nic);
                view.set(JAVA_LONG, 8, 7L);                                 // the memory is intact

                peer.write(ByteBuffer.wrap(new byte[] {1, 2, 3})).get(30, TimeUnit.SECONDS);
                assertThat(read.get(30, TimeUnit.SECONDS)).isEqualTo(3);
            }
        }
        assertThat(view.get(JAVA_BYTE, 0)).isEqualTo((byte) 1);
        buf.close();
        assertThat(nic.isAttached()).isFalse();
        assertThat(buf.attachments()).isEmpty();
        assertThatThrownBy(() -> view.get(JAVA_LONG, 8)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Already closed");
        buf.close();                                                        // idempotent
    }

    /** A close that waits returns once the pending fence signals, and not before. */
    @Test
    void closeWaitsForPendingFence() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("waiting-close", 64);
        Signaller job = producer.attach(buf, Usage.WRITE);
        AtomicBoolean signalledWhenFreed = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            try {
                assertThat(buf.close(Duration.ofSeconds(20))).isTrue();
                signalledWhenFreed.set(job.fence().isSignaled());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Producer.awaitParked(closer);
        assertThat(buf.isClosed()).isTrue();
        job.signal();
        join(closer);
        assertThat(failure.get()).isNull();
        assertThat(signalledWhenFreed.get()).as("memory freed while the fence was pending").isTrue();
    }

    /** A close waits for open CPU accesses, and the access that ends last wakes it. */
    @Test
    void closeWaitsForOpenCpuAccess() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("cpu-close", 64);
        CpuAccess cpu = buf.beginCpuAccess(Access.WRITE, Duration.ZERO);
        assertThat(buf.close(Duration.ZERO)).isFalse();
        assertThatThrownBy(() -> buf.beginCpuAccess(Access.READ, Duration.ZERO))
                .isInstanceOf(BufferClosedException.class);
        cpu.segment().set(JAVA_LONG, 0, 3L);                      // still open, still usable
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean endedWhenFreed = new AtomicBoolean();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            try {
                assertThat(buf.close(Duration.ofSeconds(20))).isTrue();
                endedWhenFreed.set(!cpu.isOpen());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Producer.awaitParked(closer);
        cpu.close();
        join(closer);
        assertThat(failure.get()).isNull();
        assertThat(endedWhenFreed.get()).as("memory freed while a CPU access was open").isTrue();
        assertThatThrownBy(() -> cpu.segment()).isInstanceOf(IllegalStateException.class);
    }

    /**
     * The last check of a close is made under the reservation lock: a fence added by a holder of
     * the lock while the close waits for it is waited for, not freed under.
     */
    @Test
    void closeSeesFenceAddedUnderTheReservationLock() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("racing-close", 64);
        Signaller late = producer.next();
        CountDownLatch locked = new CountDownLatch(1);
        CountDownLatch closerQueued = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("holder").start(() -> {
            buf.reservation().lock();
            locked.countDown();
            try {
                closerQueued.await();
                buf.reservation().reserveFences(1);
                buf.reservation().addFence(late.fence(), Usage.WRITE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                buf.reservation().unlock();
            }
        });
        locked.await();
        AtomicBoolean signalledWhenFreed = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            try {
                assertThat(buf.close(Duration.ofSeconds(20))).isTrue();
                signalledWhenFreed.set(late.fence().isSignaled());
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (buf.reservation().mutex().waiterCount() == 0 && System.nanoTime() < deadline) {
            Thread.yield();
        }
        closerQueued.countDown();
        join(holder);
        assertThat(buf.reservation().fences(Usage.WRITE)).containsExactly(late.fence());
        late.signal();
        join(closer);
        assertThat(failure.get()).isNull();
        assertThat(signalledWhenFreed.get()).as("freed under a fence added under the lock").isTrue();
    }

    /**
     * close() waits at most CLOSE_TIMEOUT, then throws; interrupted, it throws at once, says so,
     * counts what is still busy and keeps the interrupt.
     */
    @Test
    void closeWithoutTimeoutThrowsWhenBusy() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("busy", 64);
        Signaller job = producer.attach(buf, Usage.READ);
        CpuAccess cpu = buf.beginCpuAccess(Access.READ, Duration.ZERO);     // a read does not wait for readers
        Thread.currentThread().interrupt();
        assertThatThrownBy(buf::close).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("close of buffer 'busy' interrupted: 1 fence(s) pending [")
                .hasMessageContaining("], 1 CPU access(es) open; it refuses new users");
        assertThat(Thread.interrupted()).as("interrupt status kept").isTrue();
        assertThat(buf.isClosed()).isTrue();
        job.signal();
        cpu.close();
        buf.close();
        assertThat(SharedBuffer.CLOSE_TIMEOUT).isPositive();
        assertThatThrownBy(() -> buf.close(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    /** After close every operation fails with BufferClosedException naming the buffer, and every view fails. */
    @Test
    void useAfterCloseFailsClearly() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("closed", 64);
        Attachment writer = buf.attach("gpu", Access.WRITE);
        MemorySegment view = writer.map();
        MemorySegment roView = buf.attach("display", Access.READ).map();
        Signaller s = producer.next();
        buf.close();
        List<ThrowingCallable> operations = List.of(
                () -> buf.attach("late", Access.READ),
                writer::map,
                () -> writer.map(Access.READ),
                () -> buf.beginCpuAccess(Access.READ, Duration.ZERO),
                () -> buf.beginCpuAccess(Access.WRITE, Duration.ofSeconds(1)),
                () -> writer.beginCpuAccess(Access.WRITE, Duration.ZERO),
                () -> buf.exportFence(Access.READ),
                () -> buf.exportFence(Access.WRITE),
                () -> buf.importFence(s.fence(), Access.READ),
                () -> buf.importFence(s.fence(), Access.WRITE),
                () -> buf.onIdle(Access.READ, () -> { }),
                () -> buf.onIdle(Access.WRITE, () -> { }));
        for (ThrowingCallable op : operations) {
            assertThatThrownBy(op).isInstanceOf(BufferClosedException.class).hasMessageContaining("'closed'")
                    .hasMessageContaining("closed and its memory freed")
                    .satisfies(e -> assertThat(((BufferClosedException) e).buffer()).isEqualTo("closed"));
        }
        List<ThrowingCallable> accesses = List.of(
                () -> view.get(JAVA_LONG, 0),
                () -> view.set(JAVA_LONG, 0, 1L),
                () -> view.fill((byte) 0),
                () -> MemorySegment.copy(view, 0, MemorySegment.ofArray(new byte[8]), 0, 8),
                () -> roView.get(JAVA_LONG, 8),
                () -> view.asByteBuffer().get(0));
        for (ThrowingCallable access : accesses) {
            assertThatThrownBy(access).isInstanceOf(IllegalStateException.class).hasMessageContaining("Already closed");
        }
        assertThat(buf.reservation().fences(Usage.BOOKKEEP)).as("nothing imported").isEmpty();
    }

    /** toString counts the open CPU accesses and the attachments, and names the state. */
    @Test
    void toStringCountsOpenAccesses() throws Exception {
        SharedBuffer buf = producer.buffer("described");
        buf.attach("gpu", Access.READ);
        try (CpuAccess cpu = buf.beginCpuAccess(Access.WRITE, Duration.ZERO)) {
            assertThat(buf.toString()).startsWith("SharedBuffer['described', 4096 bytes, open, 1 attachment(s), "
                    + "1 CPU access(es), ");
        }
        assertThat(buf.toString()).contains(", 0 CPU access(es), ");
    }

    /**
     * A fence imported while its importer waits for the reservation lock is refused if a close
     * began meanwhile: importFence checks again under the lock, so the close need not wait for
     * work published after it began.
     */
    @Test
    void importFenceSeesCloseUnderTheLock() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("closing-import", 64);
        Signaller late = producer.next();
        try (ReservationHolder holder = ReservationHolder.of(buf)) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread importer = Thread.ofPlatform().name("importer").start(() -> {
                try {
                    buf.importFence(late.fence(), Access.WRITE);
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            holder.awaitWaiters(1);
            assertThat(buf.close(Duration.ZERO)).as("the reservation is held").isFalse();
            holder.release();
            join(importer);
            assertThat(thrown.get()).isInstanceOf(BufferClosedException.class).hasMessageContaining("closing");
        }
        assertThat(buf.reservation().fences(Usage.BOOKKEEP)).as("nothing imported").isEmpty();
        assertThat(buf.close(Duration.ZERO)).isTrue();
    }

    /**
     * A closing buffer refuses an import before it locks the reservation: the thread that holds
     * it gets BufferClosedException, not the recursive-lock misuse the lock would report.
     */
    @Test
    void importIntoAClosingBufferIsRefusedBeforeLocking() throws Exception {
        SharedBuffer buf = producer.buffer("closing-early");
        Signaller job = producer.attach(buf, Usage.BOOKKEEP);
        assertThat(buf.close(Duration.ZERO)).isFalse();
        buf.reservation().lock();
        try {
            assertThatThrownBy(() -> buf.importFence(job.fence(), Access.READ))
                    .isExactlyInstanceOf(BufferClosedException.class).hasMessageContaining("closing");
        } finally {
            buf.reservation().unlock();
        }
    }

    /** Once the memory is freed, close returns true at once: it does not need the reservation lock any more. */
    @Test
    void closeOfAFreedBufferNeedsNoLock() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("freed", 64);
        assertThat(buf.close(Duration.ZERO)).isTrue();
        buf.reservation().lock();
        try {
            assertThat(buf.close(Duration.ZERO)).isTrue();
        } finally {
            buf.reservation().unlock();
        }
    }

    /** Two closes that wait together for the reservation lock both succeed: the second finds the memory freed. */
    @Test
    void concurrentClosesBothSucceed() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("twice", 64);
        List<Thread> closers;
        AtomicInteger freed = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (ReservationHolder holder = ReservationHolder.of(buf)) {
            closers = List.of(closer(buf, "closer-1", freed, failure), closer(buf, "closer-2", freed, failure));
            holder.awaitWaiters(2);
        }
        closers.forEach(SharedBufferTest::join);
        assertThat(failure.get()).isNull();
        assertThat(freed.get()).isEqualTo(2);
    }

    private static Thread closer(SharedBuffer buf, String name, AtomicInteger freed, AtomicReference<Throwable> failure) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                if (buf.close(Duration.ofSeconds(20))) {
                    freed.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
    }

    /** A timeout too long for a long count of nanoseconds waits without bound: the close returns once the fence signals. */
    @Test
    void hugeCloseTimeoutWaits() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("patient", 64);
        Signaller job = producer.attach(buf, Usage.WRITE);
        AtomicReference<Object> result = new AtomicReference<>();
        Thread closer = Thread.ofPlatform().name("closer").start(() -> {
            try {
                result.set(buf.close(Duration.ofSeconds(Long.MAX_VALUE)));
            } catch (Throwable t) {
                result.set(t);
            }
        });
        Producer.awaitParked(closer);
        job.signal();
        join(closer);
        assertThat(result.get()).isEqualTo(true);
    }

    /**
     * Ending a CPU access of an open buffer is one atomic update: it takes no lock, so it does not
     * wait for a thread that holds the buffer's lock (only the last access out of a closing
     * buffer takes it, to wake the closer).
     */
    @Test
    void endingAnAccessOfAnOpenBufferTakesNoLock() throws Exception {
        SharedBuffer buf = producer.buffer("lock-free-end");
        CpuAccess cpu = buf.beginCpuAccess(Access.WRITE, Duration.ZERO);
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().name("lock-holder").start(() -> {
            buf.lock().lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                buf.lock().unlock();
            }
        });
        held.await();
        Thread ender = Thread.ofPlatform().name("ender").start(cpu::close);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (ender.isAlive() && !buf.lock().hasQueuedThread(ender) && System.nanoTime() < deadline) {
            Thread.yield();
        }
        boolean queued = buf.lock().hasQueuedThread(ender);
        release.countDown();
        join(ender);
        join(holder);
        assertThat(queued).as("the end of the access waited for the buffer's lock").isFalse();
        assertThat(cpu.isOpen()).isFalse();
    }

    private static void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        assertThat(t.isAlive()).as("%s still running", t.getName()).isFalse();
    }

    /** A negative timeout is refused before any wait, naming the buffer and the operation. */
    @Test
    void beginCpuAccessNegativeTimeout_IAE() {
        SharedBuffer buf = producer.buffer("negative");
        assertThatThrownBy(() -> buf.beginCpuAccess(Access.READ, Duration.ofNanos(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("beginCpuAccess(READ) on buffer 'negative': negative timeout PT-0.000000001S");
    }
}
