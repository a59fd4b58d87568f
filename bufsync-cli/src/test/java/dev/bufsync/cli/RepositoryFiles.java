package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Checks that what the product prints names only files its users have: the repository's own. */
public final class RepositoryFiles {
    private static final Pattern MARKDOWN = Pattern.compile("[\\w./-]*\\w\\.md\\b");

    private RepositoryFiles() {
    }

    /**
     * Asserts that every Markdown file {@code text} names exists in this repository (relative to
     * its root), so that help, console output and reports never send a user to a file they lack.
     *
     * @param text what the product printed or wrote
     */
    public static void assertNamesOnlyOwnDocs(String text) {
        Path root = root();
        Matcher m = MARKDOWN.matcher(text);
        while (m.find()) {
            String name = m.group();
            String relative = name.startsWith("./") ? name.substring(2) : name;
            assertThat(root.resolve(relative)).as("a file the output names: %s", name).isRegularFile();
        }
    }

    /** The repository's root: the nearest directory above the working directory holding mvnw. */
    private static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw"))) {
                return p;
            }
        }
        throw new IllegalStateException("no repository root (a directory with mvnw) above " + Path.of("").toAbsolutePath());
    }
}
