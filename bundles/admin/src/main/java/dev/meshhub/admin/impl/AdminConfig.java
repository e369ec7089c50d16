package dev.meshhub.admin.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the admin API (PID {@value #PID}, file {@code etc/dev.meshhub.admin.cfg}; each key
 * can be overridden by {@code MESHHUB_ADMIN_<KEY_IN_UPPER_SNAKE_CASE>}). Every key applies while the
 * hub runs: a change of port or address moves the listener (calls in flight finish first), a new
 * token file is read at once, and node streams are never touched.
 */
@ObjectClassDefinition(id = AdminConfig.PID, name = "meshhub admin API",
        description = "The admin gRPC API that meshctl talks to: where it listens and the token it requires.")
public @interface AdminConfig {

    String PID = "dev.meshhub.admin";

    int DEFAULT_PORT = 7701;

    @AttributeDefinition(name = "Port", description = "TCP port of the admin API (0 picks a free port).", min = "0", max = "65535")
    int port() default DEFAULT_PORT;

    @AttributeDefinition(name = "Bind address", description = "Address the admin API listens on; keep it on loopback unless admins connect from elsewhere.",
            min = "1")
    String bindAddress() default "127.0.0.1";

    @AttributeDefinition(name = "TLS on loopback too", description = "The admin API always speaks TLS (TLS 1.3, the hub's"
            + " certificate) when bindAddress is not a loopback address; true makes it do so on loopback as well (meshctl then"
            + " needs --ca-file or --ca-pin, or finds the CA in the hub's home).")
    boolean tls() default false;

    @AttributeDefinition(name = "Token file", description = "File holding the admin token, relative to the hub's home; created (owner-only) at first start.",
            min = "1")
    String tokenFile() default "etc/admin.token";

    @AttributeDefinition(name = "Threads", description = "Threads running admin calls (they never block).", min = "1", max = "64")
    int threads() default 2;

    @AttributeDefinition(name = "Max concurrent calls per connection", min = "1", max = "10000")
    int maxConcurrentCallsPerConnection() default 16;

    @AttributeDefinition(name = "Max inbound metadata (bytes)", description = "Largest request header block accepted.",
            min = "1024", max = "1048576")
    int maxInboundMetadataBytes() default 8 * 1024;

    @AttributeDefinition(name = "Connection handshake timeout (s)", description = "A TCP connection that has not completed its HTTP/2 handshake by then is closed.",
            min = "1", max = "600")
    int connectionHandshakeTimeoutSeconds() default 10;

    @AttributeDefinition(name = "Exec buffer (bytes)", description = "Output an exec call may have waiting for a caller that reads slowly before the call is ended (the task keeps running).",
            min = "65536", max = "1073741824")
    int execBufferBytes() default 8 * 1024 * 1024;

    @AttributeDefinition(name = "Stop grace (ms)", description = "When the admin API stops or moves, how long calls in flight get to finish.",
            min = "0", max = "60000")
    int stopGraceMs() default 2000;
}
