package dev.meshhub.api.node;

/**
 * EventAdmin topics and properties posted by the transport when nodes come and go.
 */
public final class NodeEvents {
    /** Posted when a node's session is registered. */
    public static final String TOPIC_CONNECTED = "dev/meshhub/node/CONNECTED";
    /** Posted when a node's session ends, whatever the cause. */
    public static final String TOPIC_DISCONNECTED = "dev/meshhub/node/DISCONNECTED";
    /** Posted when an admin revokes a node. */
    public static final String TOPIC_REVOKED = "dev/meshhub/node/REVOKED";

    /** Event property: the node id ({@code String}). */
    public static final String NODE_ID = "node.id";
    /** Event property: the node name ({@code String}). */
    public static final String NODE_NAME = "node.name";
    /** Event property: the peer address ({@code String}). */
    public static final String ADDRESS = "node.address";
    /** Event property: why the session ended ({@code String}), on {@link #TOPIC_DISCONNECTED}. */
    public static final String CAUSE = "cause";
    /** Event property: last heartbeat, epoch milliseconds ({@code Long}), on {@link #TOPIC_DISCONNECTED}. */
    public static final String LAST_HEARTBEAT_MS = "node.lastHeartbeatMs";

    private NodeEvents() {
    }
}
