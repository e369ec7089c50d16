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
 */
public record NodeSession(String nodeId, String name, String address, Instant connectedSince, Instant lastHeartbeat) {
    public NodeSession {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(connectedSince, "connectedSince");
        Objects.requireNonNull(lastHeartbeat, "lastHeartbeat");
    }
}
