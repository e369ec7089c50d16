package dev.meshhub.transport.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.proto.v1.SessionClosing;
import io.grpc.Status;

/**
 * The live directory of node sessions: at most one per node, the newest wins. Every method works
 * from memory and never blocks, so it is safe on gRPC threads.
 */
final class NodeSessions implements NodeDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(NodeSessions.class);

    /** Receives node lifecycle events (EventAdmin in the hub). */
    interface EventSink {
        void post(String topic, Map<String, Object> properties);
    }

    private final ConcurrentHashMap<String, NodeSessionHandle> live = new ConcurrentHashMap<>();
    /** Streams opened but not yet past their Hello; swept like live ones so none can linger. */
    private final Set<NodeSessionHandle> opening = ConcurrentHashMap.newKeySet();
    private final Clock clock;
    private final Duration heartbeatInterval;
    private final Duration heartbeatTimeout;
    private final EventSink events;
    private volatile java.util.function.BiConsumer<NodeSessionHandle, String> onEnded = (session, cause) -> {
    };
    private volatile java.util.function.Consumer<NodeSessionHandle> onRegistered = session -> {
    };

    NodeSessions(Clock clock, Duration heartbeatInterval, Duration heartbeatTimeout, EventSink events) {
        this.clock = clock;
        this.heartbeatInterval = heartbeatInterval;
        this.heartbeatTimeout = heartbeatTimeout;
        this.events = events;
    }

    /** Who to tell when a listed session ends (the dispatcher fails its tasks). */
    void onSessionEnded(java.util.function.BiConsumer<NodeSessionHandle, String> listener) {
        this.onEnded = listener;
    }

    /** Who to tell when a session is listed (the dispatcher sends it its current policy). */
    void onSessionRegistered(java.util.function.Consumer<NodeSessionHandle> listener) {
        this.onRegistered = listener;
    }

    /** The live sessions themselves (for the dispatcher; not for the API). */
    java.util.Collection<NodeSessionHandle> liveSessions() {
        return live.values();
    }

    /** One node's live session. */
    Optional<NodeSessionHandle> live(String nodeId) {
        return Optional.ofNullable(live.get(nodeId));
    }

    /**
     * Registers a session. An older session of the same node is closed at once: the newest session
     * always wins, so two processes sharing a credential cannot both hold the node.
     */
    void opened(NodeSessionHandle session) {
        opening.add(session);
    }

    void register(NodeSessionHandle session) {
        opening.remove(session);
        if (session.isEnded()) {
            return;
        }
        session.markRegistered();
        NodeSessionHandle[] replaced = new NodeSessionHandle[1];
        live.compute(session.nodeId(), (id, old) -> {
            replaced[0] = old;
            return session;
        });
        if (replaced[0] != null) {
            close(replaced[0], SessionClosing.Reason.REPLACED, Status.ABORTED.withDescription(
                    "session replaced by a newer session of node " + session.nodeId() + " from " + session.address()
                            + "; is a second agent running with the same credential?"));
        }
        LOG.info("node {} ({}) joined from {}", session.nodeId(), session.name(), session.address());
        onRegistered.accept(session);
        events.post(NodeEvents.TOPIC_CONNECTED, Map.of(
                NodeEvents.NODE_ID, session.nodeId(),
                NodeEvents.NODE_NAME, session.name(),
                NodeEvents.ADDRESS, session.address()));
    }

    /** The node or its connection ended the stream (half-close, cancel, transport error). */
    void streamEnded(NodeSessionHandle session, String cause) {
        if (session.markEnded()) {
            forget(session, cause);
        }
    }

    /** Ends a session from the hub's side, telling the node why. */
    void close(NodeSessionHandle session, SessionClosing.Reason reason, Status status) {
        if (session.markEnded()) {
            session.closeStream(reason, status);
            forget(session, status.getDescription());
        }
    }

    private void forget(NodeSessionHandle session, String cause) {
        opening.remove(session);
        if (!session.isRegistered()) {
            LOG.debug("stream of node {} from {} ended before its Hello: {}", session.nodeId(), session.address(), cause);
            return;
        }
        boolean wasCurrent = live.remove(session.nodeId(), session);
        Instant lastHeard = session.lastHeard();
        try {
            onEnded.accept(session, cause == null ? "unknown cause" : cause);
        } catch (RuntimeException e) {
            LOG.warn("failing the tasks of node {} after its session ended failed", session.nodeId(), e);
        }
        LOG.info("node {} ({}) left: {}; last heard {}{}", session.nodeId(), session.name(), cause, lastHeard,
                wasCurrent ? "" : " (an older session)");
        events.post(NodeEvents.TOPIC_DISCONNECTED, Map.of(
                NodeEvents.NODE_ID, session.nodeId(),
                NodeEvents.NODE_NAME, session.name(),
                NodeEvents.ADDRESS, session.address(),
                NodeEvents.CAUSE, cause == null ? "unknown" : cause,
                NodeEvents.LAST_HEARTBEAT_MS, lastHeard.toEpochMilli()));
    }

    /**
     * One pass of the heartbeat loop: sends the hub's heartbeat to every session due one, and closes
     * sessions that have been silent past the timeout. Runs on the hub's heartbeat thread.
     */
    void sweep() {
        Instant now = clock.instant();
        for (NodeSessionHandle session : opening) {
            if (Duration.between(session.connectedSince(), now).compareTo(heartbeatTimeout) > 0) {
                close(session, SessionClosing.Reason.REASON_UNSPECIFIED, Status.INVALID_ARGUMENT.withDescription(
                        "no Hello within " + heartbeatTimeout.toMillis() + " ms of opening TaskStream; send Hello first"));
            }
        }
        for (NodeSessionHandle session : live.values()) {
            Instant lastHeard = session.lastHeard();
            if (Duration.between(lastHeard, now).compareTo(heartbeatTimeout) > 0) {
                close(session, SessionClosing.Reason.HEARTBEAT_MISSED, Status.UNAVAILABLE.withDescription(
                        "no heartbeat from node " + session.nodeId() + " for " + heartbeatTimeout.toMillis()
                                + " ms (last heard " + lastHeard + "); closing the session, reconnect to resume"));
            } else if (Duration.between(session.lastSent(), now).compareTo(heartbeatInterval) >= 0) {
                session.sendHeartbeat();
            }
        }
    }

    /** Closes every session because the hub is stopping. */
    void closeAll(String detail) {
        for (NodeSessionHandle session : opening) {
            close(session, SessionClosing.Reason.HUB_STOPPING, Status.UNAVAILABLE.withDescription(detail));
        }
        for (NodeSessionHandle session : live.values()) {
            close(session, SessionClosing.Reason.HUB_STOPPING, Status.UNAVAILABLE.withDescription(detail));
        }
    }

    int size() {
        return live.size();
    }

    @Override
    public List<NodeSession> connected() {
        return live.values().stream()
                .map(NodeSessionHandle::snapshot)
                .sorted(Comparator.comparing(NodeSession::name).thenComparing(NodeSession::nodeId))
                .toList();
    }

    @Override
    public Optional<NodeSession> session(String nodeId) {
        return Optional.ofNullable(live.get(nodeId)).map(NodeSessionHandle::snapshot);
    }

    @Override
    public boolean disconnect(String nodeId, DisconnectCause cause, String detail) {
        NodeSessionHandle session = live.get(nodeId);
        if (session == null) {
            return false;
        }
        if (cause == DisconnectCause.REVOKED) {
            close(session, SessionClosing.Reason.REVOKED, Status.UNAUTHENTICATED.withDescription(
                    "node " + nodeId + " was revoked (" + detail + "); enroll again with a new invite token"));
        } else {
            close(session, SessionClosing.Reason.REASON_UNSPECIFIED, Status.UNAVAILABLE.withDescription(
                    "disconnected by an admin (" + detail + "); reconnect to resume"));
        }
        return true;
    }
}
