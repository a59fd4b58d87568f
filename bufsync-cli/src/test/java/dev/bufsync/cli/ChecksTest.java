package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/** The option checks: numbers in range (never NaN or infinite), writable output files and directories. */
class ChecksTest {
    @Command(name = "probe")
    static final class Probe {
    }

    private final CommandSpec spec = new CommandLine(new Probe()).getCommandSpec();

    @Test
    void secondsRejectNaNInfinityAndOutOfRange() {
        assertThat(Checks.seconds(spec, "--seconds", 0.5, 10)).isEqualTo(0.5);
        assertThat(Checks.seconds(spec, "--seconds", 10, 10)).isEqualTo(10);
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0, -1, 10.5, 1e300}) {
            assertThatThrownBy(() -> Checks.seconds(spec, "--seconds", bad, 10)).as("%s", bad)
                    .isInstanceOf(CommandLine.ParameterException.class)
                    .hasMessageStartingWith("--seconds must be a number of seconds above 0 and at most 10, not ");
        }
    }

    @Test
    void countsStayInRange() {
        assertThat(Checks.count(spec, "--n", 2, 2, 5)).isEqualTo(2);
        assertThatThrownBy(() -> Checks.count(spec, "--n", 6, 2, 5)).hasMessage("--n must be from 2 to 5, not 6");
        assertThatThrownBy(() -> Checks.count(spec, "--n", Integer.MIN_VALUE, 2, 5)).hasMessageContaining("--n");
    }

    @Test
    void outputFileNeedsAnExistingDirectoryAndNoDirectoryInItsPlace(@TempDir Path dir) throws Exception {
        assertThat(Checks.outputFile(spec, "--trace", null)).isNull();
        assertThat(Checks.outputFile(spec, "--trace", dir.resolve("new.json"))).isEqualTo(dir.resolve("new.json"));
        Path existing = Files.writeString(dir.resolve("old.json"), "{}");
        assertThat(Checks.outputFile(spec, "--trace", existing)).isEqualTo(existing);
        assertThatThrownBy(() -> Checks.outputFile(spec, "--trace", dir.resolve("missing").resolve("x.json")))
                .hasMessageStartingWith("--trace ").hasMessageContaining("does not exist");
        assertThatThrownBy(() -> Checks.outputFile(spec, "--trace", dir)).hasMessageContaining("is a directory");
        assertThatThrownBy(() -> Checks.outputFile(spec, "--trace", existing.resolve("x.json")))
                .hasMessageContaining("is not a directory");
    }

    @Test
    void outputDirectoryMayBeNewButItsParentMustExist(@TempDir Path dir) throws Exception {
        assertThat(Checks.outputDirectory(spec, "--out", dir)).isEqualTo(dir);
        assertThat(Checks.outputDirectory(spec, "--out", dir.resolve("report"))).isEqualTo(dir.resolve("report"));
        assertThatThrownBy(() -> Checks.outputDirectory(spec, "--out", dir.resolve("a").resolve("b")))
                .hasMessageStartingWith("--out ").hasMessageContaining("does not exist");
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThatThrownBy(() -> Checks.outputDirectory(spec, "--out", file)).hasMessageContaining("is not a directory");
    }
}
