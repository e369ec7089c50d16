package dev.meshhub.proto.v1;

import io.grpc.Metadata;

/**
 * Request headers of the meshhub wire contract, shared by the hub, the node agent and the CLI.
 */
public final class WireHeaders {

    /** A node's credential, sent on every NodeService call except an enrolling SyncConfiguration. */
    public static final Metadata.Key<String> NODE_CREDENTIAL =
            Metadata.Key.of("meshhub-node-credential", Metadata.ASCII_STRING_MARSHALLER);

    /** The admin token on AdminService calls, as {@code Bearer <token>}. */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    /** Prefix of the {@link #AUTHORIZATION} value. */
    public static final String BEARER = "Bearer ";

    /** Default port nodes connect to. */
    public static final int DEFAULT_NODE_PORT = 7700;

    /** Default port of the admin API (bound to 127.0.0.1 only by default). */
    public static final int DEFAULT_ADMIN_PORT = 7701;

    private WireHeaders() {
    }
}
