package dev.bufsync.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The module boundary, checked here because tests run on the class path: the descriptor exports
 * only the API package and re-exports core, is readable by a Java 17 jar tool, and the package's
 * public types are the few the design names.
 */
class ModuleBoundaryTest {
    private static Path classes() throws URISyntaxException {
        return Path.of(SharedBuffer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** dev.bufsync.buffer exports only itself and requires core transitively. */
    @Test
    void descriptorExportsOnlyTheApi() throws Exception {
        ModuleDescriptor d;
        try (InputStream in = Files.newInputStream(classes().resolve("module-info.class"))) {
            d = ModuleDescriptor.read(in);
        }
        assertThat(d.name()).isEqualTo("dev.bufsync.buffer");
        assertThat(d.exports()).singleElement().satisfies(e -> {
            assertThat(e.source()).isEqualTo("dev.bufsync.buffer");
            assertThat(e.isQualified()).isFalse();
        });
        assertThat(d.requires()).anySatisfy(r -> {
            assertThat(r.name()).isEqualTo("dev.bufsync.core");
            assertThat(r.modifiers()).contains(ModuleDescriptor.Requires.Modifier.TRANSITIVE);
        });
    }

    /** The descriptor is class-file version 61 (Java 17), so that Maven's jar tool on 17 can read it. */
    @Test
    void descriptorIsJava17() throws Exception {
        byte[] bytes = Files.readAllBytes(classes().resolve("module-info.class"));
        int major = ((bytes[6] & 0xff) << 8) | (bytes[7] & 0xff);
        assertThat(major).isEqualTo(61);
    }

    /** The public types are few; everything else is package-private. */
    @Test
    void publicTypesAreFew() throws IOException, URISyntaxException, ClassNotFoundException {
        Set<String> publicTypes = new TreeSet<>();
        try (Stream<Path> files = Files.list(classes().resolve("dev/bufsync/buffer"))) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String file = p.getFileName().toString();
                if (file.endsWith(".class") && !file.contains("$") && !file.equals("package-info.class")) {
                    Class<?> c = Class.forName("dev.bufsync.buffer." + file.substring(0, file.length() - 6));
                    if (Modifier.isPublic(c.getModifiers())) {
                        publicTypes.add(c.getSimpleName());
                    }
                }
            }
        }
        assertThat(publicTypes).containsExactly("Access", "Attachment", "BufferClosedException", "BufferSync",
                "CpuAccess", "SharedBuffer");
    }
}
