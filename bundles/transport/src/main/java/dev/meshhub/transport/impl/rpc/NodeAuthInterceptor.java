package dev.meshhub.transport.impl.rpc;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
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
 * Authenticates every NodeService call except the handshake from the node credential header, from
 * memory (no database on this path). Puts the caller's peer address, and for authenticated calls the
 * node, into the call's {@link Context}.
 */
public final class NodeAuthInterceptor implements ServerInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(NodeAuthInterceptor.class);

    /** The authenticated node of the current call. */
    static final Context.Key<EnrolledNode> NODE = Context.key("meshhub-node");
    /** The peer address of the current call, as host:port. */
    static final Context.Key<String> PEER = Context.key("meshhub-peer");
    /** The peer host of the current call (no port), for per-address limits. */
    static final Context.Key<String> PEER_HOST = Context.key("meshhub-peer-host");

    /** A credential sent as a header on the handshake (nodes may send it there instead of the field). */
    static final Context.Key<String> HEADER_CREDENTIAL = Context.key("meshhub-header-credential");

    /** The only method callable without a credential. */
    static final String UNAUTHENTICATED_METHOD = NodeServiceGrpc.getSyncConfigurationMethod().getFullMethodName();

    private final Supplier<EnrollmentStore> store;

    public NodeAuthInterceptor(Supplier<EnrollmentStore> store) {
        this.store = store;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String peer = Peers.describe(remote);
        String host = Peers.host(remote);
        Context context = Context.current().withValue(PEER, peer).withValue(PEER_HOST, host);

        String credential = headers.get(WireHeaders.NODE_CREDENTIAL);
        if (UNAUTHENTICATED_METHOD.equals(call.getMethodDescriptor().getFullMethodName())) {
            return Contexts.interceptCall(context.withValue(HEADER_CREDENTIAL, credential), call, headers, next);
        }
        if (credential == null || credential.isEmpty()) {
            LOG.warn("refused {} from {}: no node credential", call.getMethodDescriptor().getBareMethodName(), peer);
            return refuse(call, Status.UNAUTHENTICATED.withDescription("missing " + WireHeaders.NODE_CREDENTIAL.name()
                    + " header; enroll first with SyncConfiguration and an invite token, then send the credential it returns"));
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

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }

}
