package dev.meshhub.transport.impl.dispatch;

import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.server.wire.TaskMessages;
import dev.meshhub.transport.impl.session.NodeSessionHandle;

/**
 * Which policy each node runs under, and getting it to the node: in the handshake, when its session
 * is listed, and whenever the policy service changes or is replaced. With no policy service (or one
 * that fails) a node is STRICT with nothing allowed: fail closed.
 */
final class PolicyDistribution {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyDistribution.class);

    /** Revisions only grow within a hub process; a node ignores an update older than what it has. */
    private final AtomicLong revision = new AtomicLong(System.currentTimeMillis());
    private volatile SandboxPolicy service;

    void bind(SandboxPolicy policy) {
        service = policy;
    }

    void unbind(SandboxPolicy policy) {
        // Nothing is pushed while no policy is bound: the hub refuses every task meanwhile (fail
        // closed), and a replacement arriving next pushes its own policy.
        if (service == policy) {
            service = null;
        }
    }

    /** The policy service now, or null. */
    SandboxPolicy service() {
        return service;
    }

    /** The node's policy; null (STRICT, nothing allowed) with no service or a failing one. */
    NodePolicy nodePolicy(String nodeId, String nodeName) {
        SandboxPolicy current = service;
        if (current == null) {
            return null;
        }
        try {
            return current.policyFor(nodeId, nodeName);
        } catch (RuntimeException e) {
            // A policy that cannot be read means STRICT with nothing allowed.
            LOG.warn("policy service failed for node {}; treating it as STRICT with nothing allowed", nodeId, e);
            return null;
        }
    }

    /** The wire policy a node runs under now, with a fresh revision (for the handshake). */
    dev.meshhub.proto.v1.SandboxPolicy current(String nodeId, String nodeName) {
        return TaskMessages.toWire(nodePolicy(nodeId, nodeName), revision.incrementAndGet());
    }

    /**
     * Pushes the node's current policy unless the node already has the same one. Pushes for one session
     * (registration, a policy event, a new policy service) may race; the session's monitor makes the
     * compare-and-send one step, so a change is sent once.
     */
    void push(NodeSessionHandle session) {
        NodePolicy now = nodePolicy(session.nodeId(), session.name());
        dev.meshhub.proto.v1.SandboxPolicy next = TaskMessages.toWire(now, 0);
        boolean sent;
        synchronized (session) {
            dev.meshhub.proto.v1.SandboxPolicy previous = session.policySent();
            if (previous != null && previous.getMode() == next.getMode()
                    && previous.getAllowedExecutablesList().equals(next.getAllowedExecutablesList())) {
                return;
            }
            next = next.toBuilder().setRevision(revision.incrementAndGet()).build();
            session.policySent(next);
            sent = session.send(HubMessage.newBuilder().setPolicyUpdate(next).build());
        }
        if (sent) {
            LOG.info("policy of node {} ({}) is now {} (revision {})", session.nodeId(), session.name(), next.getMode(), next.getRevision());
        }
    }
}
