package dev.meshhub.cli;

import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.ListTasksResponse;
import dev.meshhub.proto.v1.TaskState;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl tasks}: the task journal, newest first. */
@Command(name = "tasks", mixinStandardHelpOptions = true,
        description = "Lists tasks from the hub's journal, newest first; times are ISO-8601 UTC.")
final class TasksCommand implements Callable<Integer> {

    @Option(names = "--node", paramLabel = "NODE", description = "Only this node's tasks (id or name).")
    String node;

    @Option(names = "--state", paramLabel = "STATE", converter = TaskListing.StateConverter.class,
            description = "Only tasks in this state: queued, dispatched, running, succeeded, failed, cancelled,"
                    + " timed_out (any case).")
    TaskState state;

    @Option(names = "--limit", paramLabel = "N",
            description = "At most N tasks (default: the hub's, 50; the hub caps it at 1000).")
    Integer limit;

    @Option(names = "--json", description = "Print a JSON array instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (limit != null && limit < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--limit must be a positive number, not " + limit);
        }
        ListTasksRequest.Builder request = ListTasksRequest.newBuilder();
        if (node != null) {
            request.setNode(node);
        }
        if (state != null) {
            request.setState(state);
        }
        if (limit != null) {
            request.setLimit(limit);
        }
        MeshCtl root = MeshCtl.root(spec);
        ListTasksResponse response;
        try (AdminClient client = root.connect()) {
            response = client.call(stub -> stub.listTasks(request.build()));
        }
        root.out().print(json ? TaskListing.json(response.getTasksList()) : TaskListing.table(response.getTasksList()));
        root.out().flush();
        if (!json && response.getTasksCount() == 0) {
            root.err().println(node == null && state == null ? "no tasks" : "no tasks match");
        }
        return 0;
    }
}
