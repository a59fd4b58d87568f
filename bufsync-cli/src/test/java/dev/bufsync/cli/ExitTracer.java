package dev.bufsync.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Names whoever ends the test JVM: every {@code Runtime.exit} (and {@code System.exit}) with a
 * non-zero status prints the status and stack on the JVM's own standard error, which the build
 * shows, so that a run ending in surefire's "The forked VM terminated without properly saying
 * goodbye" says which code ended it.
 *
 * <p>The JDK logs each {@code Runtime.exit} with its stack to the {@code System.Logger} named
 * {@code java.lang.Runtime} at level DEBUG; this extension enables that logger and gives it a
 * handler on file descriptor 2, which tests that capture {@code System.err} do not redirect.
 * Registered for every test class through {@code META-INF/services} and
 * {@code junit.jupiter.extensions.autodetection.enabled}.
 */
public final class ExitTracer implements BeforeAllCallback {
    /** Held strongly: java.util.logging keeps its loggers only weakly. */
    private static final Logger RUNTIME = Logger.getLogger("java.lang.Runtime");

    static {
        Handler toNativeStandardError = new StreamHandler(new FileOutputStream(FileDescriptor.err), new SimpleFormatter()) {
            @Override
            public synchronized void publish(LogRecord record) {
                super.publish(record);
                flush();
            }
        };
        toNativeStandardError.setLevel(Level.ALL);
        // surefire's own ending, status 0, is not news
        toNativeStandardError.setFilter(r -> r.getThrown() == null || !"Runtime.exit(0)".equals(r.getThrown().getMessage()));
        RUNTIME.addHandler(toNativeStandardError);
        RUNTIME.setLevel(Level.FINE);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        // Loading this class enabled the tracing; nothing more per test class.
    }
}
