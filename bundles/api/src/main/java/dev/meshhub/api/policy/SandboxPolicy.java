package dev.meshhub.api.policy;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Decides which sandbox policy each node runs under. The transport checks every command against
 * it before dispatch (with the rules of {@code dev.meshhub.proto.v1.PolicyRules}, which the node
 * applies again) and pushes it to the node at handshake and on every change.
 *
 * <p>Implementations must fail closed: a node they know nothing about, or whose settings cannot be
 * read, runs STRICT. With no SandboxPolicy service at all, the hub executes nothing.
 *
 * <p>When a node's policy changes, post an EventAdmin event on {@link #TOPIC_CHANGED} (property
 * {@link #NODE_ID}, or none for "every node") so the transport pushes it to connected nodes.
 */
@ConsumerType
public interface SandboxPolicy {

    /** Event topic: a policy changed. */
    String TOPIC_CHANGED = "dev/meshhub/policy/CHANGED";
    /** Event property: the node whose policy changed; absent when every node's may have. */
    String NODE_ID = "node.id";

    /**
     * The policy of one node. Must answer from memory: it is called on hub network threads.
     *
     * @param nodeId   the node's id
     * @param nodeName the node's name (policies may be configured by name)
     */
    NodePolicy policyFor(String nodeId, String nodeName);
}
