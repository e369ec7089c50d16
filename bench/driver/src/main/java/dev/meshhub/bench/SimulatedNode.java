package dev.meshhub.bench;

import java.util.List;
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
    private final AtomicLong renewed = new AtomicLong();
    /** Where renewals make their key and CSR: not on the connection's event loop. */
    private static final java.util.concurrent.Executor renewals = java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "bench-node-renewals");
        t.setDaemon(true);
        return t;
    });
    private long heartbeatSequence;
    /** Guarded by {@code this}: a gRPC stream's sends must not overlap. */
    private StreamObserver<NodeMessage> requests;
    private ScheduledFuture<?> heartbeats;
    private volatile String ended;
    /** Which TaskStream is the current one: a stream the node has left behind (the hub restarted) no longer speaks for it. */
    private volatile int stream;

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
        return channel(home, port, plaintext, null);
    }

    /** As {@link #channel(java.nio.file.Path, int, boolean)}, presenting the node's certificate when {@code keys} is set. */
    static ManagedChannel channel(java.nio.file.Path home, int port, boolean plaintext, javax.net.ssl.KeyManagerFactory keys) {
        if (plaintext) {
            return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().build();
        }
        try {
            var trust = dev.meshhub.proto.v1.HubTrust.anchors(dev.meshhub.proto.v1.HubTrust.readPem(home.resolve("data/pki/trust.pem")));
            io.grpc.TlsChannelCredentials.Builder tls = io.grpc.TlsChannelCredentials.newBuilder().trustManager(trust);
            if (keys != null) {
                tls.keyManager(keys.getKeyManagers());
            }
            return NettyChannelBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", port), tls.build())
                    .directExecutor().build();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the hub's trust bundle", e);
        }
    }

    /**
     * Enrolls a node with a single-use invite token (SyncConfiguration), as a real node does: with a
     * CSR for its own key over TLS, then a connection presenting the certificate; on a plaintext port
     * (TLS-off rows) with the bearer credential the hub answers with there.
     */
    static SimulatedNode enroll(HubInstance hub, String name, String inviteToken) {
        boolean plaintext = hub.plaintext();
        ManagedChannel enrolling = channel(hub.home(), hub.nodePort(), plaintext);
        NodeKeys keys = new NodeKeys();
        SyncConfigurationResponse response;
        try {
            SyncConfigurationRequest.Builder request = SyncConfigurationRequest.newBuilder().setInviteToken(inviteToken).setNodeName(name)
                    .setInfo(info(name));
            if (!plaintext) {
                request.setCsr(keys.csr(name));
            }
            response = NodeServiceGrpc.newBlockingStub(enrolling).withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(request.build());
        } catch (RuntimeException e) {
            enrolling.shutdownNow();
            throw e;
        }
        int interval = response.getSettings().getHeartbeatIntervalMs() > 0 ? response.getSettings().getHeartbeatIntervalMs() : 5000;
        if (plaintext) {
            return new SimulatedNode(name, response.getNodeId(), enrolling, response.getNodeCredential(), interval);
        }
        enrolling.shutdown();
        ManagedChannel certified = channel(hub.home(), hub.nodePort(), false, keys.keyManagers(response.getCertificateChainList()));
        return new SimulatedNode(name, response.getNodeId(), certified, null, interval);
    }

    /** The headers of this node's calls: its bearer credential on a plaintext port, none over TLS (the certificate says who). */
    private Metadata headers() {
        Metadata headers = new Metadata();
        if (credential != null && !credential.isEmpty()) {
            headers.put(WireHeaders.NODE_CREDENTIAL, credential);
        }
        return headers;
    }

    private static NodeInfo info(String name) {
        return NodeInfo.newBuilder().setHostname(name).setOs("simulated").setAgentVersion("meshhub-bench").build();
    }

    /**
     * Opens the TaskStream, says Hello, and starts heartbeats. Called again after its stream ended (the
     * hub restarted on the same port), it opens a new one on the same connection and identity, as a
     * real node reconnects.
     */
    synchronized void open(ScheduledExecutorService timers) {
        if (heartbeats != null) {
            heartbeats.cancel(false);
            channel.resetConnectBackoff();
        }
        ended = null;
        int current = ++stream;
        requests = NodeServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers()))
                .taskStream(new StreamObserver<>() {
                    @Override
                    public void onNext(HubMessage message) {
                        if (current != stream) {
                            return;
                        }
                        switch (message.getPayloadCase()) {
                            case TASK -> answer(message.getTask().getTaskId());
                            case TRUST_UPDATE -> {
                                if (message.getTrustUpdate().getRenewNow()) {
                                    renewals.execute(SimulatedNode.this::renew);
                                }
                            }
                            case CLOSING -> ended = "the hub closed the session: " + message.getClosing().getReason()
                                    + " " + message.getClosing().getDetail();
                            default -> {
                                // Heartbeats and policy updates need no answer.
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (ended == null && current == stream) {
                            ended = "stream failed: " + Status.fromThrowable(t);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        if (ended == null && current == stream) {
                            ended = "the hub ended the stream";
                        }
                    }
                });
        requests.onNext(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(info(name))).build());
        heartbeats = timers.scheduleAtFixedRate(this::heartbeat, heartbeatIntervalMs, heartbeatIntervalMs, TimeUnit.MILLISECONDS);
    }

    private void answer(String taskId) {
        List<NodeMessage> answers = answers(taskId);
        synchronized (this) {
            if (requests != null) {
                answers.forEach(requests::onNext);
            }
        }
        answered.incrementAndGet();
    }

    /** What a simulated node sends for a task: TaskStarted, then TaskFinished(SUCCEEDED, exit 0), at once. */
    static List<NodeMessage> answers(String taskId) {
        return List.of(NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(taskId)).build(),
                NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId(taskId)
                        .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0)).build());
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
     * A stub for this node's other calls (Upload), on the node's own connection and identity.
     * Callbacks run on the connection's event loop: they must not block.
     */
    NodeServiceGrpc.NodeServiceStub stub() {
        return NodeServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers()));
    }

    long answered() {
        return answered.get();
    }

    /** Certificates this node renewed since it enrolled. */
    long renewed() {
        return renewed.get();
    }

    /**
     * Renews the node's certificate as a real node does when the hub asks (a CSR for a new key, over
     * the open connection); the stream carries on, and the renewal is counted when the hub answers.
     */
    void renew() {
        NodeKeys next = new NodeKeys();
        NodeServiceGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).syncConfiguration(
                SyncConfigurationRequest.newBuilder().setCsr(next.csr(name)).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(SyncConfigurationResponse value) {
                        if (value.getCertificateChainCount() > 0) {
                            renewed.incrementAndGet();
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended = "renewal failed: " + Status.fromThrowable(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
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
