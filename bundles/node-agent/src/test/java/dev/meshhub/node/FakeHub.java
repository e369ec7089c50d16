package dev.meshhub.node;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small stand-in for the hub's NodeService on 127.0.0.1, for loopback tests of the agent: it
 * enrolls with one known token, accepts known credentials, records every stream and answers each
 * node heartbeat with one of its own (unless told to stay silent).
 */
final class FakeHub implements AutoCloseable {

    static final String TOKEN = "mhi.0123456789abcdef." + "A".repeat(40) + "_-z";
    static final String NODE_ID = "n-0123456789ab";
    static final String NODE_NAME = "test-node";
    static final String CREDENTIAL = "mhc." + NODE_ID + "." + "s".repeat(40) + "_-9";

    private static final Context.Key<String> CREDENTIAL_HEADER = Context.key("credential-header");

    final Set<String> validCredentials = ConcurrentHashMap.newKeySet();
    final AtomicInteger enrollments = new AtomicInteger();
    final AtomicInteger credentialSyncs = new AtomicInteger();
    final BlockingQueue<NodeStream> streams = new LinkedBlockingQueue<>();
    volatile Status enrollmentError;
    volatile boolean answerHeartbeats = true;
    volatile NodeSettings settings = NodeSettings.newBuilder()
            .setHeartbeatIntervalMs(50).setHeartbeatTimeoutMs(5_000).setMaxMessageBytes(1 << 20).build();

    private Server server;
    private int port;

    FakeHub() {
        validCredentials.add(CREDENTIAL);
    }

    /** Starts on an ephemeral port. */
    FakeHub start() throws IOException {
        return startOn(0);
    }

    /** Starts (again) on the given port; 0 means any. */
    FakeHub startOn(int wanted) throws IOException {
        ServerInterceptor captureCredential = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String value = headers.get(WireHeaders.NODE_CREDENTIAL);
                return Contexts.interceptCall(Context.current().withValue(CREDENTIAL_HEADER, value), call, headers,
                        next);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", wanted))
                .addService(ServerInterceptors.intercept(new Service(), captureCredential))
                .permitKeepAliveTime(30, TimeUnit.SECONDS)
                .build()
                .start();
        port = server.getPort();
        return this;
    }

    int port() {
        return port;
    }

    HubAddress address() {
        return new HubAddress("127.0.0.1", port);
    }

    /** Stops the server at once, breaking every stream, as a hub crash would. */
    void stop() throws InterruptedException {
        if (server != null) {
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
            server = null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** One TaskStream as the hub saw it. */
    static final class NodeStream {
        final String credentialHeader;
        final BlockingQueue<NodeMessage> received = new LinkedBlockingQueue<>();
        final CountDownLatch ended = new CountDownLatch(1);
        final ServerCallStreamObserver<HubMessage> toNode;

        NodeStream(String credentialHeader, ServerCallStreamObserver<HubMessage> toNode) {
            this.credentialHeader = credentialHeader;
            this.toNode = toNode;
        }

        synchronized void send(HubMessage message) {
            toNode.onNext(message);
        }

        /** Sends SessionClosing and ends the stream, as the hub does. */
        synchronized void closeWith(SessionClosing.Reason reason, String detail) {
            toNode.onNext(HubMessage.newBuilder()
                    .setClosing(SessionClosing.newBuilder().setReason(reason).setDetail(detail)).build());
            toNode.onCompleted();
        }

        NodeMessage next() throws InterruptedException {
            NodeMessage m = received.poll(10, TimeUnit.SECONDS);
            if (m == null) {
                throw new AssertionError("no message from the node within 10 s");
            }
            return m;
        }
    }

    private final class Service extends NodeServiceGrpc.NodeServiceImplBase {
        @Override
        public void syncConfiguration(SyncConfigurationRequest request,
                StreamObserver<SyncConfigurationResponse> response) {
            SyncConfigurationResponse.Builder answer = SyncConfigurationResponse.newBuilder()
                    .setNodeId(NODE_ID).setNodeName(NODE_NAME).setSettings(settings);
            if (request.getCredentialCase() == SyncConfigurationRequest.CredentialCase.INVITE_TOKEN) {
                enrollments.incrementAndGet();
                Status refuse = enrollmentError;
                if (refuse != null) {
                    response.onError(refuse.asRuntimeException());
                } else if (!TOKEN.equals(request.getInviteToken())) {
                    response.onError(Status.UNAUTHENTICATED.withDescription("unknown invite token").asRuntimeException());
                } else {
                    response.onNext(answer.setNodeCredential(CREDENTIAL).build());
                    response.onCompleted();
                }
                return;
            }
            credentialSyncs.incrementAndGet();
            String credential = CREDENTIAL_HEADER.get();
            if (credential == null) {
                credential = request.getNodeCredential();
            }
            if (!validCredentials.contains(credential)) {
                response.onError(Status.UNAUTHENTICATED
                        .withDescription("unknown or revoked credential").asRuntimeException());
                return;
            }
            response.onNext(answer.build());
            response.onCompleted();
        }

        @Override
        public StreamObserver<NodeMessage> taskStream(StreamObserver<HubMessage> responseObserver) {
            ServerCallStreamObserver<HubMessage> toNode = (ServerCallStreamObserver<HubMessage>) responseObserver;
            String credential = CREDENTIAL_HEADER.get();
            NodeStream stream = new NodeStream(credential, toNode);
            toNode.setOnCancelHandler(stream.ended::countDown);
            streams.add(stream);
            if (credential == null || !validCredentials.contains(credential)) {
                toNode.onError(Status.UNAUTHENTICATED.withDescription("unknown or revoked credential")
                        .asRuntimeException());
                stream.ended.countDown();
                return new StreamObserver<>() {
                    @Override public void onNext(NodeMessage value) { }
                    @Override public void onError(Throwable t) { }
                    @Override public void onCompleted() { }
                };
            }
            return new StreamObserver<>() {
                private long sequence;

                @Override
                public void onNext(NodeMessage message) {
                    stream.received.add(message);
                    if (message.hasHeartbeat() && answerHeartbeats) {
                        stream.send(HubMessage.newBuilder()
                                .setHeartbeat(Heartbeat.newBuilder().setSequence(++sequence)).build());
                    }
                }

                @Override
                public void onError(Throwable t) {
                    stream.ended.countDown();
                }

                @Override
                public void onCompleted() {
                    stream.ended.countDown();
                }
            };
        }
    }
}
