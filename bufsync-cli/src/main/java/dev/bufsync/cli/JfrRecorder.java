package dev.bufsync.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code --jfr FILE}: a JDK Flight Recorder recording of the run, with the JDK's default settings
 * and the bufsync events (on by default, each with its own threshold), written to FILE when the
 * run ends, and by the JVM's exit if it is cut short (Ctrl-C). The file opens in JDK Mission
 * Control, or prints with {@code jfr print --events 'dev.bufsync.*' FILE}.
 */
public final class JfrRecorder {
    private static final JfrRecorder NONE = new JfrRecorder(null, null);

    private final Recording recording;   // null when not recording
    private final Path file;

    private JfrRecorder(Recording recording, Path file) {
        this.recording = recording;
        this.file = file;
    }

    /**
     * Starts recording to {@code file}, after checking that it can be written; does nothing if
     * {@code file} is {@code null}.
     *
     * @param spec the command, for the usage error
     * @param file the {@code --jfr} option's value, or {@code null}
     * @return the recorder; {@link #stop(Output)} it when the run ends
     * @throws CommandLine.ParameterException (exit status 2) if {@code file} cannot be written
     */
    public static JfrRecorder start(CommandSpec spec, Path file) {
        if (Checks.outputFile(spec, "--jfr", file) == null) {
            return NONE;
        }
        Recording recording;
        try {
            recording = new Recording(Configuration.getConfiguration("default"));
            recording.setName("bufsync");
            recording.setDestination(file);
        } catch (IOException | ParseException e) {
            throw Checks.usage(spec, "--jfr " + file + ": " + e.getMessage());
        }
        recording.start();                // on exit (Ctrl-C too) the JVM stops it and writes the file
        return new JfrRecorder(recording, file);
    }

    /**
     * Ends the recording and writes the file; says where it went.
     *
     * @param out where to say it
     */
    public void stop(Output out) {
        if (recording == null) {
            return;
        }
        try {
            recording.stop();
        } finally {
            recording.close();
        }
        if (!Files.isRegularFile(file)) {
            throw new UncheckedIOException(new IOException("the recording was not written to " + file));
        }
        out.line("flight recording written to " + file + " (jfr print --events 'dev.bufsync.*' " + file
                + ", or open it in JDK Mission Control)");
    }
}
