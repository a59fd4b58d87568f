package dev.bufsync.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;

/**
 * The README's ZooKeeper example runs against a real server and prints what it wrote (core's
 * ReadmeExamplesTest checks that the README shows this file verbatim).
 */
class ZkExampleTest {
    @Test
    @ResourceLock(Resources.SYSTEM_OUT)
    void runsAgainstARealServer() throws Exception {
        try (TestingServer server = new TestingServer()) {
            PrintStream old = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                ZkExample.main(new String[] {server.getConnectString()});
            } finally {
                System.setOut(old);
            }
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("a = hello\n");
        }
    }
}
