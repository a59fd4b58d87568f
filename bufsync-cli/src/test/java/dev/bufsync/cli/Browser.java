package dev.bufsync.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds a Chrome or Chromium for the tests that render a page headless: {@code CHROME_BIN}, then
 * the usual names on {@code PATH}, then the usual install locations on Linux, macOS and Windows.
 * Without one, a test is skipped with a message saying how to install one, unless
 * {@code BUFSYNC_REQUIRE_BROWSER=1} (set by CI, which installs one), where it fails instead.
 */
public final class Browser {
    /** The environment variable that makes a missing browser a failure rather than a skip. */
    public static final String REQUIRE = "BUFSYNC_REQUIRE_BROWSER";

    private static final List<String> NAMES = List.of("chromium", "chromium-browser", "google-chrome",
            "google-chrome-stable", "chrome", "chrome.exe");

    private Browser() {
    }

    /**
     * The browser to use, or the test is skipped (failed under {@value #REQUIRE}).
     *
     * @return the browser's executable
     */
    public static Path require() {
        Map<String, String> env = System.getenv();
        return require(env, wellKnown(env));
    }

    static Path require(Map<String, String> env, List<Path> wellKnown) {
        Optional<Path> browser = find(env, wellKnown);
        if (browser.isPresent()) {
            return browser.get();
        }
        String how = "no Chrome or Chromium found (looked at CHROME_BIN, PATH for " + String.join(", ", NAMES)
                + ", and the usual install locations); install one (Debian/Ubuntu: 'sudo apt-get install -y"
                + " chromium'; Fedora: 'sudo dnf install chromium'; macOS: 'brew install --cask chromium')"
                + " or set CHROME_BIN to it";
        if ("1".equals(env.get(REQUIRE)) || "true".equalsIgnoreCase(env.get(REQUIRE))) {
            fail(how + " (" + REQUIRE + " is set, so this fails instead of skipping)");
        }
        Assumptions.abort(how);
        throw new AssertionError("unreachable");
    }

    /**
     * The first executable among {@code CHROME_BIN}, the usual names on {@code PATH}, and
     * {@code wellKnown}.
     *
     * @param env the environment
     * @param wellKnown install locations to try last
     * @return the browser, if there is one
     */
    static Optional<Path> find(Map<String, String> env, List<Path> wellKnown) {
        List<Path> candidates = new ArrayList<>();
        String chromeBin = env.get("CHROME_BIN");
        if (chromeBin != null && !chromeBin.isBlank()) {
            candidates.add(path(chromeBin));
        }
        String pathVar = env.getOrDefault("PATH", env.getOrDefault("Path", ""));
        for (String dir : pathVar.split(File.pathSeparator)) {
            if (!dir.isBlank()) {
                for (String name : NAMES) {
                    candidates.add(path(dir).resolve(name));
                }
            }
        }
        candidates.addAll(wellKnown);
        return candidates.stream().filter(p -> p != null && Files.isRegularFile(p) && Files.isExecutable(p)).findFirst();
    }

    /** Where Chrome and Chromium install themselves on Linux, macOS and Windows. */
    static List<Path> wellKnown(Map<String, String> env) {
        List<Path> paths = new ArrayList<>();
        for (String p : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium",
                "/usr/lib64/chromium-browser/chromium-browser", "/snap/bin/chromium", "/usr/bin/google-chrome",
                "/usr/bin/google-chrome-stable", "/opt/google/chrome/chrome",
                "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                "/Applications/Chromium.app/Contents/MacOS/Chromium")) {
            paths.add(path(p));
        }
        String home = env.get("HOME");
        if (home != null) {
            paths.add(path(home).resolve("Applications/Google Chrome.app/Contents/MacOS/Google Chrome"));
            paths.add(path(home).resolve("Applications/Chromium.app/Contents/MacOS/Chromium"));
        }
        for (String var : List.of("ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA")) {
            String dir = env.get(var);
            if (dir != null) {
                paths.add(path(dir).resolve("Google/Chrome/Application/chrome.exe"));
            }
        }
        return paths;
    }

    private static Path path(String p) {
        try {
            return Path.of(p);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
