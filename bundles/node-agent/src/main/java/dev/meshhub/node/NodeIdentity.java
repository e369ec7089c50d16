package dev.meshhub.node;

import java.util.Objects;

/**
 * What a node keeps after enrollment: its id, its name and its credential.
 *
 * <p>{@link #toString()} leaves the credential out, so an identity can be logged.
 */
public final class NodeIdentity {

    private final String nodeId;
    private final String name;
    private final String credential;

    public NodeIdentity(String nodeId, String name, String credential) {
        this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
        this.name = name == null ? "" : name;
        this.credential = credential == null ? "" : credential;
    }

    public String nodeId() {
        return nodeId;
    }

    public String name() {
        return name;
    }

    /** The bearer secret of a node enrolled before certificates ("" for one that holds a certificate); never log it. */
    public String credential() {
        return credential;
    }

    /** {@code n-... (name)}, for log lines. */
    public String describe() {
        return name.isEmpty() ? nodeId : nodeId + " (" + name + ")";
    }

    @Override
    public String toString() {
        return "NodeIdentity[" + describe() + "]";
    }
}
