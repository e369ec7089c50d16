package dev.meshhub.bench;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;

/**
 * A node that speaks the wire contract but runs nothing: it enrolls with an invite, keeps one
 * TaskStream open with heartbeats, and answers every TaskAssignment at once with TaskStarted and
 * TaskFinished(SUCCEEDED, exit 0). So what the benchmarks measure is the hub, not process spawning.
 *
 * <p>One connection per node, as real nodes have. Callbacks run on the connection's event loop
 * (direct executor): answering is two non-blocking sends.
 */
final class SimulatedNode implements AutoCloseable {

    private final String name;
    private final String nodeId;
    private final ManagedChannel channel;
    private final String credential;
    private final int heartbeatIntervalMs;
    private final AtomicLong answered = new AtomicLong();
    private long heartbeatSequence;
    /** Guarded by {@code this}: a gRPC stream's sends must not overlap. */
    private StreamObserver<NodeMessage> requests;
    private ScheduledFuture<?> heartbeats;
    private volatile String ended;

    private SimulatedNode(String name, String nodeId, ManagedChannel channel, String credential, int heartbeatIntervalMs) {
        this.name = name;
        this.nodeId = nodeId;
        this.channel = channel;
        this.credential = credential;
        this.heartbeatIntervalMs = heartbeatIntervalMs;
    }

    /**
     * A channel to the hub's node port as a node opens it: TLS, verifying the hub by the CA in its
     * {@code data/pki/trust.pem} (plaintext when the hub was configured so, for the TLS-off rows).
     */
    static ManagedChannel channel(java.nio.file.Path home, int port, boolean plaintext) {
        if (plaintext) {
            return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().build();
        }
        try {
            var trust = dev.meshhub.proto.v1.HubTrust.anchors(dev.meshhub.proto.v1.HubTrust.readPem(home.resolve("data/pki/trust.pem")));
            return NettyChannelBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", port),
                    io.grpc.TlsChannelCredentials.newBuilder().trustManager(trust).build()).directExecutor().build();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the hub's trust bundle", e);
        }
    }

    /** Enrolls a node with a single-use invite token (SyncConfiguration). */
    static SimulatedNode enroll(HubInstance hub, String name, String inviteToken) {
        ManagedChannel channel = channel(hub.home(), hub.nodePort(), hub.plaintext());
        try {
            SyncConfigurationResponse response = NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(inviteToken).setNodeName(name)
                            .setInfo(info(name)).build());
            int interval = response.getSettings().getHeartbeatIntervalMs() > 0 ? response.getSettings().getHeartbeatIntervalMs() : 5000;
            return new SimulatedNode(name, response.getNodeId(), channel, response.getNodeCredential(), interval);
        } catch (RuntimeException e) {
            channel.shutdownNow();
            throw e;
        }
    }

    private static NodeInfo info(String name) {
        return NodeInfo.newBuilder().setHostname(name).setOs("simulated").setAgentVersion("meshhub-bench").build();
    }

    /** Opens the TaskStream (credential header), says Hello, and starts heartbeats. */
    synchronized void open(ScheduledExecutorService timers) {
        Metadata headers = new Metadata();
        headers.put(WireHeaders.NODE_CREDENTIAL, credential);
        requests = NodeServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .taskStream(new StreamObserver<>() {
                    @Override
                    public void onNext(HubMessage message) {
                        switch (message.getPayloadCase()) {
                            case TASK -> answer(message.getTask().getTaskId());
                            case CLOSING -> ended = "the hub closed the session: " + message.getClosing().getReason()
                                    + " " + message.getClosing().getDetail();
                            default -> {
                                // Heartbeats and policy updates need no answer.
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (ended == null) {
                            ended = "stream failed: " + Status.fromThrowable(t);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        if (ended == null) {
                            ended = "the hub ended the stream";
                        }
                    }
                });
        requests.onNext(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(info(name))).build());
        heartbeats = timers.scheduleAtFixedRate(this::heartbeat, heartbeatIntervalMs, heartbeatIntervalMs, TimeUnit.MILLISECONDS);
    }

    private void answer(String taskId) {
        NodeMessage started = NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(taskId)).build();
        NodeMessage finished = NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId(taskId)
                .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0)).build();
        synchronized (this) {
            if (requests != null) {
                requests.onNext(started);
                requests.onNext(finished);
            }
        }
        answered.incrementAndGet();
    }

    private synchronized void heartbeat() {
        if (requests != null && ended == null) {
            requests.onNext(NodeMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                    .setSentAtMs(System.currentTimeMillis()).setSequence(++heartbeatSequence)).build());
        }
    }

    String name() {
        return name;
    }

    /** The id the hub assigned at enrollment (its mirror lives in data/mirror/ID). */
    String nodeId() {
        return nodeId;
    }

    /**
     * A stub for this node's other calls (Upload), on the node's own connection and with its
     * credential header. Callbacks run on the connection's event loop: they must not block.
     */
    NodeServiceGrpc.NodeServiceStub stub() {
        Metadata headers = new Metadata();
        headers.put(WireHeaders.NODE_CREDENTIAL, credential);
        return NodeServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    long answered() {
        return answered.get();
    }

    /** Why the stream ended, or null while it is open. */
    String ended() {
        return ended;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (heartbeats != null) {
                heartbeats.cancel(false);
            }
            if (requests != null && ended == null) {
                try {
                    requests.onCompleted();
                } catch (RuntimeException e) {
                    // The stream is already gone.
                }
            }
            requests = null;
        }
        channel.shutdown();
        try {
            if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
