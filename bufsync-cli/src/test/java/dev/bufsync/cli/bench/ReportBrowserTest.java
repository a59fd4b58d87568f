package dev.bufsync.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bufsync.cli.Browser;
import dev.bufsync.cli.CliRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report of a real (tiny, in-process) bench run, rendered in headless Chromium: every
 * benchmark's figure holds its static SVG chart with points or bars, as the browser parsed it
 * (the page has no script). The test reads the DOM Chromium dumps. {@link Browser} finds Chrome or
 * Chromium; without one the test is skipped with the way to install one, or fails under CI
 * ({@code BUFSYNC_REQUIRE_BROWSER=1}).
 */
class ReportBrowserTest {
    private static final Pattern FIGURE = Pattern.compile(
            "<figure class=\"chart\" id=\"chart-([a-z-]+)\"([^>]*)>(.*?)</figure>", Pattern.DOTALL);
    private static final Pattern MARKS = Pattern.compile("<(circle class=\"point\"|rect class=\"bar\")");

    /** A smoke run's report.html shows one chart per benchmark in a real browser. */
    @Test
    void everyChartDrawsInChromium(@TempDir Path dir) throws Exception {
        Path browser = Browser.require();
        Path out = dir.resolve("report");
        CliRun run = CliRun.of("bench", "--smoke", "--out", out.toString());
        assertThat(run.status()).as(run.stdout() + run.stderr()).isZero();
        JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        assertThat(results.get("command").asText()).isEqualTo("bench");

        String dom = dumpDom(browser, out.resolve("report.html"), dir.resolve("profile"));
        Matcher m = FIGURE.matcher(dom);
        List<String> drawn = new java.util.ArrayList<>();
        while (m.find()) {
            assertThat(m.group(3)).as("chart %s", m.group(1)).contains("<svg");
            assertThat(MARKS.matcher(m.group(3)).find()).as("chart %s has points or bars", m.group(1)).isTrue();
            drawn.add(m.group(1));
        }
        assertThat(drawn).containsExactlyElementsOf(Catalog.names());
        assertThat(dom).doesNotContain("<script").contains("theoretical minimum").contains("not measured");
    }

    /** The report loads nothing from the network: no external script, style, font or image. */
    @Test
    void reportIsSelfContained(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("report");
        CliRun run = CliRun.of("bench", "--smoke", "--only", "uncontended",
                "--out", out.toString());
        assertThat(run.status()).isZero();
        String html = Files.readString(out.resolve("report.html"));
        assertThat(html).doesNotContain("<script src").doesNotContain("<link").doesNotContain("@import")
                .doesNotContain("url(").doesNotContain("<img");
    }

    private static String dumpDom(Path browser, Path page, Path profile) throws IOException, InterruptedException {
        Files.createDirectories(profile);
        Path dom = profile.resolveSibling("dom.html");
        Process p = new ProcessBuilder(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
                "--dump-dom", page.toUri().toString())
                .redirectOutput(dom.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                fail(browser + " did not finish within 90 s");
            }
        } finally {
            p.destroyForcibly();
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        assertThat(p.exitValue()).as("chromium exit status").isZero();
        return Files.readString(dom, StandardCharsets.UTF_8);
    }
}
