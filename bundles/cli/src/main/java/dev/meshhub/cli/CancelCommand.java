package dev.meshhub.cli;

import dev.meshhub.proto.v1.CancelTaskRequest;
import dev.meshhub.proto.v1.CancelTaskResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshctl cancel ID}: asks the hub to cancel a task that has not ended. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = {"Cancels a task that has not ended: the node ends its whole process tree.",
            "The task may take a moment to end; 'meshctl task ID' shows its final state."})
final class CancelCommand implements Callable<Integer> {

    @Parameters(paramLabel = "ID", description = "The task's id (see 'meshctl tasks').")
    String taskId;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why (recorded with the task).")
    String reason;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        CancelTaskRequest.Builder request = CancelTaskRequest.newBuilder().setTaskId(taskId);
        if (reason != null) {
            request.setReason(reason);
        }
        CancelTaskResponse response;
        try (AdminClient client = root.connect()) {
            response = client.call(stub -> stub.cancelTask(request.build()));
        }
        root.out().println(TaskListing.cancelSent(taskId, response.getTask()));
        return 0;
    }
}
