package dev.meshhub.transport.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the hub's gRPC servers (PID {@value #PID}, file {@code etc/dev.meshhub.transport.cfg};
 * each key can be overridden by {@code MESHHUB_TRANSPORT_<KEY_IN_UPPER_SNAKE_CASE>}).
 */
@ObjectClassDefinition(id = TransportConfig.PID, name = "meshhub transport",
        description = "The node port and the limits nodes are held to.")
public @interface TransportConfig {

    String PID = "dev.meshhub.transport";

    int DEFAULT_PORT = 7700;
    int DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
    int DEFAULT_HEARTBEAT_TIMEOUT_MS = 15000;
    int DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000;

    @AttributeDefinition(name = "Node port", description = "TCP port nodes connect to (0 picks a free port).")
    int port() default DEFAULT_PORT;

    @AttributeDefinition(name = "Node bind address", description = "Address the node port listens on.")
    String bindAddress() default "0.0.0.0";

    @AttributeDefinition(name = "Heartbeat interval (ms)", description = "How often nodes and the hub send heartbeats.")
    int heartbeatIntervalMs() default DEFAULT_HEARTBEAT_INTERVAL_MS;

    @AttributeDefinition(name = "Heartbeat timeout (ms)", description = "A session silent for this long is closed; must exceed the interval.")
    int heartbeatTimeoutMs() default DEFAULT_HEARTBEAT_TIMEOUT_MS;

    @AttributeDefinition(name = "Handshake timeout (ms)", description = "Deadline for an enrollment's database work; the node gets DEADLINE_EXCEEDED after it.")
    int handshakeTimeoutMs() default DEFAULT_HANDSHAKE_TIMEOUT_MS;

    @AttributeDefinition(name = "Connection handshake timeout (s)", description = "A TCP connection that has not completed its HTTP/2 handshake by then is closed.")
    int connectionHandshakeTimeoutSeconds() default 10;

    @AttributeDefinition(name = "Max inbound message (bytes)", description = "Largest message accepted from a node.")
    int maxInboundMessageBytes() default 4 * 1024 * 1024;

    @AttributeDefinition(name = "Max inbound metadata (bytes)", description = "Largest request header block accepted.")
    int maxInboundMetadataBytes() default 8 * 1024;

    @AttributeDefinition(name = "Max concurrent calls per connection")
    int maxConcurrentCallsPerConnection() default 16;

    @AttributeDefinition(name = "Max RST frames per window", description = "HTTP/2 rapid-reset limit: stream resets allowed per window before the connection is closed.")
    int maxRstFramesPerWindow() default 200;

    @AttributeDefinition(name = "RST window (s)")
    int rstWindowSeconds() default 10;

    @AttributeDefinition(name = "Keepalive time (s)", description = "The hub pings an idle connection this often to detect half-open links.")
    int keepAliveTimeSeconds() default 30;

    @AttributeDefinition(name = "Keepalive timeout (s)", description = "A ping unanswered for this long closes the connection.")
    int keepAliveTimeoutSeconds() default 10;

    @AttributeDefinition(name = "Permitted client keepalive (s)", description = "Clients pinging more often than this are disconnected.")
    int permitKeepAliveTimeSeconds() default 20;

    @AttributeDefinition(name = "gRPC threads", description = "Threads running gRPC handlers (they never block).")
    int grpcThreads() default 4;

    @AttributeDefinition(name = "Default task timeout (ms)", description = "Timeout of a task that names none; the node ends its process tree then.")
    int defaultTaskTimeoutMs() default 600_000;

    @AttributeDefinition(name = "Kill grace (ms)", description = "Between the polite stop (SIGTERM) and the kill (SIGKILL) of a task's process tree.")
    int killGraceMs() default 5000;

    @AttributeDefinition(name = "Max pending tasks per node", description = "Tasks a node may have unfinished; more are refused (RESOURCE_EXHAUSTED) so a slow node never makes the hub buffer without bound.")
    int maxPendingTasksPerNode() default 64;

    @AttributeDefinition(name = "Enrollment failures per minute", description = "Failed enrollments allowed per peer address per minute before it is refused for the rest of the minute.")
    int enrollmentFailuresPerMinute() default 10;

    @AttributeDefinition(name = "File IO threads", description = "Threads writing uploaded chunks into the mirror (never gRPC threads).")
    int fileIoThreads() default 4;

    @AttributeDefinition(name = "Max uploads", description = "Uploads the hub runs at once; more are refused (RESOURCE_EXHAUSTED).")
    int maxUploads() default 64;

    @AttributeDefinition(name = "Upload lock TTL (s)", description = "An upload's file lock expires this long after its last chunk unless the upload ends first (a backstop: uploads release their locks when they end).")
    int uploadLockTtlSeconds() default 300;

    @AttributeDefinition(name = "Sync start timeout (s)", description = "How long a pull waits for the node to start uploading.")
    int syncStartTimeoutSeconds() default 30;
}
