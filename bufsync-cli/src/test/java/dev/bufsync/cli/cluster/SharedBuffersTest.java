package dev.bufsync.cli.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bufsync.buffer.Access;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's mapped buffers: attachments keep SharedBuffer's rights; two mappings share the memory. */
class SharedBuffersTest {

    @Test
    void aReadAttachmentGivesReadOnlyViewsAndNoWriteView(@TempDir Path dir) throws Exception {
        try (SharedBuffers m = SharedBuffers.map(dir.resolve("buffers"), 4)) {
            SharedBuffers.Attached reader = m.attach(2, Access.READ);
            assertThatThrownBy(() -> reader.map().set(ValueLayout.JAVA_LONG, 0, 1L))
                    .isInstanceOf(IllegalArgumentException.class);           // the FFM API refuses a read-only segment
            assertThatThrownBy(() -> reader.map(Access.WRITE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("b2").hasMessageContaining("read-only");
            assertThatThrownBy(() -> reader.setContent(1L)).isInstanceOf(IllegalArgumentException.class);
            assertThat(reader.content()).isZero();
        }
    }

    @Test
    void aWriteThroughOneMappingIsSeenThroughAnotherAndStaysInItsBuffer(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("buffers");
        try (SharedBuffers writer = SharedBuffers.map(file, 4); SharedBuffers reader = SharedBuffers.map(file, 4)) {
            writer.attach(1, Access.WRITE).setContent(0x1234_5678_9abcL);
            assertThat(reader.attach(1, Access.READ).content()).isEqualTo(0x1234_5678_9abcL);
            assertThat(reader.read(0)).isZero();
            assertThat(reader.read(2)).isZero();
            assertThat(writer.attach(1, Access.WRITE).map().byteSize()).isEqualTo(SharedBuffers.SLOT);
            assertThatThrownBy(() -> reader.attach(4, Access.READ))
                    .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("buffer 4");
        }
        assertThat(Files.size(file)).isEqualTo(4 * SharedBuffers.SLOT);
    }
}
