package dev.bufsync.cli.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM on the same java and class path as this one, running a driver or worker main, and
 * what it printed: {@code READY}, other lines, and a final {@code RESULT <json>}.
 */
final class ChildProcess {
    final int index;
    final Process process;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch ended = new CountDownLatch(1);     // output fully read
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> tail = new ArrayList<>();            // guarded by itself
    private volatile JsonNode result;                               // written by the reader thread
    private int exitCode = -1;                                      // written by the owner thread

    private ChildProcess(int index, Process process) {
        this.index = index;
        this.process = process;
    }

    /** JVM options for short-lived drivers and workers: quick start-up (C1 only). */
    static final List<String> QUICK_START = List.of("-XX:TieredStopAtLevel=1", "-Xss512k");
    /** JVM options for processes whose speed is measured: the full JIT. */
    static final List<String> MEASURING = List.of("-Xss512k");

    /** Starts {@code main} with {@code args} in a new JVM started for quick start-up. */
    static ChildProcess start(int index, Class<?> main, List<String> args) throws IOException {
        return start(index, main, QUICK_START, args);
    }

    /** Starts {@code main} with {@code args} in a new JVM with {@code jvmOptions}. */
    static ChildProcess start(int index, Class<?> main, List<String> jvmOptions, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        command.addAll(jvmOptions);
        command.add(main.getName());
        command.addAll(args);
        ChildProcess c = new ChildProcess(index, new ProcessBuilder(command).redirectErrorStream(true).start());
        Thread.ofVirtual().name(main.getSimpleName() + "-" + index + "-output").start(c::readOutput);
        return c;
    }

    private void readOutput() {
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.equals(ClusterDriver.READY)) {
                    ready.countDown();
                } else if (line.startsWith(ClusterDriver.RESULT)) {
                    result = json.readTree(line.substring(ClusterDriver.RESULT.length()));
                } else if (line.startsWith(ClusterDriver.JOB)) {
                    lines.add(line);                // a record, not worth showing on failure
                } else {
                    lines.add(line);
                    synchronized (tail) {
                        tail.add(line);
                        if (tail.size() > 20) tail.remove(0);
                    }
                }
            }
        } catch (IOException e) {
            // the process died; its exit code tells
        } finally {
            ended.countDown();
        }
    }

    void awaitReady(Duration timeout) throws InterruptedException {
        if (!ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("process " + index + " did not attach within " + timeout.toSeconds()
                    + " s; its output: " + tail());
        }
    }

    /** Waits for a printed line starting with {@code prefix}; returns the rest of it. */
    String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(end - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) throw new IllegalStateException("process " + index + " did not print " + prefix + "; its output: " + tail());
            if (line.startsWith(prefix)) return line.substring(prefix.length()).trim();
        }
    }

    /** The printed lines not consumed yet that start with {@code prefix}, without it (others are dropped). */
    List<String> drainLines(String prefix) {
        List<String> all = new ArrayList<>();
        lines.drainTo(all);
        return all.stream().filter(l -> l.startsWith(prefix)).map(l -> l.substring(prefix.length())).toList();
    }

    /** Waits for the process to exit (killing it after {@code timeout}) and for its output. */
    void awaitExit(Duration timeout) throws InterruptedException {
        if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            exitCode = process.exitValue();
        } else {
            process.destroyForcibly();
        }
        ended.await(10, TimeUnit.SECONDS);
    }

    /** Writes one line to the process's standard input. */
    void send(String line) throws IOException {
        var in = process.getOutputStream();
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        in.flush();
    }

    void kill() {
        process.destroyForcibly();              // SIGKILL on Linux and macOS
    }

    int exitCode() {
        return exitCode;
    }

    JsonNode result() {
        return result;
    }

    boolean succeeded() {
        return exitCode == 0 && result != null;
    }

    List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }
}
