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
 * SyncConfiguration: enrollment with an invite token and a CSR (database work on the store's
 * threads, with a deadline; the answer comes from there), a reconnect or renewal by the node's
 * certificate (from memory), or the one-time trade of a bearer credential for a certificate (the
 * credential is retired in the journal before the answer). On a plaintext port, where no
 * certificate can be presented, enrollment answers with a bearer credential and a reconnect is by
 * that credential. Repeated failures from one address are refused before the store is asked.
 */
final class Handshake {

    private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);

    /**
     * Extra time past the store's own deadline before the hub stops waiting for an enrollment without a
     * CSR (plaintext port): the store abandons uncommitted work at the deadline, and only its answer can
     * carry the bearer credential, so the hub waits for it unless the store hangs outright. An enrollment
     * with a CSR is answered at the deadline itself: if its commit still lands, the node's retry with the
     * same CSR (the request id) is answered with the same node.
     */
    static final Duration STORE_GRACE = Duration.ofSeconds(1);

    private final Supplier<EnrollmentStore> store;
    private final NodeCertificateIssuer certificates;
    private final NodeSessions sessions;
    private final Dispatcher dispatcher;
    private final EnrollmentRateLimiter rateLimiter;
    private final Clock clock;
    private final Supplier<Duration> timeout;
    private final Duration storeGrace;

    Handshake(Supplier<EnrollmentStore> store, NodeCertificateIssuer certificates, NodeSessions sessions, Dispatcher dispatcher,
              EnrollmentRateLimiter rateLimiter, Clock clock, Supplier<Duration> timeout) {
        this(store, certificates, sessions, dispatcher, rateLimiter, clock, timeout, STORE_GRACE);
    }

    /** As the other constructor, waiting {@code storeGrace} past the deadline for a store's answer to an enrollment without a CSR. */
    Handshake(Supplier<EnrollmentStore> store, NodeCertificateIssuer certificates, NodeSessions sessions, Dispatcher dispatcher,
              EnrollmentRateLimiter rateLimiter, Clock clock, Supplier<Duration> timeout, Duration storeGrace) {
        this.storeGrace = storeGrace;
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
            sessions.enrollmentRefused("rate_limited");
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
        boolean tls = !Boolean.FALSE.equals(NodeAuthInterceptor.TLS.get());
        switch (request.getCredentialCase()) {
            case INVITE_TOKEN -> enroll(enrollment, request, responseObserver, peer, host, tls);
            case NODE_CREDENTIAL -> reconnect(enrollment, request.getNodeCredential(), request, responseObserver, peer, host, tls);
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
                                request.getCsr().toByteArray(), renewed -> sessions.certificateRenewed(byCertificate.nodeId(), renewed));
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
                    reconnect(enrollment, header, request, responseObserver, peer, host, tls);
                } else {
                    rateLimiter.failed(host);
                    Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription(
                            "send invite_token (with a csr) to enroll, or connect with the node's certificate to reconnect"));
                }
            }
        }
    }

    private void enroll(EnrollmentStore enrollment, SyncConfigurationRequest request,
            StreamObserver<SyncConfigurationResponse> responseObserver, String peer, String host, boolean tls) {
        sessions.enrollmentAttempted();
        // A plaintext port cannot carry a certificate: the node gets a bearer credential there instead.
        byte[] csr = tls ? request.getCsr().toByteArray() : new byte[0];
        if (tls && csr.length == 0) {
            LOG.warn("refused enrollment from {}: no CSR", peer);
            sessions.enrollmentRefused("no_csr");
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("enrollment needs a csr (PKCS#10, EC P-256"
                    + " or P-384) for the key the node made: the hub answers with the node's certificate, its only identity"
                    + " (bearer credentials are retired); the token was not spent"));
            return;
        }
        if (csr.length > 0) {
            Status refusal = certificates.refusal(csr);
            if (refusal != null) {
                if (refusal.getCode() == Status.Code.INVALID_ARGUMENT) {
                    rateLimiter.failed(host);
                }
                LOG.warn("refused enrollment from {}: {}", peer, refusal.getDescription());
                sessions.enrollmentRefused("bad_csr");
                Answers.fail(responseObserver, refusal);
                return;
            }
        }
        Duration limit = timeout.get();
        Instant deadline = clock.instant().plus(limit);
        CompletableFuture<Enrollment> pending;
        try {
            // copy(): the timeout below must not complete the store's own future.
            // The CSR's hash is the request id: a node whose answer was lost retries with the same CSR (only the
            // holder of its key can use what it earns) and gets the same node instead of "already used".
            String requestId = csr.length == 0 ? null : java.util.HexFormat.of().formatHex(sha256(csr));
            pending = enrollment.enroll(request.getInviteToken(), request.getNodeName(), peer, deadline, requestId)
                    .toCompletableFuture().copy();
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        // A stalled database must not hold the node past its deadline (benchmark 3): with a CSR the hub
        // answers then, whatever the store is still waiting on.
        Duration waitFor = csr.length > 0 ? limit : limit.plus(storeGrace);
        pending.orTimeout(waitFor.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((enrolled, failure) -> {
                    if (failure == null) {
                        LOG.debug("node {} ({}) enrolled from {}", enrolled.node().nodeId(), enrolled.node().name(), peer);
                        SyncConfigurationResponse.Builder answer = response(enrolled.node());
                        Status failed = csr.length == 0 ? Status.UNAVAILABLE
                                : certificates.issueInto(answer, enrolled.node().nodeId(), enrolled.node().name(), csr);
                        if (failed != null) {
                            // Plaintext port, or the token is spent and no certificate came of it: the node gets
                            // a bearer credential, which on a TLS port it can only trade for a certificate
                            // (SyncConfiguration with node_credential and csr) on its next handshake.
                            if (csr.length > 0) {
                                LOG.error("node {} enrolled, but its certificate could not be issued: {}", enrolled.node().nodeId(),
                                        failed.getDescription());
                            }
                            if (enrolled.credential().isEmpty()) {
                                // A replayed enrollment has no credential to fall back on: the node retries.
                                Answers.fail(responseObserver, failed);
                                return;
                            }
                            answer.setNodeCredential(enrolled.credential());
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
                                + " ms (handshakeTimeoutMs): the hub's database is busy or not responding; retry later"
                                + (csr.length > 0 ? " with the same key and CSR (if the hub completed it meanwhile, the retry"
                                        + " is answered with the same node)" : ""));
                    }
                    LOG.warn("refused enrollment from {}: {}", peer, status.getDescription());
                    sessions.enrollmentRefused(refusalReason(failure));
                    Answers.fail(responseObserver, status);
                });
    }

    /** The bounded reason word for a failed enrollment (see NodeDirectory.enrollmentRefusals). */
    static String refusalReason(Throwable failure) {
        Throwable cause = ApiStatuses.unwrap(failure);
        if (cause instanceof dev.meshhub.api.enrollment.EnrollmentException refused) {
            return refused.reason().name().toLowerCase(java.util.Locale.ROOT);
        }
        return cause instanceof java.util.concurrent.TimeoutException ? "timeout" : "internal";
    }

    private void reconnect(EnrollmentStore enrollment, String credential, SyncConfigurationRequest request,
            StreamObserver<SyncConfigurationResponse> responseObserver, String peer, String host, boolean tls) {
        if (tls && request.getCsr().isEmpty()) {
            LOG.warn("refused a bearer credential from {}: it came without a CSR to trade it for", peer);
            Answers.fail(responseObserver, Status.INVALID_ARGUMENT.withDescription("bearer credentials are retired on this hub:"
                    + " send the credential once with a csr (SyncConfiguration{node_credential, csr}) to trade it for the node's"
                    + " certificate, then connect with that certificate"));
            return;
        }
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
            sessions.enrollmentRefused("credential_rejected");
            Answers.fail(responseObserver, Status.UNAUTHENTICATED.withDescription(
                    "node credential not recognised or revoked; enroll again with a new invite token"));
            return;
        }
        LOG.debug("node {} handshake from {}", node.get().nodeId(), peer);
        SyncConfigurationResponse.Builder answer = response(node.get());
        if (!tls) {
            Answers.complete(responseObserver, answer.build());
            return;
        }
        // The one-time trade: the credential vouches for the CSR, and is retired (durably) before the
        // node learns its certificate, so a copy of the credential is worth nothing from then on.
        EnrolledNode traded = node.get();
        Status failed = certificates.issueInto(answer, traded.nodeId(), traded.name(), request.getCsr().toByteArray());
        if (failed != null) {
            LOG.warn("refused a certificate to node {} from {}: {}", traded.nodeId(), peer, failed.getDescription());
            Answers.fail(responseObserver, failed);
            return;
        }
        CompletableFuture<Void> retired;
        try {
            retired = enrollment.retireCredential(traded.nodeId()).toCompletableFuture();
        } catch (RuntimeException e) {
            retired = CompletableFuture.failedFuture(e);
        }
        retired.whenComplete((done, failure) -> {
            if (failure != null) {
                LOG.warn("node {}: its bearer credential could not be retired, so no certificate is handed out", traded.nodeId(),
                        ApiStatuses.unwrap(failure));
                Answers.fail(responseObserver, Status.UNAVAILABLE.withDescription("the hub could not record the trade of the"
                        + " node's credential for a certificate (journal busy or stopped); retry shortly: the credential still works"));
                return;
            }
            LOG.info("node {} ({}) traded its bearer credential for a certificate; the credential is retired", traded.nodeId(),
                    traded.name());
            Answers.complete(responseObserver, answer.build());
        });
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    private SyncConfigurationResponse.Builder response(EnrolledNode node) {
        return SyncConfigurationResponse.newBuilder()
                .setNodeId(node.nodeId())
                .setNodeName(node.name())
                .setSettings(sessions.nodeSettings())
                .setPolicy(dispatcher.currentPolicy(node.nodeId(), node.name()));
    }
}
