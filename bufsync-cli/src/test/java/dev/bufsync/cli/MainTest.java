package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The contract every command keeps, enforced by {@link Main}: the version, usage errors that name
 * the command and the option, help that fits 80 columns, {@code --list}, generated completion.
 */
class MainTest {

    /** --version prints the project's version (the pom's), not a placeholder. */
    @Test
    void versionIsTheProjectsVersion() throws Exception {
        Matcher m = Pattern.compile("<artifactId>bufsync-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("..", "pom.xml")));
        assertThat(m.find()).isTrue();
        CliRun run = CliRun.of("--version");
        assertThat(run.status()).isZero();
        assertThat(run.stdout()).startsWith("bufsync " + m.group(1) + " on Java ");
        assertThat(CliRun.of("demo", "--version").stdout()).startsWith("bufsync " + m.group(1) + " ");
    }

    /** A usage error is one line naming the subcommand (not "Usage: torture") and the option, status 2. */
    @Test
    void usageErrorsNameTheCommandAndTheOption() {
        String err = CliRun.usageError("torture", "--threads", "0");
        assertThat(err.lines().toList()).hasSize(1);
        assertThat(err).startsWith("bufsync torture: --threads must be from 1 to 1024, not 0")
                .contains("see 'bufsync torture --help'").doesNotContain("Usage:");
        assertThat(CliRun.usageError("demo", "--drivers", "many")).startsWith("bufsync demo: ").contains("'--drivers'");
        assertThat(CliRun.usageError("demo", "--bogus")).startsWith("bufsync demo: Unknown option: '--bogus'");
    }

    /**
     * Every command's help fits 80 columns and wraps only between words: each description is one
     * string (picocli wraps it; an array would break lines mid-sentence) and appears whole.
     */
    @Test
    void helpFitsEightyColumnsAndWrapsOnlyBetweenWords() {
        for (CommandLine cmd : allCommands(Main.commandLine())) {
            String name = cmd.getCommandSpec().qualifiedName();
            String help = cmd.getUsageMessage();
            for (String line : help.lines().toList()) {
                assertThat(line.length()).as("%s --help line: %s", name, line).isLessThanOrEqualTo(80);
            }
            if (!cmd.getCommandSpec().userObject().getClass().getName().startsWith("dev.bufsync.")) {
                continue;           // picocli's own help and completion commands
            }
            String flat = help.replaceAll("\\s+", " ");
            String[] description = cmd.getCommandSpec().usageMessage().description();
            assertThat(description.length).as("%s's description is one string", name).isLessThanOrEqualTo(1);
            List<String> texts = new ArrayList<>(List.of(description));
            for (OptionSpec o : cmd.getCommandSpec().options()) {
                if (!o.hidden()) {
                    assertThat(o.description().length).as("%s %s's description is one string", name, o.longestName())
                            .isLessThanOrEqualTo(1);
                    texts.add(String.join(" ", o.description()));
                }
            }
            for (String text : texts) {
                for (String piece : text.split("\\$\\{[A-Z-]+}")) {     // the placeholders are rendered
                    String words = piece.replaceAll("\\s+", " ").trim();
                    assertThat(flat).as("%s --help shows, wrapped only between words: %s", name, words).contains(words);
                }
            }
        }
    }

    /** --list prints what a command can run, one per line, and runs nothing. */
    @Test
    void listPrintsWhatACommandCanRun() {
        CliRun torture = CliRun.of("torture", "--list");
        assertThat(torture.status()).isZero();
        assertThat(torture.stdout().lines().toList()).contains("ww abba", "ww stress-mixed", "fence chain-find-race",
                "exec exec-contention");
        CliRun demo = CliRun.of("demo", "--list");
        assertThat(demo.status()).isZero();
        assertThat(demo.stdout().lines().toList()).containsExactly("ww", "global", "naive");
        CliRun bench = CliRun.of("bench", "--list");
        assertThat(bench.status()).isZero();
        assertThat(bench.stdout().lines().toList()).contains("uncontended", "folly-grid", "philosophers");
    }

    /** Off a terminal, a benchmark run prints one line per benchmark, with the time left after the first. */
    @Test
    void benchPrintsOneProgressLinePerBenchmark() throws Exception {
        CliRun run = CliRun.of("bench", "--smoke", "--only", "uncontended,folly-grid", "--json");
        assertThat(run.status()).as(run.stderr()).isZero();
        assertThat(run.summary().get("interrupted").asBoolean()).isFalse();
        List<String> steps = run.stderr().lines().filter(l -> l.startsWith("[")).toList();
        assertThat(steps).hasSize(2);
        assertThat(steps.get(0)).isEqualTo("[1/2] uncontended");
        assertThat(steps.get(1)).matches("\\[2/2] folly-grid, about \\d+ s left");
    }

    /** bufsync completion prints a bash/zsh script that completes the commands and their options. */
    @Test
    void completionScriptCoversCommandsAndOptions() {
        CliRun run = CliRun.of("completion");
        assertThat(run.status()).isZero();
        assertThat(run.stdout()).contains("complete -F").contains("demo").contains("torture").contains("bench")
                .contains("--locking").contains("--scenario");
    }

    private static List<CommandLine> allCommands(CommandLine root) {
        List<CommandLine> all = new ArrayList<>();
        all.add(root);
        for (CommandLine sub : root.getSubcommands().values()) {
            all.addAll(allCommands(sub));
        }
        return all;
    }
}
