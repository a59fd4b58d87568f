package dev.bufsync.cli.torture;

import dev.bufsync.cli.Checks;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** The torture suites by name, and the selection of scenarios from command-line choices. */
final class Suites {
    private Suites() {
    }

    /** Every suite, in the order they run when none is chosen. */
    static Map<String, List<Scenario>> all() {
        Map<String, List<Scenario>> suites = new LinkedHashMap<>();
        suites.put("ww", WwLadder.scenarios());
        suites.put("fence", FenceSuite.scenarios());
        suites.put("exec", ExecSuite.scenarios());
        suites.put("faults", FaultSuite.scenarios());
        suites.put("cluster", ClusterSuite.scenarios());
        suites.put("shared", SharedLadder.scenarios());
        return suites;
    }

    /**
     * The scenarios of the chosen suites (all when none), restricted to the chosen names (all when
     * none).
     *
     * @param spec the command, for a usage error
     * @param suiteNames the chosen suites
     * @param scenarioNames the chosen scenarios
     * @return the scenarios to run, in suite order
     * @throws CommandLine.ParameterException naming an unknown suite or scenario and the valid ones
     */
    static List<Scenario> select(CommandSpec spec, List<String> suiteNames, List<String> scenarioNames) {
        Map<String, List<Scenario>> all = all();
        List<Scenario> chosen = new ArrayList<>();
        for (String name : suiteNames.isEmpty() ? all.keySet() : suiteNames) {
            List<Scenario> suite = all.get(name);
            if (suite == null) {
                throw Checks.usage(spec, "--suite: unknown suite '" + name + "'; the suites are "
                        + String.join(", ", all.keySet()));
            }
            chosen.addAll(suite);
        }
        if (!scenarioNames.isEmpty()) {
            List<String> unknown = new ArrayList<>(scenarioNames);
            chosen.removeIf(s -> !scenarioNames.contains(s.name()));
            for (Iterator<String> it = unknown.iterator(); it.hasNext(); ) {
                String n = it.next();
                if (chosen.stream().anyMatch(s -> s.name().equals(n))) {
                    it.remove();
                }
            }
            if (!unknown.isEmpty()) {
                Set<String> valid = new LinkedHashSet<>();
                for (String name : suiteNames.isEmpty() ? all.keySet() : suiteNames) {
                    all.get(name).forEach(s -> valid.add(s.name()));
                }
                throw Checks.usage(spec, "--scenario: unknown scenario" + (unknown.size() > 1 ? "s " : " ")
                        + String.join(", ", unknown) + "; the scenarios" + (suiteNames.isEmpty() ? "" : " of "
                        + String.join(", ", suiteNames)) + " are " + String.join(", ", valid));
            }
        }
        return chosen;
    }

    /** Completion candidates for {@code --suite}. */
    static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return all().keySet().iterator();
        }
    }
}
