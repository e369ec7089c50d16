package dev.meshhub.transport.impl;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListNodesResponse;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** The admin API. Like the node service, it never blocks: storage work completes on the store's threads. */
final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServiceImpl.class);
    static final Duration STORE_TIMEOUT = Duration.ofSeconds(10);

    private final Supplier<EnrollmentStore> store;
    private final NodeSessions sessions;
    private final NodeSessions.EventSink events;

    AdminServiceImpl(Supplier<EnrollmentStore> store, NodeSessions sessions, NodeSessions.EventSink events) {
        this.store = store;
        this.sessions = sessions;
        this.events = events;
    }

    @Override
    public void createInvite(CreateInviteRequest request, StreamObserver<CreateInviteResponse> responseObserver) {
        EnrollmentStore enrollment = storeOrFail(responseObserver);
        if (enrollment == null) {
            return;
        }
        Duration ttl = request.getTtlSeconds() == 0 ? null
                : Duration.ofSeconds(Math.min(request.getTtlSeconds(), EnrollmentStore.MAX_INVITE_TTL.toSeconds() + 1));
        answer(() -> enrollment.createInvite(ttl, request.getNote()), responseObserver, invite -> {
            LOG.debug("invite {} created; expires {}", invite.inviteId(), invite.expiresAt());
            return CreateInviteResponse.newBuilder()
                    .setToken(invite.token())
                    .setInviteId(invite.inviteId())
                    .setExpiresAtMs(invite.expiresAt().toEpochMilli())
                    .build();
        });
    }

    @Override
    public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> responseObserver) {
        // Memory only: the live directory plus the store's cached records.
        Map<String, NodeStatus.Builder> byId = new HashMap<>();
        for (NodeSession session : sessions.connected()) {
            byId.put(session.nodeId(), NodeStatus.newBuilder()
                    .setNodeId(session.nodeId())
                    .setName(session.name())
                    .setConnected(true)
                    .setAddress(session.address())
                    .setConnectedSinceMs(session.connectedSince().toEpochMilli())
                    .setLastHeartbeatMs(session.lastHeartbeat().toEpochMilli()));
        }
        EnrollmentStore enrollment = store.get();
        List<EnrolledNode> enrolled = List.of();
        if (enrollment != null) {
            try {
                enrolled = enrollment.nodes();
            } catch (RuntimeException storeStopping) {
                // The journal is stopping: list the live sessions, which need no store.
                LOG.debug("enrolled nodes unavailable: {}", storeStopping.toString());
            }
        }
        for (EnrolledNode node : enrolled) {
            NodeStatus.Builder status = byId.get(node.nodeId());
            if (status == null && request.getIncludeOffline()) {
                status = NodeStatus.newBuilder().setNodeId(node.nodeId()).setName(node.name());
                byId.put(node.nodeId(), status);
            }
            if (status != null) {
                status.setEnrolledAtMs(node.enrolledAt().toEpochMilli()).setRevoked(node.revoked());
            }
        }
        ListNodesResponse.Builder response = ListNodesResponse.newBuilder();
        byId.values().stream()
                .map(NodeStatus.Builder::build)
                .sorted((a, b) -> a.getName().equals(b.getName()) ? a.getNodeId().compareTo(b.getNodeId()) : a.getName().compareTo(b.getName()))
                .forEach(response::addNodes);
        Answers.complete(responseObserver, response.build());
    }

    @Override
    public void revokeNode(RevokeNodeRequest request, StreamObserver<RevokeNodeResponse> responseObserver) {
        String node = request.getNode().trim();
        if (node.isEmpty()) {
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("name the node to revoke by its id or name"));
            return;
        }
        EnrollmentStore enrollment = storeOrFail(responseObserver);
        if (enrollment == null) {
            return;
        }
        answer(() -> enrollment.revokeNode(node), responseObserver, revoked -> {
            boolean closed = sessions.disconnect(revoked.nodeId(), DisconnectCause.REVOKED, "revoked by an admin");
            LOG.info("node {} ({}) revoked by an admin{}", revoked.nodeId(), revoked.name(), closed ? "; live session closed" : "");
            events.post(NodeEvents.TOPIC_REVOKED, Map.of(NodeEvents.NODE_ID, revoked.nodeId(), NodeEvents.NODE_NAME, revoked.name()));
            return RevokeNodeResponse.newBuilder().setNodeId(revoked.nodeId()).setSessionClosed(closed).build();
        });
    }

    private <T> EnrollmentStore storeOrFail(StreamObserver<T> observer) {
        EnrollmentStore enrollment = store.get();
        if (enrollment == null) {
            Answers.fail(observer, Status.UNAVAILABLE.withDescription(
                    "the hub's enrollment store is not available (journal stopped?); retry shortly"));
        }
        return enrollment;
    }

    /** Runs a store operation and answers from the thread that completes it. */
    private static <S, T> void answer(Supplier<CompletionStage<S>> operation, StreamObserver<T> observer, Function<S, T> toResponse) {
        CompletableFuture<S> pending;
        try {
            pending = operation.get().toCompletableFuture().copy();
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        pending.orTimeout(STORE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete(responder(observer, toResponse));
    }

    private static <S, T> BiConsumer<S, Throwable> responder(StreamObserver<T> observer, Function<S, T> toResponse) {
        return (result, failure) -> {
            if (failure == null) {
                T response;
                try {
                    response = toResponse.apply(result);
                } catch (RuntimeException e) {
                    LOG.warn("admin call failed while answering", e);
                    Answers.fail(observer, Status.INTERNAL.withDescription("admin call failed inside the hub; see the hub log"));
                    return;
                }
                Answers.complete(observer, response);
                return;
            }
            Throwable cause = EnrollmentStatuses.unwrap(failure);
            Status status = EnrollmentStatuses.of(cause);
            if (cause instanceof EnrollmentException e && e.reason() == EnrollmentException.Reason.UNKNOWN) {
                // For an admin, an unknown node is "not found", not an authentication failure.
                status = Status.NOT_FOUND.withDescription(e.getMessage());
            }
            if (status == null) {
                LOG.warn("admin call failed", cause);
                status = Status.INTERNAL.withDescription("admin call failed inside the hub; see the hub log");
            } else if (status.getDescription() == null) {
                status = status.withDescription("the hub's database did not answer within " + STORE_TIMEOUT.toSeconds() + " s; retry later");
            }
            Answers.fail(observer, status);
        };
    }
}
