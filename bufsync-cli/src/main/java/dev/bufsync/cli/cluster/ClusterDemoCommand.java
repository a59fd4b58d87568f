package dev.bufsync.cli.cluster;

import dev.bufsync.cli.Output;
import java.util.Map;
import picocli.CommandLine;

/** The {@code demo --cluster} entry point: checks the options, runs the demo, prints the summary. */
public final class ClusterDemoCommand {
    private ClusterDemoCommand() {
    }

    /**
     * Runs {@code demo --cluster}.
     *
     * @return the exit status
     * @throws CommandLine.ParameterException for a bad combination of options
     */
    public static int run(CommandLine.Model.CommandSpec spec, ClusterDemo.Settings settings, boolean json) throws Exception {
        String problem = settings.problem();
        if (problem != null) throw new CommandLine.ParameterException(spec.commandLine(), problem);
        Output out = Output.stdout();
        Map.Entry<Integer, Map<String, Object>> result = ClusterDemo.run(settings, out);
        if (json) out.json(result.getValue());
        return result.getKey();
    }
}
