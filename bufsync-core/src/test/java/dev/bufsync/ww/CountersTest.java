package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link Counters}: every add of every thread lands in its own counter. */
class CountersTest {

    /** Adds from many threads (so from every stripe) sum up per counter, and counters do not mix. */
    @Test
    void addsFromEveryThreadSumPerCounter() throws Exception {
        Counters c = new Counters();
        int threads = 16;
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            started.add(Thread.ofPlatform().start(() -> {
                for (int counter = Counters.ACQUISITIONS; counter <= Counters.WAIT_NANOS; counter++) {
                    c.add(counter, counter + 1);
                }
            }));
        }
        for (Thread t : started) {
            t.join();
        }
        for (int counter = Counters.ACQUISITIONS; counter <= Counters.WAIT_NANOS; counter++) {
            assertThat(c.sum(counter)).as("counter %d", counter).isEqualTo((long) threads * (counter + 1));
        }
    }
}
