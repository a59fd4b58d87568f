package dev.bufsync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.ww.WwMutex;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The core module's boundary, checked here because tests run on the class path: the descriptor
 * exports exactly the concept packages, check and management, unqualified, requires java.base,
 * java.management (MXBeans) and jdk.jfr (Flight Recorder events) and nothing else, and is
 * readable by a Java 17 jar tool (the build runs Maven's jar tool on whatever JDK runs Maven).
 */
class ModuleBoundaryTest {
    private static Path moduleInfo() throws Exception {
        return Path.of(WwMutex.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("module-info.class");
    }

    /** dev.bufsync.core exports ww, fence, resv, exec, sched, check and management, and nothing else. */
    @Test
    void exportsExactlyTheApiPackages() throws Exception {
        ModuleDescriptor d;
        try (InputStream in = Files.newInputStream(moduleInfo())) {
            d = ModuleDescriptor.read(in);
        }
        assertThat(d.name()).isEqualTo("dev.bufsync.core");
        Set<String> exported = new TreeSet<>();
        for (ModuleDescriptor.Exports e : d.exports()) {
            assertThat(e.isQualified()).as(e.source()).isFalse();
            exported.add(e.source());
        }
        assertThat(exported).containsExactly("dev.bufsync.check", "dev.bufsync.exec", "dev.bufsync.fence",
                "dev.bufsync.management", "dev.bufsync.resv", "dev.bufsync.sched", "dev.bufsync.ww");
        assertThat(d.requires()).extracting(ModuleDescriptor.Requires::name)
                .containsExactlyInAnyOrder("java.base", "java.management", "jdk.jfr");
    }

    /** The descriptor is class-file version 61 (Java 17); the classes are 65 (Java 21). */
    @Test
    void descriptorIsJava17AndClassesJava21() throws Exception {
        byte[] descriptor = Files.readAllBytes(moduleInfo());
        assertThat(major(descriptor)).isEqualTo(61);
        byte[] mutex = Files.readAllBytes(moduleInfo().resolveSibling("dev/bufsync/ww/WwMutex.class"));
        assertThat(major(mutex)).isEqualTo(65);
    }

    private static int major(byte[] classFile) {
        return ((classFile[6] & 0xff) << 8) | (classFile[7] & 0xff);
    }
}
