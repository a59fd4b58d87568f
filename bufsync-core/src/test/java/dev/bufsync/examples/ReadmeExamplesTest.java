package dev.bufsync.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/**
 * The README's code is the examples' code: every {@code java} block of README.md is, verbatim, one
 * of the example files of this package here or in bufsync-zookeeper, every example file is in the
 * README, and every example compiles (it is a test source) and runs, printing what it should (the
 * ZooKeeper example in bufsync-zookeeper's ZkExampleTest, against a real server).
 */
class ReadmeExamplesTest {
    private static final Path README = Path.of("..", "README.md");
    private static final Path EXAMPLES = Path.of("src", "test", "java", "dev", "bufsync", "examples");
    /** The examples of the other modules, run by those modules' tests. */
    private static final Path OTHER_EXAMPLES = Path.of("..", "bufsync-zookeeper", "src", "test", "java", "dev",
            "bufsync", "examples");
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);

    /** What each example prints when it runs. */
    private static final Map<Class<?>, String> OUTPUT = Map.of(
            LockAllExample.class, "idle before: false\nidle after: true\n",
            WwTransactionExample.class, "transactions: 20000\n");

    @Test
    void everyJavaBlockOfTheReadmeIsAnExampleFile() throws IOException {
        Map<String, String> examples = exampleFiles(EXAMPLES);
        examples.putAll(exampleFiles(OTHER_EXAMPLES));
        List<String> blocks = readmeBlocks();
        assertThat(blocks).as("java blocks in %s", README).isNotEmpty();
        for (String block : blocks) {
            String name = className(block);
            assertThat(examples).as("the README's example %s is an example file", name).containsKey(name);
            assertThat(block).as("the README's %s is, verbatim, the example file %s.java", name, name)
                    .isEqualTo(examples.get(name));
        }
    }

    @Test
    void everyExampleFileIsInTheReadme() throws IOException {
        List<String> names = readmeBlocks().stream().map(ReadmeExamplesTest::className).toList();
        Map<String, String> all = exampleFiles(EXAMPLES);
        all.putAll(exampleFiles(OTHER_EXAMPLES));
        assertThat(names).containsExactlyInAnyOrderElementsOf(all.keySet());
        assertThat(OUTPUT.keySet().stream().map(Class::getSimpleName).toList())
                .containsExactlyInAnyOrderElementsOf(exampleFiles(EXAMPLES).keySet());
    }

    @Test
    @ResourceLock(Resources.SYSTEM_OUT)
    void everyExampleRunsAndPrintsWhatItShould() throws Exception {
        for (Map.Entry<Class<?>, String> e : OUTPUT.entrySet()) {
            assertThat(run(e.getKey())).as(e.getKey().getSimpleName()).isEqualTo(e.getValue());
        }
    }

    private static String run(Class<?> example) throws Exception {
        Method main = example.getMethod("main", String[].class);
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            main.invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(old);
        }
        return out.toString(StandardCharsets.UTF_8).replace("\r\n", "\n");
    }

    private static List<String> readmeBlocks() throws IOException {
        Matcher m = JAVA_BLOCK.matcher(Files.readString(README));
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    /** The example sources of a directory by class name, except the tests. */
    private static Map<String, String> exampleFiles(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.toList()) {
                String name = p.getFileName().toString().replaceFirst("\\.java$", "");
                if (!name.endsWith("Test")) {
                    files.put(name, Files.readString(p));
                }
            }
        }
        return files;
    }

    private static String className(String source) {
        Matcher m = Pattern.compile("public (?:final )?class (\\w+)").matcher(source);
        return m.find() ? m.group(1) : "(a block without a public class)";
    }
}
