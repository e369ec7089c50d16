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

    /**
     * Posted when a second session presents a node's identity while one is registered: refused while
     * the registered one is alive, else it replaces it. An audit row is written too.
     */
    public static final String TOPIC_TAKEOVER = "dev/meshhub/node/TAKEOVER";
    /** Event property on {@link #TOPIC_TAKEOVER}: {@code "refused"} or {@code "replaced"}. */
    public static final String OUTCOME = "takeover.outcome";
    /** Event property on {@link #TOPIC_TAKEOVER}: the session already registered ({@code String}). */
    public static final String PREVIOUS_SESSION_ID = "takeover.previousSessionId";
    /** Event property on {@link #TOPIC_TAKEOVER}: that session's peer address ({@code String}). */
    public static final String PREVIOUS_ADDRESS = "takeover.previousAddress";
    /** Event property on {@link #TOPIC_TAKEOVER}: the newcomer's session ({@code String}); its address is {@link #ADDRESS}. */
    public static final String SESSION_ID = "takeover.sessionId";

    /** Event property: the node id ({@code String}). */
    public static final String NODE_ID = "node.id";
    /** Event property: the node name ({@code String}). */
    public static final String NODE_NAME = "node.name";
    /** Event property: the peer address ({@code String}). */
    public static final String ADDRESS = "node.address";
    /** Event property: why the session ended ({@code String}), on {@link #TOPIC_DISCONNECTED}. */
    public static final String CAUSE = "cause";
    /**
     * Event property: why the session ended, as a bounded word ({@code String}), on {@link #TOPIC_DISCONNECTED}:
     * {@code node_ended} (the node or its connection ended the stream), or the reason the hub gave the node,
     * lower case: {@code replaced}, {@code revoked}, {@code hub_stopping}, {@code heartbeat_missed},
     * {@code already_connected}, {@code certificate_expired}. For metrics and dashboards; {@link #CAUSE} has the words.
     */
    public static final String CAUSE_KIND = "cause.kind";
    /** Event property: last heartbeat, epoch milliseconds ({@code Long}), on {@link #TOPIC_DISCONNECTED}. */
    public static final String LAST_HEARTBEAT_MS = "node.lastHeartbeatMs";

    private NodeEvents() {
    }
}
