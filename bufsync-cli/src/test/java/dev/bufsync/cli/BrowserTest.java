package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The browser search: CHROME_BIN first, then PATH names, then install locations; skip or fail without one. */
class BrowserTest {
    @TempDir
    Path dir;

    private Path executable(String name) throws Exception {
        Path p = Files.createFile(dir.resolve(name));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void chromeBinComesFirstThenPathThenInstallLocations() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path onPath = Files.move(executable("google-chrome-stable"), bin.resolve("google-chrome-stable"));
        Path custom = executable("my-chrome");
        Path installed = executable("installed-chrome");
        String path = "/nonexistent" + File.pathSeparator + bin;
        assertThat(Browser.find(Map.of("CHROME_BIN", custom.toString(), "PATH", path), List.of(installed))).contains(custom);
        assertThat(Browser.find(Map.of("PATH", path), List.of(installed))).contains(onPath);
        assertThat(Browser.find(Map.of("PATH", "/nonexistent"), List.of(installed))).contains(installed);
        assertThat(Browser.find(Map.of("PATH", "/nonexistent"), List.of(dir.resolve("absent")))).isEmpty();
    }

    @Test
    void aFileThatCannotRunIsNotABrowser() throws Exception {
        Path plain = Files.createFile(dir.resolve("chromium"));
        assertThat(Browser.find(Map.of("PATH", dir.toString()), List.of())).isEmpty();
        assertThat(Browser.find(Map.of("CHROME_BIN", plain.toString()), List.of())).isEmpty();
    }

    @Test
    void withoutABrowserTheTestIsSkippedUnlessCiRequiresOne() {
        Map<String, String> none = Map.of("PATH", dir.toString());
        assertThatThrownBy(() -> Browser.require(none, List.of())).isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("apt-get install -y chromium").hasMessageContaining("CHROME_BIN");
        assertThatThrownBy(() -> Browser.require(Map.of("PATH", dir.toString(), Browser.REQUIRE, "1"), List.of()))
                .isInstanceOf(AssertionFailedError.class).hasMessageContaining(Browser.REQUIRE);
    }
}
