package dev.meshhub.transport.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the node transport (PID {@value #PID}, file {@code etc/dev.meshhub.transport.cfg};
 * each key can be overridden by {@code MESHHUB_TRANSPORT_<KEY_IN_UPPER_SNAKE_CASE>}). The bounds below
 * are enforced: a configuration with a value outside them is refused whole, naming the key, and the
 * transport keeps running with what it had.
 *
 * <p>How a change applies (README, "Configuration"): heartbeats, timeouts, limits, rate limits and
 * thread counts apply at once with every node connected; the connection keys (message and header
 * sizes, calls per connection, rapid-reset limit, keepalive, connection handshake) take effect for
 * new connections without dropping the ones open; {@code port} and {@code bindAddress} move the
 * listener, and nodes reconnect.
 */
@ObjectClassDefinition(id = TransportConfig.PID, name = "meshhub transport",
        description = "The node port and the limits nodes are held to.")
public @interface TransportConfig {

    String PID = "dev.meshhub.transport";

    int DEFAULT_PORT = 7700;
    int DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
    int DEFAULT_HEARTBEAT_TIMEOUT_MS = 15000;
    int DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

    @AttributeDefinition(name = "Node port", description = "TCP port nodes connect to (0 picks a free port). Changing it moves the listener; nodes reconnect.",
            min = "0", max = "65535")
    int port() default DEFAULT_PORT;

    @AttributeDefinition(name = "Node bind address", description = "Address the node port listens on. Changing it moves the listener; nodes reconnect.",
            min = "1")
    String bindAddress() default "0.0.0.0";

    @AttributeDefinition(name = "TLS protocols", description = "Protocols the node port accepts, comma-separated: TLSv1.3"
            + " (the default), or TLSv1.3, TLSv1.2 where old clients need it. Applies to new connections.")
    String tlsProtocols() default "TLSv1.3";

    @AttributeDefinition(name = "Plaintext (insecure)", description = "Serve the node port without TLS: tokens, commands"
            + " and files cross the network in the clear. Refused unless bindAddress is a loopback address; logged at WARN"
            + " at every start. Applies to new connections.")
    boolean plaintext() default false;

    @AttributeDefinition(name = "Heartbeat interval (ms)", description = "How often nodes and the hub send heartbeats; connected nodes are told at once.",
            min = "50", max = "3600000")
    int heartbeatIntervalMs() default DEFAULT_HEARTBEAT_INTERVAL_MS;

    @AttributeDefinition(name = "Heartbeat timeout (ms)", description = "A session silent for this long is closed; must exceed the interval.",
            min = "100", max = "86400000")
    int heartbeatTimeoutMs() default DEFAULT_HEARTBEAT_TIMEOUT_MS;

    @AttributeDefinition(name = "Handshake timeout (ms)", description = "Deadline for an enrollment's database work; the node gets DEADLINE_EXCEEDED after it.",
            min = "100", max = "600000")
    int handshakeTimeoutMs() default DEFAULT_HANDSHAKE_TIMEOUT_MS;

    @AttributeDefinition(name = "Connection handshake timeout (s)", description = "A TCP connection that has not completed its HTTP/2 handshake by then is closed.",
            min = "1", max = "600")
    int connectionHandshakeTimeoutSeconds() default 10;

    @AttributeDefinition(name = "Max unauthenticated connections", description = "Connections on the node port that have"
            + " not shown a node certificate (still in their TLS handshake, or enrolling without one) beyond this many are"
            + " closed as they are accepted, before any TLS work; nodes with certificates leave the count once their"
            + " handshake is done. Applies to the next connection when changed.", min = "1", max = "1000000")
    int maxUnauthenticatedConnections() default 1024;

    @AttributeDefinition(name = "Idle connection timeout (s)", description = "A connection with no call in progress for this"
            + " long is closed (a node always has its TaskStream open; an enrolled-and-gone client or a connection that"
            + " never calls does not keep a slot).", min = "10", max = "86400")
    int idleConnectionTimeoutSeconds() default 120;

    @AttributeDefinition(name = "Max inbound message (bytes)", description = "Largest message accepted from a node: an upload"
            + " chunk (1 MiB) plus framing by default, so an upload holds at most 4 of them in the hub's memory.",
            min = "1024", max = "268435456")
    int maxInboundMessageBytes() default 1024 * 1024 + 64 * 1024;

    @AttributeDefinition(name = "Max inbound metadata (bytes)", description = "Largest request header block accepted.",
            min = "1024", max = "1048576")
    int maxInboundMetadataBytes() default 8 * 1024;

    @AttributeDefinition(name = "Max concurrent calls per connection", min = "1", max = "100000")
    int maxConcurrentCallsPerConnection() default 16;

    @AttributeDefinition(name = "Max RST frames per window", description = "HTTP/2 rapid-reset limit: stream resets allowed per window before the connection is closed.",
            min = "1", max = "1000000")
    int maxRstFramesPerWindow() default 200;

    @AttributeDefinition(name = "RST window (s)", min = "1", max = "3600")
    int rstWindowSeconds() default 10;

    @AttributeDefinition(name = "Keepalive time (s)", description = "The hub pings an idle connection this often to detect half-open links.",
            min = "1", max = "86400")
    int keepAliveTimeSeconds() default 30;

    @AttributeDefinition(name = "Keepalive timeout (s)", description = "A ping unanswered for this long closes the connection.",
            min = "1", max = "3600")
    int keepAliveTimeoutSeconds() default 10;

    @AttributeDefinition(name = "Permitted client keepalive (s)", description = "Clients pinging more often than this are disconnected.",
            min = "0", max = "86400")
    int permitKeepAliveTimeSeconds() default 20;

    @AttributeDefinition(name = "gRPC threads", description = "Threads running gRPC handlers (they never block).",
            min = "1", max = "256")
    int grpcThreads() default 4;

    @AttributeDefinition(name = "Default task timeout (ms)", description = "Timeout of a task that names none; the node ends its process tree then.",
            min = "1000", max = "2147483647")
    int defaultTaskTimeoutMs() default 600_000;

    @AttributeDefinition(name = "Kill grace (ms)", description = "Between the polite stop (SIGTERM) and the kill (SIGKILL) of a task's process tree.",
            min = "0", max = "600000")
    int killGraceMs() default 5000;

    @AttributeDefinition(name = "Max pending tasks per node", description = "Tasks a node may have unfinished; more are refused (RESOURCE_EXHAUSTED) so a slow node never makes the hub buffer without bound.",
            min = "1", max = "100000")
    int maxPendingTasksPerNode() default 64;

    @AttributeDefinition(name = "Output window (bytes)", description = "Output credit per task: a node sends at most this much"
            + " of a task's output before the hub's consumers (the task's log, its caller) have taken it; it bounds the hub's"
            + " memory per running task. Larger helps throughput over long links.", min = "65536", max = "67108864")
    int outputWindowBytes() default 1024 * 1024;

    @AttributeDefinition(name = "Output stall limit (s)", description = "A caller (meshctl exec, an in-hub listener) that"
            + " takes none of a task's output for this long is detached (DEADLINE_EXCEEDED); the task runs on, paced by its log.",
            min = "1", max = "86400")
    int outputStallSeconds() default 60;

    @AttributeDefinition(name = "Enrollment failures per minute", description = "Failed enrollments allowed per peer address per minute before it is refused for the rest of the minute.",
            min = "1", max = "1000000")
    int enrollmentFailuresPerMinute() default 10;

    @AttributeDefinition(name = "File IO threads", description = "Threads writing uploaded chunks into the mirror and reading pushed files (never gRPC threads).",
            min = "1", max = "64")
    int fileIoThreads() default 4;

    @AttributeDefinition(name = "Max uploads", description = "Uploads the hub runs at once; more are refused (RESOURCE_EXHAUSTED).",
            min = "1", max = "100000")
    int maxUploads() default 64;

    @AttributeDefinition(name = "Max uploads per node", description = "Uploads one node may run at once, so no node can take"
            + " every slot; more are refused (RESOURCE_EXHAUSTED).", min = "1", max = "100000")
    int maxUploadsPerNode() default 8;

    @AttributeDefinition(name = "Upload idle timeout (s)", description = "An upload that sends nothing for this long is ended"
            + " (DEADLINE_EXCEEDED): its slot and its file lock are freed; what arrived is kept for a resume.",
            min = "1", max = "86400")
    int uploadIdleTimeoutSeconds() default 60;

    @AttributeDefinition(name = "Upload lock TTL (s)", description = "An upload's file lock expires this long after its last chunk unless the upload ends first (a backstop: uploads release their locks when they end).",
            min = "1", max = "86400")
    int uploadLockTtlSeconds() default 300;

    @AttributeDefinition(name = "Sync start timeout (s)", description = "How long a pull waits for the node to start uploading.",
            min = "1", max = "3600")
    int syncStartTimeoutSeconds() default 30;
}
