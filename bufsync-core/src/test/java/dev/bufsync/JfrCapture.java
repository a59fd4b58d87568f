package dev.bufsync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import jdk.jfr.EventSettings;
import jdk.jfr.EventType;
import jdk.jfr.Recording;
import jdk.jfr.SettingDescriptor;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * A Flight Recorder recording of chosen bufsync events for a test: start it, make the situation
 * happen, then {@link #events(String)} stops the recording, dumps it to a file and reads the
 * events of one type back with {@link RecordingFile}, as any JFR consumer would.
 */
public final class JfrCapture implements AutoCloseable {
    private final Recording recording = new Recording();
    private List<RecordedEvent> all;

    private JfrCapture() {
    }

    /**
     * Starts a recording of {@code events}, each mapped to its threshold ({@code null}: the
     * event's default).
     */
    public static JfrCapture start(Map<String, Duration> events) {
        JfrCapture c = new JfrCapture();
        events.forEach((name, threshold) -> {
            EventSettings s = c.recording.enable(name);
            if (threshold != null) {
                s.withThreshold(threshold);
            }
        });
        c.recording.start();
        return c;
    }

    /** Starts a recording of {@code events} with threshold 0. */
    public static JfrCapture everything(String... events) {
        JfrCapture c = new JfrCapture();
        for (String name : events) {
            c.recording.enable(name).withThreshold(Duration.ZERO);
        }
        c.recording.start();
        return c;
    }

    /** Stops the recording (on the first call) and returns its events named {@code name}. */
    public List<RecordedEvent> events(String name) {
        if (all == null) {
            recording.stop();
            try {
                Path file = Files.createTempFile("bufsync-test", ".jfr");
                try {
                    recording.dump(file);
                    all = RecordingFile.readAllEvents(file);
                } finally {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    /** The default value of setting {@code setting} (e.g. "threshold") of the event class {@code event}. */
    public static String defaultSetting(Class<? extends jdk.jfr.Event> event, String setting) {
        for (SettingDescriptor d : EventType.getEventType(event).getSettingDescriptors()) {
            if (d.getName().equals(setting)) {
                return d.getDefaultValue();
            }
        }
        throw new AssertionError(event.getName() + " has no setting " + setting);
    }

    @Override
    public void close() {
        recording.close();
    }
}
