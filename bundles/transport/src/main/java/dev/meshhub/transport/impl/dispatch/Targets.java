package dev.meshhub.transport.impl.dispatch;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;

/** Which node a task is for: an enrolled node (by id or name), not revoked, with a live session. */
final class Targets {

    /** The node a task is for, its session, and how messages name it. */
    record Target(EnrolledNode node, NodeSessionHandle session, String label) {
    }

    private final NodeSessions sessions;
    private volatile EnrollmentStore enrollmentStore;

    Targets(NodeSessions sessions) {
        this.sessions = sessions;
    }

    void bind(EnrollmentStore store) {
        enrollmentStore = store;
    }

    void unbind(EnrollmentStore store) {
        if (enrollmentStore == store) {
            enrollmentStore = null;
        }
    }

    /**
     * @throws DispatchException UNAVAILABLE without an enrollment store, UNKNOWN_NODE, NODE_OFFLINE
     */
    Target resolve(String node) {
        EnrollmentStore store = enrollmentStore;
        if (store == null) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the enrollment store is not available (journal stopped?); retry shortly");
        }
        EnrolledNode target;
        try {
            target = store.find(node).filter(n -> !n.revoked()).orElseThrow(() -> new DispatchException(
                    DispatchException.Reason.UNKNOWN_NODE, "no enrolled node with id or name '" + shorten(node) + "'"));
        } catch (DispatchException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the enrollment store is not available; retry shortly", e);
        }
        String label = target.name() + " (" + target.nodeId() + ")";
        NodeSessionHandle session = sessions.live(target.nodeId()).orElseThrow(() -> new DispatchException(
                DispatchException.Reason.NODE_OFFLINE, "node " + label + " is not connected"));
        return new Target(target, session, label);
    }

    private static String shorten(String text) {
        return text.length() > 100 ? text.substring(0, 100) + "..." : text;
    }
}
