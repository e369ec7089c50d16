package dev.meshhub.api.node;

/**
 * Counters of the node port since the transport started, for monitoring and for proving what did
 * not happen (a node that refused the hub's certificate never reaches the token check).
 *
 * @param enrollmentAttempts enrollment calls that reached the invite token check (whatever their outcome)
 * @param takeoversRefused   sessions refused because another session of the same node was alive
 * @param takeoversReplaced  sessions that replaced a silent session of the same node
 * @param nodesOnNewCa       during a CA rotation, enrolled nodes known to hold a certificate of the new
 *                           CA; -1 when no rotation runs
 */
public record NodeLinkStats(long enrollmentAttempts, long takeoversRefused, long takeoversReplaced, long nodesOnNewCa) {

    /** Counters outside a CA rotation (the constructor of version 1.1, kept for directories written against it). */
    public NodeLinkStats(long enrollmentAttempts, long takeoversRefused, long takeoversReplaced) {
        this(enrollmentAttempts, takeoversRefused, takeoversReplaced, -1);
    }
}
