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

    /**
     * Enrollments and handshakes the node port refused since it started, by reason: {@code rate_limited},
     * {@code no_csr}, {@code bad_csr}, {@code credential_rejected}, {@code timeout}, {@code internal}, or the
     * enrollment store's reason in lower case ({@code malformed}, {@code unknown}, {@code expired}, {@code used},
     * {@code revoked}, {@code name_taken}, {@code deadline}, {@code unavailable}). Never blocks.
     */
    default java.util.Map<String, Long> enrollmentRefusals() {
        return java.util.Map.of();
    }
}
