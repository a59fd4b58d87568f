package dev.bufsync;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The records a library {@link System.Logger} writes during a test, as java.util.logging (the
 * default backend of {@code System.getLogger}) receives them: open it on a logger name, make the
 * situation happen, read {@link #messages()}; closing it detaches the handler.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger;          // kept strongly: java.util.logging holds loggers weakly
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private LogCapture(String name) {
        logger = Logger.getLogger(name);
        handler.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    /** Starts capturing what is logged to {@code name} at {@code INFO} and above. */
    public static LogCapture of(String name) {
        return new LogCapture(name);
    }

    /** The records so far, oldest first. */
    public List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** The messages so far, oldest first. */
    public List<String> messages() {
        return records.stream().map(LogRecord::getMessage).toList();
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
