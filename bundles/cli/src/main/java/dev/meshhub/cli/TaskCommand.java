package dev.meshhub.cli;

import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ReadTaskOutputRequest;
import dev.meshhub.proto.v1.TaskInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl task ID}: one task's record, its diagnostic and the tail of its output; with
 * {@code --output}, its whole output from the hub's log.
 */
@Command(name = "task", mixinStandardHelpOptions = true,
        description = {"Shows one task: its record, diagnostic and output tail.",
            "The tail is the last bytes of its output: stdout and stderr interleaved,",
            "bytes that are not UTF-8 shown as U+FFFD.",
            "With --output: the task's whole output from its log on the hub, raw bytes",
            "(stdout to stdout, stderr to stderr), while it runs too; --follow streams on",
            "until it ends."},
        footerHeading = "%n",
        footer = {"Examples:",
            "  meshctl task t-0123456789abcdef --output > build.log",
            "  meshctl task t-0123456789abcdef --output --follow",
            "  meshctl task t-0123456789abcdef --output --stderr-only",
            "  meshctl task t-0123456789abcdef --output --offset 1048576 --follow",
            "",
            "Exit codes (--output): 0 the log holds all of the task's output; 125 the log was truncated"
                + " (a cap, a full disk: stderr says where); 1 no log of that task (retention removed it, or the"
                + " hub keeps no logs), or the hub cannot be reached; 130 Ctrl-C."})
final class TaskCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ID", description = "The task's id (see 'meshctl tasks').")
    String taskId;

    @Option(names = "--json", description = "Print a JSON object (with \"outputTail\") instead of text.")
    boolean json;

    @Option(names = "--output", description = "Print the task's whole output from its log on the hub instead of its record.")
    boolean output;

    @Option(names = "--follow", description = "With --output: keep printing while the task runs, until it ends.")
    boolean follow;

    @Option(names = "--stderr-only", description = "With --output: only what the task wrote to stderr (printed to stdout).")
    boolean stderrOnly;

    @Option(names = "--stdout-only", description = "With --output: only what the task wrote to stdout.")
    boolean stdoutOnly;

    @Option(names = "--offset", paramLabel = "BYTES", description = "With --output: start at this output byte (both streams"
            + " counted together, from 0), e.g. where an interrupted exec stopped.")
    long offset;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        CommandLine cl = spec.commandLine();
        if (!output && (follow || stderrOnly || stdoutOnly || offset != 0)) {
            throw new CommandLine.ParameterException(cl, "--follow, --stderr-only, --stdout-only and --offset go with --output");
        }
        if (output && json) {
            throw new CommandLine.ParameterException(cl, "--output prints raw bytes; it does not go with --json");
        }
        if (stderrOnly && stdoutOnly) {
            throw new CommandLine.ParameterException(cl, "give --stderr-only or --stdout-only, not both");
        }
        if (offset < 0) {
            throw new CommandLine.ParameterException(cl, "--offset must be 0 or more");
        }
        if (output) {
            return new TaskOutputCommand(root).run(taskId, offset, follow, stderrOnly ? ReadTaskOutputRequest.Streams.STDERR_ONLY
                    : stdoutOnly ? ReadTaskOutputRequest.Streams.STDOUT_ONLY : ReadTaskOutputRequest.Streams.BOTH);
        }
        TaskInfo task;
        try (AdminClient client = root.connect()) {
            task = client.call(stub -> stub.getTask(GetTaskRequest.newBuilder().setTaskId(taskId).build()));
        }
        root.out().print(json ? TaskListing.jsonDetail(task) : TaskListing.detail(task));
        root.out().flush();
        return 0;
    }
}
