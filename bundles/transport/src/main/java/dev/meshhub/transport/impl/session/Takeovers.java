package dev.meshhub.transport.impl.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.api.node.NodeSession;

/**
 * Two sessions presenting one node's identity: the rule, and the record of it.
 *
 * <p>The rule: <b>the live session keeps the node</b>. A newcomer is refused while the registered
 * session was heard from within one heartbeat interval and a second; once that session has gone
 * silent the newcomer replaces it. Newest-wins would let a thief holding a copy of the node's key cut
 * the real node off silently; with this rule a thief only gets in while the node is really gone, and
 * the attempt is seen either way. The cost: a node whose connection died unseen waits at most one
 * interval before its reconnect is accepted (it retries with backoff meanwhile).
 *
 * <p>The record: a WARN line, an audit row (actor "transport", action "node.takeover.refused" or
 * "node.takeover.replaced"; both addresses and session ids), an EventAdmin event
 * ({@link NodeEvents#TOPIC_TAKEOVER}), and per-node counts that {@code meshctl nodes} shows.
 */
final class Takeovers {

    private static final Logger LOG = LoggerFactory.getLogger(Takeovers.class);
    static final Duration SLACK = Duration.ofSeconds(1);

    /** Per node: how many takeovers, and from where the last one came. */
    private record Count(long count, String lastAddress) {
    }

    private final NodeSessions.EventSink events;
    private final Supplier<AuditLog> audit;
    private final Map<String, Count> byNode = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong replaced = new AtomicLong();

    Takeovers(NodeSessions.EventSink events, Supplier<AuditLog> audit) {
        this.events = events;
        this.audit = audit;
    }

    /** Whether the registered session counts as alive: heard from within the interval and a second. */
    static boolean alive(NodeSessionHandle registered, Instant now, Duration interval) {
        return !registered.isEnded() && Duration.between(registered.lastHeard(), now).compareTo(interval.plus(SLACK)) <= 0;
    }

    /** Records one takeover attempt; {@code kept} tells whether the registered session kept the node. */
    void record(NodeSessionHandle registered, NodeSessionHandle newcomer, boolean kept, Instant now) {
        String outcome = kept ? "refused" : "replaced";
        (kept ? refused : replaced).incrementAndGet();
        byNode.merge(newcomer.nodeId(), new Count(1, newcomer.address()),
                (old, one) -> new Count(old.count() + 1, one.lastAddress()));
        long silentMs = Duration.between(registered.lastHeard(), now).toMillis();
        String detail = "session " + newcomer.sessionId() + " from " + newcomer.address() + " " + outcome + "; session "
                + registered.sessionId() + " from " + registered.address() + " was last heard " + silentMs + " ms before";
        LOG.warn("node {} ({}): a second session presented its identity: {}{}", newcomer.nodeId(), newcomer.name(), detail,
                kept ? "; if no second agent should run, someone holds this node's key: revoke it" : "");
        AuditLog log = audit.get();
        if (log != null) {
            try {
                log.record("transport", "node.takeover." + outcome, newcomer.nodeId(), detail).exceptionally(failure -> {
                    LOG.warn("the takeover audit row of node {} was not written: {}", newcomer.nodeId(), failure.toString());
                    return null;
                });
            } catch (RuntimeException e) {
                LOG.warn("the takeover audit row of node {} was not written: {}", newcomer.nodeId(), e.toString());
            }
        }
        events.post(NodeEvents.TOPIC_TAKEOVER, Map.of(
                NodeEvents.NODE_ID, newcomer.nodeId(),
                NodeEvents.NODE_NAME, newcomer.name(),
                NodeEvents.ADDRESS, newcomer.address(),
                NodeEvents.SESSION_ID, newcomer.sessionId(),
                NodeEvents.PREVIOUS_ADDRESS, registered.address(),
                NodeEvents.PREVIOUS_SESSION_ID, registered.sessionId(),
                NodeEvents.OUTCOME, outcome));
    }

    /** A session's snapshot with its node's takeover count. */
    NodeSession annotate(NodeSessionHandle session) {
        NodeSession plain = session.snapshot();
        Count count = byNode.get(session.nodeId());
        return count == null ? plain : new NodeSession(plain.nodeId(), plain.name(), plain.address(), plain.connectedSince(),
                plain.lastHeartbeat(), count.count(), count.lastAddress(), plain.confinement());
    }

    long refused() {
        return refused.get();
    }

    long replaced() {
        return replaced.get();
    }
}
