package dev.bufsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A real Ctrl-C (SIGINT) sent to the command line in its own JVM: report, partial summary, exit 130. */
class InterruptsTest {

    @Test
    void sigintStopsTheDemoWithAReportAndStatus130() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/kill")) || Files.isExecutable(Path.of("/usr/bin/kill")),
                "needs kill(1) to send SIGINT");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "demo", "--locking", "ww", "--seconds", "600", "--json").start();
        try {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            StringBuilder err = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                boolean sent = false;
                while ((line = r.readLine()) != null) {
                    err.append(line).append('\n');
                    if (!sent && line.startsWith("[1/1] ww locking")) {
                        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start();
                        assertThat(kill.waitFor()).isZero();
                        sent = true;
                    }
                }
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after Ctrl-C").isTrue();
            assertThat(p.exitValue()).as(err.toString()).isEqualTo(Main.INTERRUPTED);
            assertThat(err.toString()).contains("interrupted").contains("jobs/s");
            List<String> lines = out.get(10, TimeUnit.SECONDS).lines().toList();
            assertThat(lines).hasSize(1);
            JsonNode summary = new ObjectMapper().readTree(lines.get(0));
            assertThat(summary.get("interrupted").asBoolean()).isTrue();
            assertThat(summary.get("fencesPending").asLong()).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    private static String readAll(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
