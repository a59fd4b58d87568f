package dev.bufsync.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bufsync.resv.HasReservation;
import dev.bufsync.sched.Engine;
import dev.bufsync.sched.EngineStats;
import dev.bufsync.sched.Entity;
import dev.bufsync.sched.Job;
import dev.bufsync.sched.SubmittedJob;
import dev.bufsync.ww.WwClass;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Submissions end to end: threads submit jobs over shared buffers (random buffers, random order,
 * random reads and writes) to engines shared by several entities, with back-off injection on the
 * buffers' lock class. Replaying, buffer by buffer, the order in which the jobs' fences were
 * published, every job saw exactly what the replay says it should: a read the value of the last
 * write before it, a write the value it overwrote. So no write was lost or reordered. Nothing is
 * left pending.
 */
class SubmissionReplayTest {
    private static final int BUFFERS = 8;
    private static final int THREADS = 4;
    private static final int JOBS_PER_THREAD = 150;

    /** One access of a job, in publication order on its buffer. */
    private record Access(long job, boolean write) {
    }

    /** Every job's observations replay exactly, for both algorithms, with injected back-offs. */
    @ParameterizedTest
    @EnumSource(WwClass.Algorithm.class)
    void everyObservationMatchesTheReplay(WwClass.Algorithm algorithm) throws Exception {
        WwClass cls = WwClass.builder("replay-" + algorithm).algorithm(algorithm).injectBackoff(true).build();
        List<SharedBuffer> buffers = new ArrayList<>();
        List<MemorySegment> views = new ArrayList<>();
        List<List<Access>> published = new ArrayList<>();
        for (int b = 0; b < BUFFERS; b++) {
            SharedBuffer buffer = SharedBuffer.allocate("buf-" + b, 64, cls);
            buffers.add(buffer);
            views.add(buffer.attach("device", dev.bufsync.buffer.Access.WRITE).map());
            published.add(new CopyOnWriteArrayList<>());
        }
        Map<Long, Map<Integer, Long>> seen = new ConcurrentHashMap<>();   // job -> buffer -> value seen
        List<Engine> engines = List.of(
                Engine.builder("device-0").credits(2).timeout(Duration.ofSeconds(30)).build(),
                Engine.builder("device-1").credits(2).timeout(Duration.ofSeconds(30)).build());
        AtomicLong ids = new AtomicLong();
        List<SubmittedJob> all = new CopyOnWriteArrayList<>();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            final int me = t;
            Entity entity = engines.get(t % engines.size()).newEntity("entity-" + t);
            threads.add(Thread.ofPlatform().name("submitter-" + t).start(() -> {
                Random rnd = new Random(me);
                try {
                    for (int i = 0; i < JOBS_PER_THREAD; i++) {
                        long id = ids.incrementAndGet();
                        List<Integer> picks = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
                        Collections.shuffle(picks, rnd);
                        int count = 1 + rnd.nextInt(4);
                        List<Integer> writes = new ArrayList<>();
                        List<Integer> reads = new ArrayList<>();
                        for (int k = 0; k < count; k++) {
                            (rnd.nextBoolean() ? writes : reads).add(picks.get(k));
                        }
                        Job job = Job.builder("job-" + id)
                                .writes(objects(buffers, writes)).reads(objects(buffers, reads))
                                .whileLocked(() -> {
                                    for (int b : writes) {
                                        published.get(b).add(new Access(id, true));
                                    }
                                    for (int b : reads) {
                                        published.get(b).add(new Access(id, false));
                                    }
                                })
                                .run(() -> {
                                    Map<Integer, Long> mine = new ConcurrentHashMap<>();
                                    for (int b : reads) {
                                        mine.put(b, views.get(b).get(ValueLayout.JAVA_LONG, 0));
                                    }
                                    for (int b : writes) {
                                        mine.put(b, views.get(b).get(ValueLayout.JAVA_LONG, 0));
                                        views.get(b).set(ValueLayout.JAVA_LONG, 0, id);
                                    }
                                    seen.put(id, mine);
                                })
                                .build();
                        all.add(entity.submit(job));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(failures).isEmpty();
        for (SubmittedJob j : all) {
            assertThat(j.finished().await(Duration.ofSeconds(30))).as(j.name()).isTrue();
            assertThat(j.finished().error()).as(j.name()).isNull();
        }
        long retries = 0;
        for (Engine e : engines) {
            EngineStats s = e.stats();
            assertThat(s.fencesPending()).isZero();
            assertThat(s.queued() + s.inFlight()).isZero();
            retries += s.retries();
            e.close();
        }
        assertThat(retries).as("injected back-offs made submissions retry").isPositive();
        for (int b = 0; b < BUFFERS; b++) {
            long lastWrite = 0;
            for (Access a : published.get(b)) {
                assertThat(seen.get(a.job()).get(b)).as("job %d %s buf-%d after the write of job %d", a.job(),
                        a.write() ? "overwriting" : "reading", b, lastWrite).isEqualTo(lastWrite);
                if (a.write()) {
                    lastWrite = a.job();
                }
            }
            assertThat(views.get(b).get(ValueLayout.JAVA_LONG, 0)).as("final content of buf-%d", b).isEqualTo(lastWrite);
            assertThat(buffers.get(b).close(Duration.ofSeconds(10))).isTrue();
        }
        assertThat(all).hasSize(THREADS * JOBS_PER_THREAD);
    }

    private static List<HasReservation> objects(List<SharedBuffer> buffers, List<Integer> indices) {
        List<HasReservation> out = new ArrayList<>();
        for (int i : indices) {
            out.add(buffers.get(i));
        }
        return out;
    }
}
