package dev.bufsync.buffer;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link Attachment}: rights, mapping, detaching. */
class AttachmentTest {
    private final Producer producer = new Producer("attachment-test");

    @AfterEach
    void cleanUp() {
        producer.close();
    }

    /** A read-only attachment gives read-only views: a write through one fails; reads work. */
    @Test
    void writeThroughReadOnlyViewFails() {
        SharedBuffer buf = producer.buffer("ro");
        Attachment writer = buf.attach("camera", Access.WRITE);
        Attachment reader = buf.attach("display", Access.READ);
        MemorySegment out = writer.map();
        MemorySegment in = reader.map();
        out.set(JAVA_LONG, 8, 42L);
        assertThat(in.get(JAVA_LONG, 8)).isEqualTo(42L);
        assertThat(in.isReadOnly()).isTrue();
        assertThat(out.isReadOnly()).isFalse();
        assertThat(in.byteSize()).isEqualTo(buf.size());
        assertThatThrownBy(() -> in.set(JAVA_LONG, 8, 7L)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("read-only");
        assertThatThrownBy(() -> in.fill((byte) 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(in.get(JAVA_LONG, 8)).isEqualTo(42L);
    }

    /** A read-only attachment cannot be mapped for writing nor begin a CPU write; a writer may map read-only. */
    @Test
    void readOnlyAttachmentCannotBeMappedForWriting() {
        SharedBuffer buf = producer.buffer("rights");
        Attachment reader = buf.attach("display", Access.READ);
        assertThatThrownBy(() -> reader.map(Access.WRITE)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("display").hasMessageContaining("rights are READ");
        assertThatThrownBy(() -> reader.beginCpuAccess(Access.WRITE, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rights are READ");
        assertThat(reader.isMapped()).isFalse();
        Attachment writer = buf.attach("encoder", Access.WRITE);
        assertThat(writer.map(Access.READ).isReadOnly()).isTrue();
        writer.unmap();
        assertThat(writer.rights()).isEqualTo(Access.WRITE);
        assertThat(writer.device()).isEqualTo("encoder");
        assertThat(writer.buffer()).isSameAs(buf);
    }

    /** A CPU access through an attachment is limited by its rights and waits like the buffer's. */
    @Test
    void cpuAccessThroughAttachment() throws Exception {
        SharedBuffer buf = producer.buffer("cpu");
        Attachment reader = buf.attach("display", Access.READ);
        try (CpuAccess cpu = reader.beginCpuAccess(Access.READ, Duration.ZERO)) {
            assertThat(cpu.segment().isReadOnly()).isTrue();
        }
        var writeFence = producer.attach(buf, dev.bufsync.resv.Usage.WRITE);
        assertThatThrownBy(() -> reader.beginCpuAccess(Access.READ, Duration.ZERO))
                .isInstanceOf(java.util.concurrent.TimeoutException.class)
                .hasMessageStartingWith("beginCpuAccess(READ) through display on buffer 'cpu' timed out");
        writeFence.signal();
        reader.beginCpuAccess(Access.READ, Duration.ZERO).close();
    }

    /** Maps are counted: each map is undone by one unmap; an unmap too many is refused. */
    @Test
    void mapsAreCounted() {
        SharedBuffer buf = producer.buffer("count");
        Attachment a = buf.attach("gpu", Access.WRITE);
        assertThat(a.isMapped()).isFalse();
        a.map();
        a.map(Access.READ);
        assertThat(a.isMapped()).isTrue();
        a.unmap();
        assertThat(a.isMapped()).isTrue();
        a.unmap();
        assertThat(a.isMapped()).isFalse();
        assertThatThrownBy(a::unmap).isInstanceOf(IllegalStateException.class).hasMessageContaining("not mapped");
    }

    /** Detach drops the mappings left; a detached attachment refuses map, unmap, CPU access and a second detach. */
    @Test
    void detach() {
        SharedBuffer buf = producer.buffer("detach");
        Attachment a = buf.attach("gpu", Access.WRITE);
        Attachment b = buf.attach("gpu", Access.READ);
        assertThat(buf.attachments()).containsExactly(a, b);
        a.map();
        a.detach();
        assertThat(a.isAttached()).isFalse();
        assertThat(a.isMapped()).isFalse();
        assertThat(buf.attachments()).containsExactly(b);
        assertThatThrownBy(a::map).isInstanceOf(IllegalStateException.class).hasMessageContaining("detached")
                .isNotInstanceOf(BufferClosedException.class);
        assertThatThrownBy(a::unmap).isInstanceOf(IllegalStateException.class).hasMessageContaining("detached");
        assertThatThrownBy(() -> a.beginCpuAccess(Access.READ, Duration.ZERO))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("detached");
        assertThatThrownBy(a::detach).isInstanceOf(IllegalStateException.class).hasMessageContaining("already detached");
        a.close();                                              // close is idempotent, detach is not
        assertThat(buf.attachments()).containsExactly(b);
        try (Attachment c = buf.attach("scoped", Access.READ)) {
            c.map();
        }
        assertThat(buf.attachments()).containsExactly(b);
        assertThat(b.toString()).contains("gpu", "detach", "READ", "attached");
    }

    /**
     * After the buffer's memory is freed, its attachments are detached by the close: map and CPU
     * access report the closed buffer, views fail, and unmap and detach do nothing.
     */
    @Test
    void closeRevokesAttachments() throws Exception {
        SharedBuffer buf = SharedBuffer.allocate("revoked", 64);
        Attachment a = buf.attach("gpu", Access.WRITE);
        MemorySegment view = a.map();
        assertThat(buf.close(Duration.ZERO)).isTrue();
        assertThat(a.isAttached()).isFalse();
        assertThat(a.isMapped()).isFalse();
        assertThat(buf.attachments()).isEmpty();
        assertThatThrownBy(() -> view.get(JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Already closed");
        assertThatThrownBy(a::map).isInstanceOf(BufferClosedException.class).hasMessageContaining("revoked");
        assertThatThrownBy(() -> a.beginCpuAccess(Access.READ, Duration.ZERO))
                .isInstanceOf(BufferClosedException.class);
        a.unmap();
        a.detach();
        a.close();
    }

    /**
     * While its buffer is closing (work still pending), an attachment still attached refuses a
     * new mapping; unmapping and detaching still work.
     */
    @Test
    void closingBufferRefusesNewMappings() throws Exception {
        SharedBuffer buf = producer.buffer("closing");
        Attachment a = buf.attach("gpu", Access.WRITE);
        a.map();
        producer.attach(buf, dev.bufsync.resv.Usage.BOOKKEEP);
        assertThat(buf.close(Duration.ZERO)).isFalse();
        assertThat(a.isAttached()).isTrue();
        assertThatThrownBy(a::map).isInstanceOf(BufferClosedException.class)
                .hasMessageContaining("map(WRITE) through gpu").hasMessageContaining("closing");
        assertThat(a.isMapped()).as("the refused map is not counted").isTrue();
        a.unmap();
        assertThat(a.isMapped()).isFalse();
        a.detach();
    }

    /**
     * Every operation of an attachment and of its buffer that takes the buffer's lock releases it:
     * another thread can take it afterwards, before and after the buffer is freed.
     */
    @Test
    void everyOperationReleasesTheBufferLock() throws Exception {
        SharedBuffer buf = producer.buffer("lock-release");
        Attachment a = buf.attach("camera", Access.WRITE);
        assertThat(buf.attachments()).containsExactly(a);
        a.map();
        assertThat(a.isMapped()).isTrue();
        a.unmap();
        assertThat(buf.toString()).contains("1 attachment(s)");
        a.detach();
        assertThat(CompletableFuture.supplyAsync(buf::attachments).get(30, TimeUnit.SECONDS)).isEmpty();
        buf.close();
        assertThat(CompletableFuture.supplyAsync(buf::toString).get(30, TimeUnit.SECONDS)).contains("closed");
    }
}
