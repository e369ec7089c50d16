package dev.meshhub.transport.impl.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.api.node.NodeLinkStats;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.server.support.GrpcServers;
import dev.meshhub.transport.impl.TransportConfig;
import dev.meshhub.transport.impl.TransportConfigCheck;
import io.grpc.Status;

/**
 * The live directory of node sessions: at most one per node, the newest wins. Every method works
 * from memory and never blocks, so it is safe on gRPC threads. Its heartbeat thread sends the hub's
 * heartbeats and closes sessions silent past the timeout.
 *
 * <p>The heartbeat settings apply live: a change is pushed to every connected node at once
 * ({@code HubMessage.settings_update}), and for one old timeout the hub still allows the longer of
 * the old and new timeouts, so a node that had not yet read the change is never dropped for it.
 */
@Component(service = {NodeDirectory.class, NodeSessions.class}, configurationPid = TransportConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
public final class NodeSessions implements NodeDirectory {

    private static final Logger LOG = LoggerFactory.getLogger(NodeSessions.class);

    /** Receives node lifecycle events (EventAdmin in the hub). */
    public interface EventSink {
        void post(String topic, Map<String, Object> properties);
    }

    /** What nodes are told to follow, and what the hub holds them to. */
    private record Timing(Duration interval, Duration timeout, NodeSettings wire) {
        static Timing of(long intervalMs, long timeoutMs, int maxMessageBytes) {
            return new Timing(Duration.ofMillis(intervalMs), Duration.ofMillis(timeoutMs), NodeSettings.newBuilder()
                    .setHeartbeatIntervalMs((int) intervalMs).setHeartbeatTimeoutMs((int) timeoutMs)
                    .setMaxMessageBytes(maxMessageBytes).build());
        }

        /** How often the heartbeat thread runs: half an interval, between 50 ms and 1 s. */
        long sweepMillis() {
            return Math.max(50, Math.min(1000, interval.toMillis() / 2));
        }
    }

    private final ConcurrentHashMap<String, NodeSessionHandle> live = new ConcurrentHashMap<>();
    /** Streams opened but not yet past their Hello; swept like live ones so none can linger. */
    private final Set<NodeSessionHandle> opening = ConcurrentHashMap.newKeySet();
    private final Set<SessionListener> listeners = new CopyOnWriteArraySet<>();
    private final Clock clock;
    private final EventSink events;
    private final ScheduledExecutorService heartbeats;
    private volatile Timing timing;
    /** After a change: the timeout nodes may still be following, and until when it is honoured. */
    private volatile Duration previousTimeout = Duration.ZERO;
    private volatile Instant graceUntil = Instant.MIN;
    private ScheduledFuture<?> sweeping;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EventAdmin eventAdmin;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile AuditLog auditLog;
    private final Takeovers takeovers;

    /** The component: its own heartbeat thread, events to EventAdmin. */
    @Activate
    public NodeSessions(TransportConfig config, Map<String, Object> properties) {
        TransportConfigCheck.requireUsable(properties);
        this.clock = Clock.systemUTC();
        this.events = this::postEvent;
        this.takeovers = new Takeovers(events, () -> auditLog);
        this.timing = Timing.of(config.heartbeatIntervalMs(), config.heartbeatTimeoutMs(), config.maxInboundMessageBytes());
        this.heartbeats = GrpcServers.timer("meshhub-heartbeat");
        schedule();
    }

    /** For tests: no thread of its own; the test calls {@link #sweep()}. */
    public NodeSessions(Clock clock, Duration heartbeatInterval, Duration heartbeatTimeout, EventSink events) {
        this.clock = clock;
        this.events = events;
        this.takeovers = new Takeovers(events, () -> null);
        this.timing = Timing.of(heartbeatInterval.toMillis(), heartbeatTimeout.toMillis(), 4 * 1024 * 1024);
        this.heartbeats = null;
    }

    @Modified
    void modified(TransportConfig config, Map<String, Object> properties) {
        if (TransportConfigCheck.usable(properties)) {
            changeTiming(config.heartbeatIntervalMs(), config.heartbeatTimeoutMs(), config.maxInboundMessageBytes());
        }
    }

    @Deactivate
    void deactivate() {
        closeAll("the hub's transport is stopping; reconnect with backoff");
        if (heartbeats != null) {
            heartbeats.shutdownNow();
            try {
                heartbeats.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Subscribes a listener (the dispatcher and file sync do in their activation, and unsubscribe in
     * their deactivation). Not a service reference: a listener that needs these sessions to start
     * could not also be bound while they start.
     */
    public void addListener(SessionListener listener) {
        listeners.add(listener);
    }

    public void removeListener(SessionListener listener) {
        listeners.remove(listener);
    }

    /**
     * New heartbeat settings: every connected node is sent them at once; the heartbeat thread follows
     * the new interval; the old timeout stays honoured for one old timeout.
     */
    public synchronized void changeTiming(long intervalMs, long timeoutMs, int maxMessageBytes) {
        Timing old = timing;
        Timing next = Timing.of(intervalMs, timeoutMs, maxMessageBytes);
        if (next.wire().equals(old.wire())) {
            return;
        }
        Instant now = clock.instant();
        previousTimeout = now.isBefore(graceUntil) && previousTimeout.compareTo(old.timeout()) > 0 ? previousTimeout : old.timeout();
        graceUntil = now.plus(previousTimeout);
        timing = next;
        if (next.sweepMillis() != old.sweepMillis()) {
            schedule();
        }
        int told = 0;
        HubMessage update = HubMessage.newBuilder().setSettingsUpdate(next.wire()).build();
        for (NodeSessionHandle session : live.values()) {
            if (session.send(update)) {
                told++;
            }
        }
        LOG.info("heartbeats now every {} ms, timeout {} ms (was {} ms / {} ms); {} connected node(s) told, none disconnected",
                intervalMs, timeoutMs, old.interval().toMillis(), old.timeout().toMillis(), told);
    }

    /** The settings a node is given at its handshake. */
    public NodeSettings nodeSettings() {
        return timing.wire();
    }

    private synchronized void schedule() {
        if (heartbeats == null) {
            return;
        }
        if (sweeping != null) {
            sweeping.cancel(false);
        }
        long every = timing.sweepMillis();
        sweeping = heartbeats.scheduleWithFixedDelay(this::sweepSafely, every, every, TimeUnit.MILLISECONDS);
    }

    private void sweepSafely() {
        try {
            sweep();
        } catch (RuntimeException e) {
            // Never let one bad pass end the heartbeat loop.
            LOG.warn("heartbeat sweep failed", e);
        }
    }

    private void postEvent(String topic, Map<String, Object> properties) {
        EventAdmin admin = eventAdmin;
        if (admin != null) {
            admin.postEvent(new Event(topic, properties));
        }
    }

    /** The live sessions themselves (for the dispatcher; not for the API). */
    public Collection<NodeSessionHandle> liveSessions() {
        return live.values();
    }

    /** A node renewed its certificate: its live session now stands on the new one. */
    public void certificateRenewed(String nodeId, java.security.cert.X509Certificate renewed) {
        NodeSessionHandle session = live.get(nodeId);
        if (session != null && session.certificate() != null) {
            session.certificate(renewed);
        }
    }

    /** One node's live session. */
    public Optional<NodeSessionHandle> live(String nodeId) {
        return Optional.ofNullable(live.get(nodeId));
    }

    /** A session whose stream opened, before its Hello. */
    public void opened(NodeSessionHandle session) {
        opening.add(session);
    }

    public void register(NodeSessionHandle session) {
        opening.remove(session);
        if (session.isEnded()) {
            return;
        }
        // The live session keeps the node (see Takeovers): a newcomer gets it only from a silent one.
        Instant now = clock.instant();
        Duration interval = timing.interval();
        NodeSessionHandle[] previous = new NodeSessionHandle[1];
        boolean[] kept = new boolean[1];
        live.compute(session.nodeId(), (id, old) -> {
            previous[0] = old;
            kept[0] = old != null && Takeovers.alive(old, now, interval);
            return kept[0] ? old : session;
        });
        if (previous[0] != null) {
            takeovers.record(previous[0], session, kept[0], now);
        }
        if (kept[0]) {
            close(session, SessionClosing.Reason.ALREADY_CONNECTED, Status.ALREADY_EXISTS.withDescription("node "
                    + session.nodeId() + " already has a live session (from " + previous[0].address() + "); the live session keeps"
                    + " the node: retry with backoff. If no other agent should be running, someone holds this node's key:"
                    + " revoke it (meshctl revoke " + session.nodeId() + ")"));
            return;
        }
        session.markRegistered();
        if (previous[0] != null) {
            close(previous[0], SessionClosing.Reason.REPLACED, Status.ABORTED.withDescription(
                    "session replaced by a newer session of node " + session.nodeId() + " from " + session.address()
                            + " after this one went silent"));
        }
        LOG.info("node {} ({}) joined from {}", session.nodeId(), session.name(), session.address());
        for (SessionListener listener : listeners) {
            try {
                listener.sessionRegistered(session);
            } catch (RuntimeException e) {
                LOG.warn("a session listener failed for node {}", session.nodeId(), e);
            }
        }
        events.post(NodeEvents.TOPIC_CONNECTED, Map.of(
                NodeEvents.NODE_ID, session.nodeId(),
                NodeEvents.NODE_NAME, session.name(),
                NodeEvents.ADDRESS, session.address()));
    }

    /** The node or its connection ended the stream (half-close, cancel, transport error). */
    public void streamEnded(NodeSessionHandle session, String cause) {
        if (session.markEnded()) {
            forget(session, cause, "node_ended");
        }
    }

    /** Ends a session from the hub's side, telling the node why. */
    public void close(NodeSessionHandle session, SessionClosing.Reason reason, Status status) {
        if (session.markEnded()) {
            session.closeStream(reason, status);
            forget(session, status.getDescription(), reason.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    private void forget(NodeSessionHandle session, String cause, String causeKind) {
        opening.remove(session);
        if (!session.isRegistered()) {
            LOG.debug("stream of node {} from {} ended before its Hello: {}", session.nodeId(), session.address(), cause);
            return;
        }
        boolean wasCurrent = live.remove(session.nodeId(), session);
        Instant lastHeard = session.lastHeard();
        for (SessionListener listener : listeners) {
            try {
                listener.sessionEnded(session, cause == null ? "unknown cause" : cause);
            } catch (RuntimeException e) {
                LOG.warn("a session listener failed after node {}'s session ended", session.nodeId(), e);
            }
        }
        LOG.info("node {} ({}) left: {}; last heard {}{}", session.nodeId(), session.name(), cause, lastHeard,
                wasCurrent ? "" : " (an older session)");
        events.post(NodeEvents.TOPIC_DISCONNECTED, Map.of(
                NodeEvents.NODE_ID, session.nodeId(),
                NodeEvents.NODE_NAME, session.name(),
                NodeEvents.ADDRESS, session.address(),
                NodeEvents.CAUSE, cause == null ? "unknown" : cause,
                NodeEvents.CAUSE_KIND, causeKind,
                NodeEvents.LAST_HEARTBEAT_MS, lastHeard.toEpochMilli()));
    }

    /**
     * One pass of the heartbeat loop: sends the hub's heartbeat to every session due one, and closes
     * sessions that have been silent past the timeout. Runs on the hub's heartbeat thread.
     */
    public void sweep() {
        Instant now = clock.instant();
        Timing current = timing;
        Duration heartbeatTimeout = now.isBefore(graceUntil) && previousTimeout.compareTo(current.timeout()) > 0
                ? previousTimeout : current.timeout();
        Duration heartbeatInterval = current.interval();
        for (NodeSessionHandle session : opening) {
            if (Duration.between(session.connectedSince(), now).compareTo(heartbeatTimeout) > 0) {
                close(session, SessionClosing.Reason.REASON_UNSPECIFIED, Status.INVALID_ARGUMENT.withDescription(
                        "no Hello within " + heartbeatTimeout.toMillis() + " ms of opening TaskStream; send Hello first"));
            }
        }
        for (NodeSessionHandle session : live.values()) {
            Instant lastHeard = session.lastHeard();
            Instant validUntil = session.certificateValidUntil();
            if (validUntil != null && !now.isBefore(validUntil)) {
                close(session, SessionClosing.Reason.CERTIFICATE_EXPIRED, Status.UNAUTHENTICATED.withDescription(
                        "the node certificate of " + session.nodeId() + " expired at " + validUntil + " and was not renewed;"
                                + " this node must enroll again with a new invite token"));
            } else if (Duration.between(lastHeard, now).compareTo(heartbeatTimeout) > 0) {
                close(session, SessionClosing.Reason.HEARTBEAT_MISSED, Status.UNAVAILABLE.withDescription(
                        "no heartbeat from node " + session.nodeId() + " for " + heartbeatTimeout.toMillis()
                                + " ms (last heard " + lastHeard + "); closing the session, reconnect to resume"));
            } else if (Duration.between(session.lastSent(), now).compareTo(heartbeatInterval) >= 0) {
                session.sendHeartbeat();
            }
        }
    }

    /** Closes every session because the hub is stopping. */
    public void closeAll(String detail) {
        for (NodeSessionHandle session : opening) {
            close(session, SessionClosing.Reason.HUB_STOPPING, Status.UNAVAILABLE.withDescription(detail));
        }
        for (NodeSessionHandle session : live.values()) {
            close(session, SessionClosing.Reason.HUB_STOPPING, Status.UNAVAILABLE.withDescription(detail));
        }
    }

    public int size() {
        return live.size();
    }

    private final AtomicLong enrollmentAttempts = new AtomicLong();
    private volatile long nodesOnNewCa = -1;

    /** During a CA rotation, how many enrolled nodes hold a certificate of the new CA; -1 when none runs. */
    public void nodesOnNewCa(long count) {
        nodesOnNewCa = count;
    }

    /** Counts an enrollment call that reached the invite token check. */
    public void enrollmentAttempted() {
        enrollmentAttempts.incrementAndGet();
    }

    private final Map<String, java.util.concurrent.atomic.LongAdder> refusals = new ConcurrentHashMap<>();

    /** Counts a refused enrollment or handshake; {@code reason} is one of the bounded words of {@link #enrollmentRefusals()}. */
    public void enrollmentRefused(String reason) {
        refusals.computeIfAbsent(reason, r -> new java.util.concurrent.atomic.LongAdder()).increment();
    }

    @Override
    public Map<String, Long> enrollmentRefusals() {
        Map<String, Long> counted = new java.util.TreeMap<>();
        refusals.forEach((reason, count) -> counted.put(reason, count.sum()));
        return counted;
    }

    @Override
    public NodeLinkStats linkStats() {
        return new NodeLinkStats(enrollmentAttempts.get(), takeovers.refused(), takeovers.replaced(), nodesOnNewCa);
    }

    @Override
    public List<NodeSession> connected() {
        return live.values().stream()
                .map(takeovers::annotate)
                .sorted(Comparator.comparing(NodeSession::name).thenComparing(NodeSession::nodeId))
                .toList();
    }

    @Override
    public Optional<NodeSession> session(String nodeId) {
        return Optional.ofNullable(live.get(nodeId)).map(takeovers::annotate);
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
