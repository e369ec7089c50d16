package dev.meshhub.node;

import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.proto.v1.FileDownload;
import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeSettings;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.proto.v1.TaskAssignment;
import dev.meshhub.proto.v1.TaskCancel;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A small stand-in for the hub's NodeService on 127.0.0.1, for loopback tests of the agent: it
 * enrolls with one known token, accepts known credentials, records every stream and answers each
 * node heartbeat with one of its own (unless told to stay silent). It hands out {@link #policy} in
 * the handshake, and can stop reading a stream ({@link #manualInbound}) to play a slow hub.
 * Download calls run the test's {@link #download} script.
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
    /** The policy sent in the handshake. */
    volatile SandboxPolicy policy = SandboxPolicy.newBuilder().setMode(SandboxPolicy.Mode.STRICT).setRevision(1).build();
    /** When set, a new stream delivers the node's messages only as the test {@linkplain NodeStream#request asks}. */
    volatile boolean manualInbound;
    /** What Download does (after the credential check); runs on a server thread and may block. */
    volatile DownloadScript download = (request, chunks) -> chunks.onError(Status.NOT_FOUND
            .withDescription("no transfer '" + request.getTransferId() + "'").asRuntimeException());
    /** Every Download request that passed the credential check. */
    final BlockingQueue<DownloadRequest> downloadRequests = new LinkedBlockingQueue<>();
    /**
     * Released when a Download call was cancelled by the node (or its deadline passed), at once on
     * the transport's thread, even while a blocking script runs: what a script waits on.
     */
    final CountDownLatch downloadCancelled = new CountDownLatch(1);

    /** The test's Download behaviour. */
    interface DownloadScript {
        void serve(DownloadRequest request, ServerCallStreamObserver<DownloadChunk> chunks) throws Exception;
    }

    private Server server;
    private int port;
    /** When set before start, the fake serves TLS with it (the hub's certificate and chain). */
    volatile io.grpc.netty.shaded.io.netty.handler.ssl.SslContext tls;
    /** Every call that reached the service (after TLS): what a refused hub must never see. */
    final AtomicInteger calls = new AtomicInteger();
    /** When set, CSRs get certificates from this CA (as the hub issues them), and no credential is handed out. */
    volatile TestCa issuer;
    /** Lifetime of the certificates {@link #issuer} issues. */
    volatile java.time.Duration certificateLifetime = java.time.Duration.ofDays(7);
    /** Certificates issued to a node that asked over a connection with its certificate (renewals). */
    final AtomicInteger renewals = new AtomicInteger();
    /** Calls that came with a client certificate naming {@link #NODE_ID} (they count as that node's). */
    final AtomicInteger certifiedCalls = new AtomicInteger();

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
                calls.incrementAndGet();
                javax.net.ssl.SSLSession tlsSession = call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_SSL_SESSION);
                try {
                    if (tlsSession != null && tlsSession.getPeerCertificates().length > 0
                            && ((java.security.cert.X509Certificate) tlsSession.getPeerCertificates()[0]).getSubjectAlternativeNames()
                                    .toString().contains("meshhub://node/" + NODE_ID)) {
                        certifiedCalls.incrementAndGet();
                        value = CREDENTIAL;
                    }
                } catch (javax.net.ssl.SSLPeerUnverifiedException | java.security.cert.CertificateParsingException none) {
                    // no client certificate: the credential header (if any) decides
                }
                return Contexts.interceptCall(Context.current().withValue(CREDENTIAL_HEADER, value), call, headers,
                        next);
            }
        };
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", wanted))
                .addService(ServerInterceptors.intercept(new Service(), captureCredential))
                .permitKeepAliveTime(30, TimeUnit.SECONDS);
        if (tls != null) {
            builder.sslContext(tls);
        }
        server = builder.build().start();
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
        /** Task messages taken from {@link #received} by {@link #awaitTask}, by task id; test thread only. */
        private final Map<String, List<NodeMessage>> taskMessages = new HashMap<>();

        NodeStream(String credentialHeader, ServerCallStreamObserver<HubMessage> toNode) {
            this.credentialHeader = credentialHeader;
            this.toNode = toNode;
        }

        synchronized void send(HubMessage message) {
            toNode.onNext(message);
        }

        /** Sends SessionClosing and ends the stream with an error status, as the hub does when it refuses a session. */
        synchronized void closeWithStatus(SessionClosing.Reason reason, Status status) {
            toNode.onNext(HubMessage.newBuilder()
                    .setClosing(SessionClosing.newBuilder().setReason(reason).setDetail(status.getDescription())).build());
            toNode.onError(status.asRuntimeException());
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

        /** With {@link FakeHub#manualInbound}: lets {@code n} more messages of the node in. */
        synchronized void request(int n) {
            toNode.request(n);
        }

        // ---- tasks (test thread only) ----

        void assign(String taskId, CommandTask command) {
            send(HubMessage.newBuilder().setTask(TaskAssignment.newBuilder().setTaskId(taskId).setCommand(command))
                    .build());
        }

        void assignDownload(String taskId, FileDownload download) {
            send(HubMessage.newBuilder().setTask(TaskAssignment.newBuilder().setTaskId(taskId).setDownload(download))
                    .build());
        }

        void cancel(String taskId, String reason) {
            send(HubMessage.newBuilder().setCancelTask(TaskCancel.newBuilder().setTaskId(taskId).setReason(reason))
                    .build());
        }

        void updatePolicy(SandboxPolicy policy) {
            send(HubMessage.newBuilder().setPolicyUpdate(policy).build());
        }

        /** Takes messages until {@code until} holds for the task's messages; returns them. */
        TaskRun awaitTask(String taskId, Predicate<TaskRun> until) throws InterruptedException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Await.DEADLINE_MS);
            while (true) {
                TaskRun run = new TaskRun(taskId, taskMessages.getOrDefault(taskId, List.of()));
                if (until.test(run)) {
                    return run;
                }
                long left = end - System.nanoTime();
                NodeMessage m = left > 0 ? received.poll(left, TimeUnit.NANOSECONDS) : null;
                if (m == null) {
                    throw new AssertionError("timed out waiting for task " + taskId + "; it sent " + run);
                }
                String id = TaskRun.taskIdOf(m);
                if (id != null) {
                    taskMessages.computeIfAbsent(id, k -> new ArrayList<>()).add(m);
                }
            }
        }

        /** Takes messages until the task's TaskFinished. */
        TaskRun awaitFinished(String taskId) throws InterruptedException {
            return awaitTask(taskId, TaskRun::isFinished);
        }

        /** Whether any message of this task was taken so far. */
        boolean sawTask(String taskId) {
            return taskMessages.containsKey(taskId);
        }
    }

    private final class Service extends NodeServiceGrpc.NodeServiceImplBase {
        @Override
        public void syncConfiguration(SyncConfigurationRequest request,
                StreamObserver<SyncConfigurationResponse> response) {
            SyncConfigurationResponse.Builder answer = SyncConfigurationResponse.newBuilder()
                    .setNodeId(NODE_ID).setNodeName(NODE_NAME).setSettings(settings).setPolicy(policy);
            if (request.getCredentialCase() == SyncConfigurationRequest.CredentialCase.INVITE_TOKEN) {
                enrollments.incrementAndGet();
                Status refuse = enrollmentError;
                if (refuse != null) {
                    response.onError(refuse.asRuntimeException());
                } else if (!TOKEN.equals(request.getInviteToken())) {
                    response.onError(Status.UNAUTHENTICATED.withDescription("unknown invite token").asRuntimeException());
                } else {
                    if (!issue(request, answer)) {
                        answer.setNodeCredential(CREDENTIAL);
                    }
                    response.onNext(answer.build());
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
            issue(request, answer);
            response.onNext(answer.build());
            response.onCompleted();
        }

        /** Issues a certificate for the request's CSR when this fake has an issuer; whether it did. */
        private boolean issue(SyncConfigurationRequest request, SyncConfigurationResponse.Builder answer) {
            TestCa ca = issuer;
            if (ca == null || request.getCsr().isEmpty()) {
                return false;
            }
            if (request.getCredentialCase() == SyncConfigurationRequest.CredentialCase.CREDENTIAL_NOT_SET) {
                renewals.incrementAndGet();
            }
            try {
                answer.addCertificateChain(com.google.protobuf.ByteString.copyFrom(
                                ca.issue(request.getCsr().toByteArray(), NODE_ID, certificateLifetime).getEncoded()))
                        .addCertificateChain(com.google.protobuf.ByteString.copyFrom(ca.ca.getEncoded()))
                        .addTrustBundle(com.google.protobuf.ByteString.copyFrom(ca.ca.getEncoded()));
                return true;
            } catch (Exception e) {
                throw new IllegalStateException("the fake hub could not issue a certificate", e);
            }
        }

        @Override
        public void download(DownloadRequest request, StreamObserver<DownloadChunk> responseObserver) {
            ServerCallStreamObserver<DownloadChunk> chunks = (ServerCallStreamObserver<DownloadChunk>) responseObserver;
            String credential = CREDENTIAL_HEADER.get();
            if (credential == null || !validCredentials.contains(credential)) {
                chunks.onError(Status.UNAUTHENTICATED.withDescription("unknown or revoked credential")
                        .asRuntimeException());
                return;
            }
            downloadRequests.add(request);
            // The context ends with every call; with a cause only when the call did not end normally.
            Context.current().addListener(context -> {
                if (context.cancellationCause() != null) {
                    downloadCancelled.countDown();
                }
            }, Runnable::run);
            chunks.setOnCancelHandler(() -> { }); // cancels are expected: no exception from onNext after one
            try {
                download.serve(request, chunks);
            } catch (Exception e) {
                if (!chunks.isCancelled()) {
                    chunks.onError(Status.INTERNAL.withDescription("fake download script failed: " + e)
                            .asRuntimeException());
                }
            }
        }

        @Override
        public StreamObserver<NodeMessage> taskStream(StreamObserver<HubMessage> responseObserver) {
            ServerCallStreamObserver<HubMessage> toNode = (ServerCallStreamObserver<HubMessage>) responseObserver;
            if (manualInbound) {
                toNode.disableAutoRequest();
            }
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
