package dev.meshhub.api.task;

/**
 * Why the hub refused a task before it reached the node. The message is meant for the person who
 * asked: it names the node and what to do.
 */
public class DispatchException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The kinds of refusal. */
    public enum Reason {
        /** No node with that id or name. */
        UNKNOWN_NODE,
        /** The node is not connected. */
        NODE_OFFLINE,
        /** The node's sandbox policy does not allow it; the message names the rule. */
        POLICY_DENIED,
        /** No sandbox policy service is active: nothing is executed (fail closed). */
        NO_POLICY,
        /** The node has too many tasks pending; retry later. */
        BUSY,
        /** The request itself is invalid. */
        INVALID,
        /** The journal (or the hub) cannot take work now. */
        UNAVAILABLE
    }

    private final Reason reason;

    public DispatchException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public DispatchException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
