package dev.bufsync.cli.torture;

import dev.bufsync.cli.cluster.ClusterTorture;
import java.util.List;

/** The {@code cluster} suite: adapts {@link ClusterTorture}'s cases to scenarios. */
final class ClusterSuite {
    private ClusterSuite() {
    }

    static List<Scenario> scenarios() {
        return ClusterTorture.cases().stream()
                .map(c -> Scenario.of("cluster", c.name(), c.perAlgorithm(), c.timed(), run -> {
                    ClusterTorture.Outcome o = c.body().run(c.perAlgorithm() ? run.algorithm() : null, run.duration(), run::tick);
                    return new Scenario.Outcome(o.iterations(), o.backoffs(), o.failure());
                }))
                .toList();
    }
}
