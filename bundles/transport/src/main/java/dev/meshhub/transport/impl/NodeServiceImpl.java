package dev.meshhub.transport.impl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import dev.meshhub.server.support.ApiStatuses;
import dev.meshhub.server.support.Answers;

/**
 * The node-facing service. Handlers never block: enrollment's database work runs on the enrollment
 * store's threads and answers from there; reconnects are checked from memory.
 */
final class NodeServiceImpl extends NodeServiceGrpc.NodeServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(NodeServiceImpl.class);

    /**
     * Extra time past the store's own deadline before the hub stops waiting for it: the store
     * abandons uncommitted work at the deadline, so only a store that hangs outright trips this.
     */
    static final Duration STORE_GRACE = Duration.ofSeconds(1);

    private final Supplier<EnrollmentStore> store;
    private final NodeSessions sessions;
    private final EnrollmentRateLimiter rateLimiter;
    private final Clock clock;
    private final Duration handshakeTimeout;
    private final NodeSettings settings;
    private final Dispatcher dispatcher;

    NodeServiceImpl(Supplier<EnrollmentStore> store, NodeSessions sessions, EnrollmentRateLimiter rateLimiter, Clock clock,
            Duration handshakeTimeout, NodeSettings settings, Dispatcher dispatcher) {
        this.dispatcher = dispatcher;
        this.store = store;
        this.sessions = sessions;
        this.rateLimiter = rateLimiter;
        this.clock = clock;
        this.handshakeTimeout = handshakeTimeout;
        this.settings = settings;
    }

    @Override
    public void syncConfiguration(SyncConfigurationRequest request, StreamObserver<SyncConfigurationResponse> responseObserver) {
        String peer = NodeAuthInterceptor.PEER.get();
        String host = NodeAuthInterceptor.PEER_HOST.get();
        Duration wait = rateLimiter.retryAfter(host);
        if (!wait.isZero()) {
            LOG.warn("refused handshake from {}: too many failed attempts", peer);
            Answers.fail(responseObserver, Status.RESOURCE_EXHAUSTED.withDescription("too many failed enrollment attempts from "
                    + host + "; retry in " + Math.max(1, wait.toSeconds()) + " s"));
            return;
        }
        EnrollmentStore enrollment = store.get();
        if (enrollment == null) {
            Answers.fail(responseObserver, Status.UNAVAILABLE.withDescription(
                    "the hub's enrollment store is not available (journal stopped?); retry shortly"));
            return;
        }
        switch (request.getCredentialCase()) {
            case INVITE_TOKEN -> enroll(enrollment, request, responseObserver, peer, host);
            case NODE_CREDENTIAL -> reconnect(enrollment, request.getNodeCredential(), responseObserver, peer, host);
            default -> {
                String header = NodeAuthInterceptor.HEADER_CREDENTIAL.get();
                if (header != null && !header.isEmpty()) {
                    reconnect(enrollment, header, responseObserver, peer, host);
                } else {
                    rateLimiter.failed(host);
                    Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription(
                            "send invite_token to enroll, or node_credential to reconnect"));
                }
            }
        }
    }

    private void enroll(EnrollmentStore enrollment, SyncConfigurationRequest request,
            StreamObserver<SyncConfigurationResponse> responseObserver, String peer, String host) {
        Instant deadline = clock.instant().plus(handshakeTimeout);
        CompletableFuture<Enrollment> pending;
        try {
            // copy(): the timeout below must not complete the store's own future.
            pending = enrollment.enroll(request.getInviteToken(), request.getNodeName(), peer, deadline).toCompletableFuture().copy();
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        pending.orTimeout(handshakeTimeout.plus(STORE_GRACE).toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((enrolled, failure) -> {
                    if (failure == null) {
                        LOG.debug("node {} ({}) enrolled from {}", enrolled.node().nodeId(), enrolled.node().name(), peer);
                        Answers.complete(responseObserver, response(enrolled.node()).setNodeCredential(enrolled.credential()).build());
                        return;
                    }
                    if (ApiStatuses.countsAsFailedAttempt(failure)) {
                        rateLimiter.failed(host);
                    }
                    Status status = ApiStatuses.of(failure);
                    if (status == null) {
                        LOG.warn("enrollment from {} failed unexpectedly", peer, ApiStatuses.unwrap(failure));
                        status = Status.INTERNAL.withDescription("enrollment failed inside the hub; see the hub log and retry");
                    } else if (status.getDescription() == null) {
                        status = status.withDescription("enrollment did not finish within " + handshakeTimeout.toMillis()
                                + " ms: the hub's database is not responding; retry later");
                    }
                    LOG.warn("refused enrollment from {}: {}", peer, status.getDescription());
                    Answers.fail(responseObserver, status);
                });
    }

    private void reconnect(EnrollmentStore enrollment, String credential, StreamObserver<SyncConfigurationResponse> responseObserver,
            String peer, String host) {
        Optional<EnrolledNode> node;
        try {
            node = enrollment.authenticate(credential);
        } catch (RuntimeException storeStopping) {
            Status status = ApiStatuses.of(storeStopping);
            Answers.fail(responseObserver, status != null ? status : Status.UNAVAILABLE.withDescription(
                    "the hub could not check the node credential; retry shortly"));
            return;
        }
        if (node.isEmpty()) {
            rateLimiter.failed(host);
            LOG.warn("refused handshake from {}: node credential not recognised or revoked", peer);
            Answers.fail(responseObserver, Status.UNAUTHENTICATED.withDescription(
                    "node credential not recognised or revoked; enroll again with a new invite token"));
            return;
        }
        LOG.debug("node {} handshake from {}", node.get().nodeId(), peer);
        Answers.complete(responseObserver, response(node.get()).build());
    }

    private SyncConfigurationResponse.Builder response(EnrolledNode node) {
        return SyncConfigurationResponse.newBuilder()
                .setNodeId(node.nodeId())
                .setNodeName(node.name())
                .setSettings(settings)
                .setPolicy(dispatcher.currentPolicy(node.nodeId(), node.name()));
    }

    private volatile FileSync fileSync;

    /** File sync, once the transport has it running. */
    NodeServiceImpl withFileSync(FileSync sync) {
        this.fileSync = sync;
        return this;
    }

    @Override
    public StreamObserver<dev.meshhub.proto.v1.UploadRequest> upload(StreamObserver<dev.meshhub.proto.v1.UploadResponse> responseObserver) {
        FileSync sync = fileSync;
        if (sync == null) {
            responseObserver.onError(Status.UNAVAILABLE.withDescription("file sync is not running in this hub; retry shortly")
                    .asRuntimeException());
            return new StreamObserver<>() {
                @Override
                public void onNext(dev.meshhub.proto.v1.UploadRequest value) {
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }
        return sync.upload(NodeAuthInterceptor.NODE.get(), NodeAuthInterceptor.PEER.get(), responseObserver);
    }

    @Override
    public void download(dev.meshhub.proto.v1.DownloadRequest request, StreamObserver<dev.meshhub.proto.v1.DownloadChunk> responseObserver) {
        FileSync sync = fileSync;
        if (sync == null) {
            responseObserver.onError(Status.UNAVAILABLE.withDescription("file sync is not running in this hub; retry shortly")
                    .asRuntimeException());
            return;
        }
        sync.download(NodeAuthInterceptor.NODE.get(), request, responseObserver);
    }

    @Override
    public StreamObserver<NodeMessage> taskStream(StreamObserver<HubMessage> responseObserver) {
        EnrolledNode node = NodeAuthInterceptor.NODE.get();
        NodeSessionHandle session = new NodeSessionHandle(node.nodeId(), node.name(), NodeAuthInterceptor.PEER.get(),
                (ServerCallStreamObserver<HubMessage>) responseObserver, clock);
        ServerCallStreamObserver<HubMessage> outbound = (ServerCallStreamObserver<HubMessage>) responseObserver;
        outbound.setOnCancelHandler(() -> sessions.streamEnded(session, "stream cancelled: the node went away or its connection dropped"));
        // Also when the call was closed below the handler (a request that did not parse): no session outlives its call.
        outbound.setOnCloseHandler(() -> sessions.streamEnded(session, "stream closed"));
        sessions.opened(session);
        return new StreamObserver<>() {
            private boolean helloReceived;

            @Override
            public void onNext(NodeMessage message) {
                session.heard();
                switch (message.getPayloadCase()) {
                    case HELLO -> {
                        if (!helloReceived) {
                            helloReceived = true;
                            sessions.register(session);
                        }
                    }
                    case HEARTBEAT -> {
                        if (!helloReceived) {
                            protocolError("the first message on TaskStream must be a Hello, got a Heartbeat");
                        }
                    }
                    case TASK_STARTED -> {
                        if (helloReceived) {
                            dispatcher.started(session, message.getTaskStarted());
                        } else {
                            protocolError("the first message on TaskStream must be a Hello");
                        }
                    }
                    case TASK_OUTPUT -> {
                        if (helloReceived) {
                            dispatcher.output(session, message.getTaskOutput());
                        } else {
                            protocolError("the first message on TaskStream must be a Hello");
                        }
                    }
                    case TASK_FINISHED -> {
                        if (helloReceived) {
                            dispatcher.finished(session, message.getTaskFinished());
                        } else {
                            protocolError("the first message on TaskStream must be a Hello");
                        }
                    }
                    case SYNC_FAILED -> {
                        FileSync sync = fileSync;
                        if (helloReceived && sync != null) {
                            sync.syncFailed(session, message.getSyncFailed());
                        } else if (!helloReceived) {
                            protocolError("the first message on TaskStream must be a Hello");
                        }
                    }
                    default -> {
                        if (!helloReceived) {
                            protocolError("the first message on TaskStream must be a Hello");
                        } else {
                            // A newer node may send payloads this hub does not know yet; ignore them.
                            LOG.debug("node {} sent an unknown payload; ignored", node.nodeId());
                        }
                    }
                }
            }

            private void protocolError(String detail) {
                LOG.warn("closing stream of node {} from {}: {}", node.nodeId(), session.address(), detail);
                sessions.close(session, SessionClosing.Reason.REASON_UNSPECIFIED, Status.INVALID_ARGUMENT.withDescription(detail));
            }

            @Override
            public void onError(Throwable t) {
                sessions.streamEnded(session, "stream failed: " + Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                sessions.streamEnded(session, "the node closed its stream");
                session.completeStream();
            }
        };
    }
}
