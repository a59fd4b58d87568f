package dev.bufsync.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Fences across sessions on a real three-server ensemble. */
class ZkFenceTest {
    private static Ensemble ensemble;

    @BeforeAll
    static void start() throws Exception {
        ensemble = new Ensemble();
    }

    @AfterAll
    static void stop() throws Exception {
        ensemble.close();
    }

    /** A waiter in another session wakes when the producer signals, with or without an error. */
    @Test
    void signalWakesWaiterInAnotherSession() throws Exception {
        String root = Ensemble.root();
        ZkCluster producer = ensemble.attach(root);
        ZkCluster consumer = ensemble.attach(root);
        try (ZkFenceContext ctx = producer.fenceContext("gpu");
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            ZkFence ok = ctx.create();
            ZkFence bad = ctx.create();
            ZkFence seen = consumer.fence(ok.path());
            assertThat(seen.isSignalled()).isFalse();
            Future<?> waiter = pool.submit(() -> {
                seen.await(Ensemble.WAIT);
                return null;
            });
            ctx.signal(ok);
            waiter.get(60, TimeUnit.SECONDS);
            assertThat(seen.error()).isNull();
            ctx.signal(bad, "checksum mismatch");
            ZkFence seenBad = consumer.fence(bad.path());
            seenBad.await(Ensemble.WAIT);
            assertThat(seenBad.error()).isEqualTo("checksum mismatch");
            assertThat(seenBad.isAbandoned()).isFalse();
            assertThatThrownBy(() -> ctx.signal(ok)).hasMessageContaining("not a pending fence");
        }
    }

    /** A waiter that gives up gets a TimeoutException naming the fence; the fence stays pending. */
    @Test
    void awaitTimesOut() throws Exception {
        String root = Ensemble.root();
        try (ZkFenceContext ctx = ensemble.attach(root).fenceContext("slow")) {
            ZkFence f = ctx.create();
            ZkFence seen = ensemble.attach(root).fence(f.path());
            assertThatThrownBy(() -> seen.await(Duration.ofMillis(200)))
                    .isInstanceOf(TimeoutException.class).hasMessageContaining(f.path());
            assertThatThrownBy(seen::error).hasMessageContaining("not signalled");
        }
    }

    /**
     * A producer killed mid-run (its client vanishes without closing the context): a waiter sees it
     * go and signals all its pending fences with an error; a fence it had signalled stays good.
     */
    @Test
    void killedProducersFencesAreSignalledWithAnError() throws Exception {
        String root = Ensemble.root();
        CuratorFramework doomed = ensemble.client();
        ZkFenceContext ctx = ZkCluster.attach(doomed, root).fenceContext("driver-1");
        ZkFence done = ctx.create();
        ZkFence waited = ctx.create();
        ZkFence nobodyWaits = ctx.create();
        ctx.signal(done);
        ZkCluster consumer = ensemble.attach(root);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            ZkFence seen = consumer.fence(waited.path());
            Future<?> waiter = pool.submit(() -> {
                seen.await(Ensemble.WAIT);
                return null;
            });
            doomed.close();                       // the process is gone: its session ends
            waiter.get(60, TimeUnit.SECONDS);
            assertThat(seen.isAbandoned()).isTrue();
            assertThat(seen.error()).contains("went away");
        }
        ZkFence other = consumer.fence(nobodyWaits.path());
        assertThat(other.isSignalled()).isTrue();
        assertThat(other.isAbandoned()).isTrue();
        ZkFence good = consumer.fence(done.path());
        assertThat(good.isSignalled()).isTrue();
        assertThat(good.error()).isNull();
        assertThat(consumer.fencesAbandoned()).isEqualTo(2);
        assertThat(consumer.reapAbandoned()).isZero();
    }

    /**
     * The producer's session expires: its context fails with the distinct exception, its pending
     * fence is signalled with an error by a reaper, and the name can be opened again.
     */
    @Test
    void sessionLossFailsTheContextAndAbandonsItsFences() throws Exception {
        String root = Ensemble.root();
        CuratorFramework client = ensemble.client();
        ZkCluster cluster = ZkCluster.attach(client, root);
        ZkFenceContext ctx = cluster.fenceContext("driver-2");
        ZkFence pending = ctx.create();
        Ensemble.expireSession(client, ensemble.servers.getConnectString());
        assertThatThrownBy(() -> ctx.signal(pending)).isInstanceOf(ZkSessionLostException.class);
        assertThatThrownBy(ctx::create).isInstanceOf(ZkSessionLostException.class);
        ctx.close();
        ZkCluster reaper = ensemble.attach(root);
        assertThat(reaper.reapAbandoned()).isEqualTo(1);
        ZkFence seen = reaper.fence(pending.path());
        assertThat(seen.isSignalled()).isTrue();
        assertThat(seen.isAbandoned()).isTrue();
        try (ZkFenceContext again = cluster.fenceContext("driver-2")) {
            ZkFence f = again.create();
            again.signal(f);
        }
    }

    /** Closing a context signals its pending fences with an error; a second open of a live name is refused. */
    @Test
    void closeAbandonsPendingAndNamesAreExclusive() throws Exception {
        String root = Ensemble.root();
        ZkCluster cluster = ensemble.attach(root);
        ZkFenceContext ctx = cluster.fenceContext("c");
        ZkFence f = ctx.create();
        assertThatThrownBy(() -> ensemble.attach(root).fenceContext("c"))
                .hasMessageContaining("'c' is already open");
        ctx.close();
        ctx.close();
        ZkFence seen = ensemble.attach(root).fence(f.path());
        assertThat(seen.isSignalled()).isTrue();
        assertThat(seen.error()).contains("closed before signalling");
    }
}
