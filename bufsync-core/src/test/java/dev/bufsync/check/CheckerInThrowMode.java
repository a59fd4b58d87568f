package dev.bufsync.check;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit extension, registered on an instance field with {@code @RegisterExtension}, that runs
 * each test against a clean checker in {@link CheckPolicy#THROW} and records the cycles it
 * reports.
 *
 * <p>Guarantees: before each test (and before the test class's own {@code @BeforeEach} methods)
 * the global policy is {@code THROW}, the checker's graph is reset and {@link #reported()} hears
 * of every cycle; after each test (and after the class's own {@code @AfterEach} methods) the
 * listener is removed, the graph is reset again and the global policy is the one the test found.
 */
final class CheckerInThrowMode implements BeforeEachCallback, AfterEachCallback {
    private final List<DependencyCycle> reported = new CopyOnWriteArrayList<>();
    private final Consumer<DependencyCycle> listener = reported::add;
    private CheckPolicy runPolicy;

    /** The cycles reported to the listener during the current test, in order. */
    List<DependencyCycle> reported() {
        return reported;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        runPolicy = Checker.policy();
        Checker.setPolicy(CheckPolicy.THROW);
        Checker.reset();
        Checker.addCycleListener(listener);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Checker.removeCycleListener(listener);
        Checker.reset();
        Checker.setPolicy(runPolicy);
    }
}
