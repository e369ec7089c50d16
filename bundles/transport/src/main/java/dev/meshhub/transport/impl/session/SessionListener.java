package dev.meshhub.transport.impl.session;

/**
 * Told when a node's session enters the live directory and when it ends. The dispatcher and file sync
 * subscribe with {@link NodeSessions#addListener}; {@link NodeSessions} calls every one.
 * Calls come on whatever thread ended the session (a gRPC thread, the heartbeat thread) and must not
 * block.
 */
public interface SessionListener {

    /** The node said Hello and is listed. */
    default void sessionRegistered(NodeSessionHandle session) {
    }

    /** The session ended; {@code cause} says why, for diagnostics. */
    void sessionEnded(NodeSessionHandle session, String cause);
}
