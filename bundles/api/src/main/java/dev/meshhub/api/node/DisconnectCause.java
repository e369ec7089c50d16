package dev.meshhub.api.node;

/**
 * Why the hub ends a node's session on purpose; tells the node whether to reconnect.
 */
public enum DisconnectCause {
    /** The node was revoked: it must not reconnect with its credential. */
    REVOKED,
    /** An admin asked for it; the node may reconnect. */
    ADMIN_REQUEST
}
