package dev.meshhub.cli;

import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ListManagementTasksResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl admin ...}: the hub's own housekeeping (for now, its management tasks). */
@Command(name = "admin", mixinStandardHelpOptions = true, description = "Inspects the hub's own housekeeping.",
        subcommands = {AdminCommand.Tasks.class})
final class AdminCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: tasks");
    }

    @Command(name = "tasks", mixinStandardHelpOptions = true,
            description = {"Lists the management tasks the hub's scheduler runs (monitor, cleanups, ...) and how"
                    + " their runs went.",
                "Below the table: why an ignored task is not run, and each task's last error."})
    static final class Tasks implements Callable<Integer> {

        @Option(names = "--json", description = "Print a JSON array with every field instead of a table.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            ListManagementTasksResponse response;
            try (AdminClient client = root.connect()) {
                response = client.call(stub -> stub.listManagementTasks(ListManagementTasksRequest.getDefaultInstance()));
            }
            root.out().print(json ? ManagementTaskListing.json(response.getTasksList())
                    : ManagementTaskListing.table(response.getTasksList(), root.clock().millis()));
            root.out().flush();
            if (!json && response.getTasksCount() == 0) {
                root.err().println("no management tasks registered");
            }
            return 0;
        }
    }
}
