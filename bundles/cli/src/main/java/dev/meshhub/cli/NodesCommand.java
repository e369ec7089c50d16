package dev.meshhub.cli;

import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListNodesResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl nodes}: lists connected nodes (all enrolled ones with {@code --all}). */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = "Lists connected nodes; times are ISO-8601 UTC.", subcommands = NodesCommand.Remove.class)
final class NodesCommand implements Callable<Integer> {

    @Option(names = "--all", description = "Also list offline and revoked nodes (adds a STATE column).")
    boolean all;

    @Option(names = "--json", description = "Print a JSON array instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        ListNodesResponse response;
        try (AdminClient client = root.connect()) {
            response = client.call(stub -> stub.listNodes(ListNodesRequest.newBuilder().setIncludeOffline(all).build()));
        }
        root.out().print(json
                ? NodeListing.json(response.getNodesList())
                : NodeListing.table(response.getNodesList(), all));
        root.out().flush();
        if (!json && response.getNodesCount() == 0) {
            root.err().println(all ? "no nodes enrolled" : "no nodes connected (--all lists offline ones too)");
        }
        return 0;
    }

    /** {@code meshctl nodes remove NODE}: forgets a node that is not connected. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Forgets a node that is not connected (an enrollment that never came online, a revoked node):",
                "its name can be enrolled again and its certificate is no longer recognised. Its tasks stay as history."})
    static final class Remove implements Callable<Integer> {
        @picocli.CommandLine.Parameters(paramLabel = "NODE", description = "The node's id (n-...) or name.")
        String node;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            MeshCtl root = MeshCtl.root(spec);
            dev.meshhub.proto.v1.RemoveNodeResponse response;
            try (AdminClient client = root.connect()) {
                response = client.call(stub -> stub.removeNode(dev.meshhub.proto.v1.RemoveNodeRequest.newBuilder().setNode(node).build()));
            }
            root.out().println("removed " + response.getNodeId() + " (" + response.getName() + "); the name can be enrolled again");
            return 0;
        }
    }
}
