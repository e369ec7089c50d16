package dev.meshhub.api.node;

import java.time.Instant;
import java.util.Objects;

/**
 * A snapshot of one live node session, as the hub's node directory sees it.
 *
 * @param nodeId         the node's stable id
 * @param name           the name the node enrolled with
 * @param address        the peer address of the session's connection
 * @param connectedSince when the session's stream was opened
 * @param lastHeartbeat  when the hub last heard from the node on this session
 * @param takeovers      how often, since the hub started, a second session presented this node's
 *                       identity while one was registered (refused or replacing it)
 * @param lastTakeoverAddress the peer address of the last such session, or ""
 * @param confinement    how the node confines STRICT tasks, as its Hello said ("bwrap", "unconfined: why"),
 *                       or "" when it did not say (an older agent)
 */
public record NodeSession(String nodeId, String name, String address, Instant connectedSince, Instant lastHeartbeat,
                          long takeovers, String lastTakeoverAddress, String confinement) {

    /** A session no other session ever contended with. */
    public NodeSession(String nodeId, String name, String address, Instant connectedSince, Instant lastHeartbeat) {
        this(nodeId, name, address, connectedSince, lastHeartbeat, 0, "", "");
    }

    /** The constructor of version 1.1 (no confinement reported). */
    public NodeSession(String nodeId, String name, String address, Instant connectedSince, Instant lastHeartbeat,
            long takeovers, String lastTakeoverAddress) {
        this(nodeId, name, address, connectedSince, lastHeartbeat, takeovers, lastTakeoverAddress, "");
    }

    public NodeSession {
        Objects.requireNonNull(confinement, "confinement");
        Objects.requireNonNull(lastTakeoverAddress, "lastTakeoverAddress");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(connectedSince, "connectedSince");
        Objects.requireNonNull(lastHeartbeat, "lastHeartbeat");
    }
}
