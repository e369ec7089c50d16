package dev.meshhub.admin.impl;

import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.proto.v1.RemoveNodeRequest;
import dev.meshhub.proto.v1.RemoveNodeResponse;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import dev.meshhub.server.support.Answers;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** The admin API's calls that end a node: revoking it (its session closed at once) and forgetting it. */
final class NodeCalls {

    private static final Logger LOG = LoggerFactory.getLogger(NodeCalls.class);

    private final HubServices services;

    NodeCalls(HubServices services) {
        this.services = services;
    }

    void revoke(RevokeNodeRequest request, StreamObserver<RevokeNodeResponse> responseObserver) {
        String node = request.getNode().trim();
        if (node.isEmpty()) {
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("name the node to revoke by its id or name"));
            return;
        }
        EnrollmentStore enrollment = storeOrFail(services, responseObserver);
        if (enrollment == null) {
            return;
        }
        StoreAnswers.answer(() -> enrollment.revokeNode(node), responseObserver, revoked -> {
            NodeDirectory directory = services.nodes();
            boolean closed = directory != null && directory.disconnect(revoked.nodeId(), DisconnectCause.REVOKED, "revoked by an admin");
            LOG.info("node {} ({}) revoked by an admin{}", revoked.nodeId(), revoked.name(), closed ? "; live session closed" : "");
            services.post(NodeEvents.TOPIC_REVOKED, Map.of(NodeEvents.NODE_ID, revoked.nodeId(), NodeEvents.NODE_NAME, revoked.name()));
            return RevokeNodeResponse.newBuilder().setNodeId(revoked.nodeId()).setSessionClosed(closed).build();
        });
    }

    void remove(RemoveNodeRequest request, StreamObserver<RemoveNodeResponse> responseObserver) {
        String node = request.getNode().trim();
        if (node.isEmpty()) {
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("name the node to remove by its id or name"));
            return;
        }
        EnrollmentStore enrollment = storeOrFail(services, responseObserver);
        if (enrollment == null) {
            return;
        }
        NodeDirectory directory = services.nodes();
        var known = enrollment.find(node);
        if (known.isPresent() && directory != null && directory.session(known.get().nodeId()).isPresent()) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription("node " + known.get().nodeId() + " ("
                    + known.get().name() + ") is connected; revoke it first (meshctl revoke), which closes its session"));
            return;
        }
        StoreAnswers.answer(() -> enrollment.removeNode(node), responseObserver, removed -> {
            LOG.info("node {} ({}) removed by an admin", removed.nodeId(), removed.name());
            return RemoveNodeResponse.newBuilder().setNodeId(removed.nodeId()).setName(removed.name()).build();
        });
    }

    static <T> EnrollmentStore storeOrFail(HubServices services, StreamObserver<T> observer) {
        EnrollmentStore enrollment = services.enrollment();
        if (enrollment == null) {
            Answers.fail(observer, Status.UNAVAILABLE.withDescription(
                    "the hub's enrollment store is not available (journal stopped?); retry shortly"));
        }
        return enrollment;
    }
}
