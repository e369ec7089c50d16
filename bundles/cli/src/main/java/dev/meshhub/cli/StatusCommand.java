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
        description = {"Shows a snapshot of the mesh the monitor takes now: connected nodes, tasks per state, the"
                + " journal's write backlog, IO locks (live, oldest, expired by the sweep), and any part the monitor"
                + " could not read. --cached shows its last periodic snapshot instead (what data/status/mesh.json holds),"
                + " with its age.",
            "Times are ISO-8601 UTC; ages are relative to now."})
final class StatusCommand implements Callable<Integer> {

    @Option(names = "--json", description = "Print the snapshot in the shape the monitor writes to data/status/mesh.json.")
    boolean json;

    @Option(names = "--cached", description = "Show the monitor's last periodic snapshot rather than one taken now.")
    boolean cached;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        MeshStatusInfo status;
        try (AdminClient client = root.connect()) {
            status = client.call(stub -> stub.getMeshStatus(GetMeshStatusRequest.newBuilder().setFresh(!cached).build()));
        }
        root.out().print(json ? MeshStatusListing.json(status) : MeshStatusListing.text(status, root.clock().millis()));
        root.out().flush();
        return 0;
    }
}
