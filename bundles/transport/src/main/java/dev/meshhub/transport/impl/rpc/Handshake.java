package dev.meshhub.transport.impl.rpc;

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
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.session.NodeSessions;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * SyncConfiguration: enrollment with an invite token (database work on the store's threads, with a
 * deadline; the answer comes from there) or a reconnect with a credential (from memory). Repeated
 * failures from one address are refused before the store is asked.
 */
final class Handshake {

    private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);

    /**
     * Extra time past the store's own deadline before the hub stops waiting for it: the store
     * abandons uncommitted work at the deadline, so only a store that hangs outright trips this.
     */
    static final Duration STORE_GRACE = Duration.ofSeconds(1);

    private final Supplier<EnrollmentStore> store;
    private final NodeCertificateIssuer certificates;
    private final NodeSessions sessions;
    private final Dispatcher dispatcher;
    private final EnrollmentRateLimiter rateLimiter;
    private final Clock clock;
    private final Supplier<Duration> timeout;

    Handshake(Supplier<EnrollmentStore> store, NodeCertificateIssuer certificates, NodeSessions sessions, Dispatcher dispatcher,
              EnrollmentRateLimiter rateLimiter, Clock clock, Supplier<Duration> timeout) {
        this.store = store;
        this.certificates = certificates;
        this.sessions = sessions;
        this.dispatcher = dispatcher;
        this.rateLimiter = rateLimiter;
        this.clock = clock;
        this.timeout = timeout;
    }

    void answer(SyncConfigurationRequest request, StreamObserver<SyncConfigurationResponse> responseObserver) {
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
            case NODE_CREDENTIAL -> reconnect(enrollment, request.getNodeCredential(), request, responseObserver, peer, host);
            default -> {
                String header = NodeAuthInterceptor.HEADER_CREDENTIAL.get();
                EnrolledNode byCertificate = NodeAuthInterceptor.NODE.get();
                if (byCertificate != null) {
                    // Identified by its certificate (checked by the interceptor, from memory).
                    SyncConfigurationResponse.Builder answer = response(byCertificate);
                    if (!request.getCsr().isEmpty()) {
                        // Renewal: the current certificate (valid, not revoked) vouches for the new key; the
                        // CSR may name no other node. Open streams are not touched.
                        Status failed = certificates.issueInto(answer, byCertificate.nodeId(), byCertificate.name(),
                                request.getCsr().toByteArray(), until -> sessions.certificateRenewed(byCertificate.nodeId(), until));
                        if (failed != null) {
                            LOG.warn("refused to renew the certificate of node {} from {}: {}", byCertificate.nodeId(), peer,
                                    failed.getDescription());
                            Answers.fail(responseObserver, failed);
                            return;
                        }
                        LOG.info("renewed the certificate of node {} ({})", byCertificate.nodeId(), byCertificate.name());
                    }
                    LOG.debug("node {} handshake from {} (certificate)", byCertificate.nodeId(), peer);
                    Answers.complete(responseObserver, answer.build());
                } else if (header != null && !header.isEmpty()) {
                    reconnect(enrollment, header, request, responseObserver, peer, host);
                } else {
                    rateLimiter.failed(host);
                    Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription(
                            "send invite_token (with a csr) to enroll, or connect with the node's certificate to reconnect"));
                }
            }
        }
    }

    private void enroll(EnrollmentStore enrollment, SyncConfigurationRequest request,
            StreamObserver<SyncConfigurationResponse> responseObserver, String peer, String host) {
        sessions.enrollmentAttempted();
        byte[] csr = request.getCsr().toByteArray();
        if (csr.length > 0) {
            Status refusal = certificates.refusal(csr);
            if (refusal != null) {
                if (refusal.getCode() == Status.Code.INVALID_ARGUMENT) {
                    rateLimiter.failed(host);
                }
                LOG.warn("refused enrollment from {}: {}", peer, refusal.getDescription());
                Answers.fail(responseObserver, refusal);
                return;
            }
        }
        Duration limit = timeout.get();
        Instant deadline = clock.instant().plus(limit);
        CompletableFuture<Enrollment> pending;
        try {
            // copy(): the timeout below must not complete the store's own future.
            pending = enrollment.enroll(request.getInviteToken(), request.getNodeName(), peer, deadline).toCompletableFuture().copy();
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        pending.orTimeout(limit.plus(STORE_GRACE).toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((enrolled, failure) -> {
                    if (failure == null) {
                        LOG.debug("node {} ({}) enrolled from {}", enrolled.node().nodeId(), enrolled.node().name(), peer);
                        SyncConfigurationResponse.Builder answer = response(enrolled.node()).setNodeCredential(enrolled.credential());
                        if (csr.length > 0) {
                            Status failed = certificates.issueInto(answer, enrolled.node().nodeId(), enrolled.node().name(), csr);
                            if (failed != null) {
                                // The token is spent: answer with the credential, and the node gets its certificate on
                                // its next handshake (credential + CSR).
                                LOG.error("node {} enrolled, but its certificate could not be issued: {}", enrolled.node().nodeId(),
                                        failed.getDescription());
                            }
                        }
                        Answers.complete(responseObserver, answer.build());
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
                        status = status.withDescription("enrollment did not finish within " + limit.toMillis()
                                + " ms: the hub's database is not responding; retry later");
                    }
                    LOG.warn("refused enrollment from {}: {}", peer, status.getDescription());
                    Answers.fail(responseObserver, status);
                });
    }

    private void reconnect(EnrollmentStore enrollment, String credential, SyncConfigurationRequest request,
            StreamObserver<SyncConfigurationResponse> responseObserver, String peer, String host) {
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
        SyncConfigurationResponse.Builder answer = response(node.get());
        if (!request.getCsr().isEmpty()) {
            // A node enrolled before certificates moves onto one: its credential vouches for the CSR.
            Status failed = certificates.issueInto(answer, node.get().nodeId(), node.get().name(), request.getCsr().toByteArray());
            if (failed != null) {
                LOG.warn("refused a certificate to node {} from {}: {}", node.get().nodeId(), peer, failed.getDescription());
                Answers.fail(responseObserver, failed);
                return;
            }
            LOG.info("node {} ({}) moved from its bearer credential to a certificate", node.get().nodeId(), node.get().name());
        }
        Answers.complete(responseObserver, answer.build());
    }

    private SyncConfigurationResponse.Builder response(EnrolledNode node) {
        return SyncConfigurationResponse.newBuilder()
                .setNodeId(node.nodeId())
                .setNodeName(node.name())
                .setSettings(sessions.nodeSettings())
                .setPolicy(dispatcher.currentPolicy(node.nodeId(), node.name()));
    }
}
