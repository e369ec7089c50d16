package dev.meshhub.node;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.Status;
import java.nio.file.Path;

/**
 * What a failed handshake means for the agent: a status after which retrying cannot help ends it
 * with an exit code and a message for the user; anything else (null here) is retried with backoff.
 */
final class HubRefusals {

    private final HubAddress hub;
    private final Path directory;

    HubRefusals(HubAddress hub, Path directory) {
        this.hub = hub;
        this.directory = directory;
    }

    /** The exit an enrollment failure means, or null to retry. */
    AgentExit ofEnrollment(Status status) {
        return switch (status.getCode()) {
            case UNAUTHENTICATED, INVALID_ARGUMENT, PERMISSION_DENIED -> new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED,
                    "enrollment refused: " + StatusText.hubMessage(status));
            case UNIMPLEMENTED -> notTheNodeApi();
            default -> null;
        };
    }

    /** The exit a reconnect handshake failure means, or null to retry. */
    AgentExit ofReconnect(Status status) {
        return switch (status.getCode()) {
            case UNAUTHENTICATED, PERMISSION_DENIED -> rejected(StatusText.hubMessage(status));
            case UNIMPLEMENTED -> notTheNodeApi();
            default -> null;
        };
    }

    /** The hub refused this node's identity (revoked, unknown, expired). */
    AgentExit rejected(String hubSays) {
        return new AgentExit(AgentExit.CREDENTIAL_REJECTED, "this node's certificate or credential was rejected (revoked or"
                + " expired?); delete " + directory + " and enroll with a new invite token (hub: " + hubSays + ")");
    }

    private AgentExit notTheNodeApi() {
        return new AgentExit(AgentExit.USAGE_OR_ENROLLMENT_REFUSED, "the server at " + hub
                + " does not offer meshhub's node API (UNIMPLEMENTED); point --hub at the hub's node port (default "
                + WireHeaders.DEFAULT_NODE_PORT + ")");
    }
}
