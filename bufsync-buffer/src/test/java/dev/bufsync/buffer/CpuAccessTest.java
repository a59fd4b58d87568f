package dev.bufsync.buffer;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.fence.Signaller;
import dev.bufsync.resv.Usage;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Unit tests of {@link CpuAccess} and {@link SharedBuffer#beginCpuAccess}: an access waits for
 * exactly the fences of the usage rule (a read for WRITE and KERNEL, a write for READ, WRITE and
 * KERNEL, neither for BOOKKEEP), reports a timeout distinctly, and is interruptible.
 */
class CpuAccessTest {
    private final Producer producer = new Producer("cpu-test");

    @AfterEach
    void cleanUp() {
        producer.close();
    }

    /** Whether an access waits for a pending fence of {@code usage}, asked with a poll. */
    private boolean waitsFor(Access access, Usage usage) throws Exception {
        SharedBuffer buf = producer.buffer("waits-" + access + "-" + usage);
        Signaller s = producer.attach(buf, usage);
        boolean waited;
        try (CpuAccess cpu = buf.beginCpuAccess(access, Duration.ZERO)) {
            assertThat(cpu.access()).isEqualTo(access);
            waited = false;
        } catch (TimeoutException e) {
            waited = true;
        }
        s.signal();
        buf.beginCpuAccess(access, Duration.ZERO).close();   // and not once it has signalled
        return waited;
    }

    /** A read waits for WRITE and KERNEL fences, and not for READ or BOOKKEEP fences. */
    @ParameterizedTest
    @EnumSource(Usage.class)
    void readWaitsForWritersOnly(Usage usage) throws Exception {
        assertThat(waitsFor(Access.READ, usage)).as("read waits for a %s fence", usage)
                .isEqualTo(usage == Usage.WRITE || usage == Usage.KERNEL);
    }

    /** A write waits for READ, WRITE and KERNEL fences, and not for BOOKKEEP fences. */
    @ParameterizedTest
    @EnumSource(Usage.class)
    void writeWaitsForReadersAndWriters(Usage usage) throws Exception {
        assertThat(waitsFor(Access.WRITE, usage)).as("write waits for a %s fence", usage)
                .isEqualTo(usage != Usage.BOOKKEEP);
    }

    /**
     * A blocked read returns only after the writer's fence signalled, and sees what the writer
     * wrote before signalling.
     */
    @Test
    void readBeginsAfterTheWriterAndSeesItsWrite() throws Exception {
        SharedBuffer buf = producer.buffer("after-writer");
        Attachment device = buf.attach("gpu", Access.WRITE);
        Signaller job = producer.attach(buf, Usage.WRITE);
        AtomicBoolean signalledWhenBegun = new AtomicBoolean();
        AtomicLong seen = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().name("cpu-reader").start(() -> {
            try (CpuAccess cpu = buf.beginCpuAccess(Access.READ, Duration.ofSeconds(20))) {
                signalledWhenBegun.set(job.fence().isSignaled());
                seen.set(cpu.segment().get(JAVA_LONG, 0));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        Producer.awaitParked(reader);
        device.map().set(JAVA_LONG, 0, 0xC0FFEEL);   // the job's write, then its fence
        job.signal();
        reader.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(failure.get()).isNull();
        assertThat(signalledWhenBegun.get()).as("the read began before the write fence signalled").isTrue();
        assertThat(seen.get()).isEqualTo(0xC0FFEEL);
    }

    /** A blocked write waits for both a reader and a writer, whichever signals last. */
    @Test
    void writeBeginsAfterReadersAndWriters() throws Exception {
        SharedBuffer buf = producer.buffer("after-all");
        Signaller read = producer.attach(buf, Usage.READ);
        Signaller write = producer.attach(buf, Usage.WRITE);
        CompletableFuture<Boolean> bothSignalled = CompletableFuture.supplyAsync(() -> {
            try (CpuAccess cpu = buf.beginCpuAccess(Access.WRITE, Duration.ofSeconds(20))) {
                cpu.segment().set(JAVA_LONG, 0, 1L);
                return read.fence().isSignaled() && write.fence().isSignaled();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        write.signal();
        try (CpuAccess concurrentRead = buf.beginCpuAccess(Access.READ, Duration.ZERO)) {
            assertThat(concurrentRead.access()).isEqualTo(Access.READ);   // a read does not wait for readers
        }
        assertThat(bothSignalled).as("the write began before the reader's fence signalled").isNotDone();
        read.signal();
        assertThat(bothSignalled.get(30, TimeUnit.SECONDS)).isTrue();
    }

    /** A timeout is a TimeoutException naming the buffer and the fences; nothing is opened. */
    @Test
    void timeoutIsReportedDistinctly() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("slow", 64);
        Signaller s = producer.attach(buf, Usage.WRITE);
        assertThatThrownBy(() -> buf.beginCpuAccess(Access.WRITE, Duration.ofMillis(20)))
                .isInstanceOf(TimeoutException.class).hasMessageContaining("slow")
                .hasMessageContaining("timed out").hasMessageContaining(s.fence().toString());
        s.signal();
        assertThat(buf.close(Duration.ZERO)).as("a timed-out access left nothing open").isTrue();
        assertThatThrownBy(() -> buf.beginCpuAccess(Access.READ, Duration.ZERO))
                .isInstanceOf(BufferClosedException.class);
        SharedBuffer open = producer.buffer("negative");
        assertThatThrownBy(() -> open.beginCpuAccess(Access.READ, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }

    /** An interrupted waiter gets InterruptedException, whether interrupted before or during the wait. */
    @Test
    void waitIsInterruptible() throws Exception {
        SharedBuffer buf = producer.buffer("interrupted");
        producer.attach(buf, Usage.WRITE);
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> buf.beginCpuAccess(Access.READ, Duration.ofSeconds(20)))
                .isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread waiter = Thread.ofPlatform().name("cpu-waiter").start(() -> {
            try {
                buf.beginCpuAccess(Access.WRITE, Duration.ofSeconds(20)).close();
            } catch (Throwable t) {
                thrown.set(t);
            }
        });
        Producer.awaitParked(waiter);
        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    /** A read access gives a read-only segment, a write access a writable one; an ended access gives none. */
    @Test
    void segmentFollowsTheAccess() throws Exception {
        SharedBuffer buf = producer.buffer("segments");
        CpuAccess write = buf.beginCpuAccess(Access.WRITE, Duration.ZERO);
        write.segment().set(JAVA_LONG, 0, 5L);
        write.close();
        CpuAccess read = buf.beginCpuAccess(Access.READ, Duration.ZERO);
        assertThat(read.isOpen()).isTrue();
        assertThat(read.buffer()).isSameAs(buf);
        assertThat(read.segment().get(JAVA_LONG, 0)).isEqualTo(5L);
        assertThatThrownBy(() -> read.segment().set(JAVA_LONG, 0, 6L)).isInstanceOf(IllegalArgumentException.class);
        read.close();
        assertThat(read.isOpen()).isFalse();
        assertThat(read.toString()).contains("segments", "READ", "ended");
        assertThatThrownBy(read::segment).isInstanceOf(IllegalStateException.class).hasMessageContaining("ended");
        read.close();                                           // idempotent: the count falls once
        assertThat(buf.close(Duration.ZERO)).as("no access left open").isTrue();
    }
}
