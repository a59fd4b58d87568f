package dev.bufsync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a class's {@code main} in a fresh JVM of the running JDK, on the test class path, with
 * its own flags: for tests that need a heap of their own, such as the out-of-memory suites in the
 * manner of OpenJDK's {@code test/jdk/java/util/concurrent/locks/Lock/OOMEInAQS.java}. The child's
 * standard output and error are collected; a child that outlives {@code patience} is killed (a
 * safety net: children keep their own watchdog, which reports what is stuck).
 */
public final class ForkedJvm {

    /** What a child left behind: its exit code ({@code -1} if it was killed) and its output. */
    public record Result(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit code " + exitCode + ", output:\n" + output;
        }
    }

    private ForkedJvm() {
    }

    /**
     * Runs {@code main} with {@code jvmFlags} and {@code args} and waits for it.
     *
     * @param main a class with a {@code public static void main(String[])}
     * @param patience how long the child may run before it is killed
     * @param jvmFlags flags for the child JVM, e.g. {@code -Xmx32m}
     * @param args the child's arguments
     * @return the exit code and the output
     * @throws IOException if the child cannot be started or its output read
     * @throws InterruptedException if interrupted while waiting
     */
    public static Result run(Class<?> main, Duration patience, List<String> jvmFlags, String... args)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("the running JVM's command is unknown"));
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        Path out = Files.createTempFile("forked-jvm-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            int exit;
            try {
                if (p.waitFor(patience.toNanos(), TimeUnit.NANOSECONDS)) {
                    exit = p.exitValue();
                } else {
                    p.destroyForcibly().waitFor();
                    exit = -1;
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();                // a test timeout must not leave the child running
                throw e;
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            return new Result(exit, exit == -1 ? output + "\n[killed after " + patience + "]" : output);
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
