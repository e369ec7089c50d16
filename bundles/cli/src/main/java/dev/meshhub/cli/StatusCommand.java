package dev.meshhub.cli;

import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.MeshStatusInfo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshctl status}: the monitor's latest snapshot of the mesh. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows the mesh monitor's latest snapshot: connected nodes, tasks per state, the journal's"
                + " write backlog, IO locks (live, oldest, expired by the sweep), and any part the monitor could"
                + " not read.",
            "Times are ISO-8601 UTC; ages are relative to now."})
final class StatusCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print the snapshot in the shape the monitor writes to data/status/mesh.json.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        MeshStatusInfo status;
        try (AdminClient client = root.connect()) {
            status = client.call(stub -> stub.getMeshStatus(GetMeshStatusRequest.getDefaultInstance()));
        }
        root.out().print(json ? MeshStatusListing.json(status) : MeshStatusListing.text(status, root.clock().millis()));
        root.out().flush();
        return 0;
    }
}
