package dev.meshhub.transport.impl.rpc;

import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import dev.meshhub.server.support.ApiStatuses;
import dev.meshhub.server.support.Peers;

/**
 * Authenticates every NodeService call except the handshake, from memory (no database or disk on
 * this path): on a TLS port by the node certificate the connection carries (the node id in its URI
 * SAN; the TLS layer already checked that the hub's CA issued it) and nothing else: bearer
 * credentials are retired there (a node that still holds one may only trade it, once, in the
 * handshake). On a plaintext port (loopback only, an admin's explicit choice) no certificate can be
 * presented, so the bearer credential header is the identity. A certificate of a revoked, unknown or
 * expired node is refused with a status that says which. Puts the caller's peer address, and for
 * authenticated calls the node, into the call's {@link Context}; the handshake gets the node too
 * when a valid certificate came with it.
 */
public final class NodeAuthInterceptor implements ServerInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(NodeAuthInterceptor.class);

    /** The authenticated node of the current call. */
    static final Context.Key<EnrolledNode> NODE = Context.key("meshhub-node");
    /** The peer address of the current call, as host:port. */
    static final Context.Key<String> PEER = Context.key("meshhub-peer");
    /** The certificate that authenticated the current call (absent for a bearer credential). */
    static final Context.Key<X509Certificate> CERTIFICATE = Context.key("meshhub-certificate");

    /** The peer host of the current call (no port), for per-address limits. */
    static final Context.Key<String> PEER_HOST = Context.key("meshhub-peer-host");

    /** Whether the current call came over TLS (false only on a plaintext port). */
    static final Context.Key<Boolean> TLS = Context.key("meshhub-tls");

    /** A credential sent as a header on the handshake (nodes may send it there instead of the field). */
    static final Context.Key<String> HEADER_CREDENTIAL = Context.key("meshhub-header-credential");

    /** The only method callable without a credential. */
    static final String UNAUTHENTICATED_METHOD = NodeServiceGrpc.getSyncConfigurationMethod().getFullMethodName();

    private final Supplier<EnrollmentStore> store;
    private final Supplier<HubPki> pki;
    private final Clock clock;

    public NodeAuthInterceptor(Supplier<EnrollmentStore> store) {
        this(store, () -> null, Clock.systemUTC());
    }

    public NodeAuthInterceptor(Supplier<EnrollmentStore> store, Supplier<HubPki> pki, Clock clock) {
        this.store = store;
        this.pki = pki;
        this.clock = clock;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String peer = Peers.describe(remote);
        String host = Peers.host(remote);
        SSLSession tls = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        Context context = Context.current().withValue(PEER, peer).withValue(PEER_HOST, host).withValue(TLS, tls != null);

        String credential = headers.get(WireHeaders.NODE_CREDENTIAL);
        boolean handshake = UNAUTHENTICATED_METHOD.equals(call.getMethodDescriptor().getFullMethodName());
        X509Certificate certificate = peerCertificate(tls);
        if (certificate != null) {
            Status refusal;
            EnrollmentStore enrollment = store.get();
            if (enrollment == null) {
                refusal = Status.UNAVAILABLE.withDescription("the hub's enrollment store is not available (journal stopped?); retry shortly");
            } else {
                CertifiedNode checked = check(certificate, enrollment);
                if (checked.node() != null) {
                    return Contexts.interceptCall(context.withValue(NODE, checked.node())
                            .withValue(CERTIFICATE, certificate), call, headers, next);
                }
                refusal = checked.refusal();
            }
            LOG.warn("refused {} from {}: {}", call.getMethodDescriptor().getBareMethodName(), peer, refusal.getDescription());
            return refuse(call, refusal);
        }
        if (handshake) {
            return Contexts.interceptCall(context.withValue(HEADER_CREDENTIAL, credential), call, headers, next);
        }
        if (tls != null) {
            LOG.warn("refused {} from {}: no node certificate{}", call.getMethodDescriptor().getBareMethodName(), peer,
                    credential == null ? "" : " (a bearer credential, which is retired)");
            return refuse(call, Status.UNAUTHENTICATED.withDescription(credential == null
                    ? "this call needs the node's certificate on the TLS connection; enroll with SyncConfiguration, an invite"
                            + " token and a CSR, then connect with the certificate it returns"
                    : "bearer credentials are retired on this hub: present the node's certificate; a node that holds only a"
                            + " credential trades it once for a certificate with SyncConfiguration{node_credential, csr}"));
        }
        if (credential == null || credential.isEmpty()) {
            LOG.warn("refused {} from {}: no node credential", call.getMethodDescriptor().getBareMethodName(), peer);
            return refuse(call, Status.UNAUTHENTICATED.withDescription("no node certificate on this connection (nor a "
                    + WireHeaders.NODE_CREDENTIAL.name() + " header, which a plaintext port needs); enroll with"
                    + " SyncConfiguration and an invite token first"));
        }
        EnrollmentStore enrollment = store.get();
        if (enrollment == null) {
            return refuse(call, Status.UNAVAILABLE.withDescription("the hub's enrollment store is not available (journal stopped?); retry shortly"));
        }
        Optional<EnrolledNode> node;
        try {
            node = enrollment.authenticate(credential);
        } catch (RuntimeException storeStopping) {
            Status status = ApiStatuses.of(storeStopping);
            return refuse(call, status != null ? status : Status.UNAVAILABLE.withDescription(
                    "the hub could not check the node credential; retry shortly"));
        }
        if (node.isEmpty()) {
            LOG.warn("refused {} from {}: node credential not recognised or revoked", call.getMethodDescriptor().getBareMethodName(), peer);
            return refuse(call, Status.UNAUTHENTICATED.withDescription(
                    "node credential not recognised or revoked; enroll again with a new invite token"));
        }
        return Contexts.interceptCall(context.withValue(NODE, node.get()), call, headers, next);
    }

    /** A node a certificate identifies, or why it identifies none. */
    private record CertifiedNode(EnrolledNode node, Status refusal) {
    }

    private CertifiedNode check(X509Certificate certificate, EnrollmentStore enrollment) {
        HubPki current = pki.get();
        Optional<String> nodeId = current == null ? Optional.empty() : current.nodeIdOf(certificate);
        if (nodeId.isEmpty()) {
            return new CertifiedNode(null, current == null
                    ? Status.UNAVAILABLE.withDescription("the hub's PKI is not available to read the node certificate; retry shortly")
                    : Status.UNAUTHENTICATED.withDescription("the client certificate names no node; present the certificate the hub issued"));
        }
        Optional<EnrolledNode> node;
        try {
            node = enrollment.find(nodeId.get()).filter(found -> found.nodeId().equals(nodeId.get()));
        } catch (RuntimeException storeStopping) {
            Status status = ApiStatuses.of(storeStopping);
            return new CertifiedNode(null, status != null ? status : Status.UNAVAILABLE.withDescription(
                    "the hub could not check the node certificate; retry shortly"));
        }
        if (node.isEmpty()) {
            return new CertifiedNode(null, Status.UNAUTHENTICATED.withDescription("the certificate names node " + nodeId.get()
                    + ", which this hub does not know; enroll again with a new invite token"));
        }
        if (node.get().revoked()) {
            return new CertifiedNode(null, Status.PERMISSION_DENIED.withDescription("node " + nodeId.get() + " ("
                    + node.get().name() + ") is revoked; do not reconnect"));
        }
        Instant expired = certificate.getNotAfter().toInstant();
        if (!clock.instant().isBefore(expired)) {
            return new CertifiedNode(null, Status.UNAUTHENTICATED.withDescription("the node certificate of " + nodeId.get()
                    + " expired at " + expired + "; this node must enroll again with a new invite token"));
        }
        return new CertifiedNode(node.get(), null);
    }

    /** The verified client certificate of the call's TLS connection, or null (plaintext, or none presented). */
    private static X509Certificate peerCertificate(SSLSession session) {
        if (session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x509 ? x509 : null;
        } catch (SSLPeerUnverifiedException none) {
            return null;
        }
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }

}
