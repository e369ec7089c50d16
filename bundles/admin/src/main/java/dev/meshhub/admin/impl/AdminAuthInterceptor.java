package dev.meshhub.admin.impl;

import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.proto.v1.WireHeaders;
import dev.meshhub.server.support.Peers;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/** Every admin call needs {@code authorization: Bearer <admin token>}. */
final class AdminAuthInterceptor implements ServerInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(AdminAuthInterceptor.class);

    /** The token now: the token file may change while the API runs. */
    private final Supplier<AdminToken> tokens;

    AdminAuthInterceptor(Supplier<AdminToken> tokens) {
        this.tokens = tokens;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        AdminToken token = tokens.get();
        String authorization = headers.get(WireHeaders.AUTHORIZATION);
        String method = call.getMethodDescriptor().getBareMethodName();
        String peer = Peers.describe(call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        Status refusal = null;
        if (authorization == null || !authorization.startsWith(WireHeaders.BEARER)) {
            refusal = Status.UNAUTHENTICATED.withDescription("missing admin token: send 'authorization: Bearer <token>' "
                    + "with the token from the hub's " + token.file().getFileName() + " (meshctl reads it for you on the hub's machine)");
        } else if (!token.matches(authorization.substring(WireHeaders.BEARER.length()).trim())) {
            refusal = Status.UNAUTHENTICATED.withDescription("admin token not recognised; use the token in the hub's "
                    + token.file());
        }
        if (refusal != null) {
            LOG.warn("refused admin call {} from {}: {}", method, peer, authorization == null ? "no token" : "wrong token");
            call.close(refusal, new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return next.startCall(call, headers);
    }
}
