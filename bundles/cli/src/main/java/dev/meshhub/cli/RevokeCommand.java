package dev.meshhub.cli;

import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshctl revoke NODE}: the node's credential stops working and its live session closes. */
@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = "Revokes a node: its credential stops working and its live session is closed at once.")
final class RevokeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NODE", description = "The node's id (n-...) or name.")
    String node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshCtl root = MeshCtl.root(spec);
        RevokeNodeResponse response;
        try (AdminClient client = root.connect()) {
            response = client.call(stub -> stub.revokeNode(RevokeNodeRequest.newBuilder().setNode(node).build()));
        }
        root.out().println("revoked " + response.getNodeId()
                + (response.getSessionClosed() ? "; live session closed" : "; it was not connected"));
        return 0;
    }
}
