package dev.meshhub.cli;

import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.TaskInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshctl task ID}: one task's record, its diagnostic and the tail of its output. */
@Command(name = "task", mixinStandardHelpOptions = true,
        description = {"Shows one task: its record, diagnostic and output tail.",
            "The tail is the last bytes of its output: stdout and stderr interleaved,",
            "bytes that are not UTF-8 shown as U+FFFD."})
final class TaskCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ID", description = "The task's id (see 'meshctl tasks').")
    String taskId;

    @Option(names = "--json", description = "Print a JSON object (with \"outputTail\") instead of text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        TaskInfo task;
        try (AdminClient client = root.connect()) {
            task = client.call(stub -> stub.getTask(GetTaskRequest.newBuilder().setTaskId(taskId).build()));
        }
        root.out().print(json ? TaskListing.jsonDetail(task) : TaskListing.detail(task));
        root.out().flush();
        return 0;
    }
}
