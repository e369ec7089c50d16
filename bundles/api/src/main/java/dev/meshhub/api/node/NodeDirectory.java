package dev.meshhub.api.node;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The hub's directory of connected nodes. Offered by the transport bundle; every method answers from
 * memory and never blocks.
 */
@ProviderType
public interface NodeDirectory {

    /** The connected nodes, sorted by name then id. */
    List<NodeSession> connected();

    /** The live session of one node, if it is connected. */
    Optional<NodeSession> session(String nodeId);

    /**
     * Closes a node's live session, if any. The node is told why before its stream ends.
     *
     * @param nodeId the node to disconnect
     * @param cause  whether the node may reconnect
     * @param detail why, in words, shown to the node and logged
     * @return whether a live session was closed
     */
    boolean disconnect(String nodeId, DisconnectCause cause, String detail);

    /** Counters of the node port since the transport started. */
    NodeLinkStats linkStats();
}
