package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;

/**
 * The hub as its bundles run in Felix: real gRPC clients over loopback, the real journal on disk.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HubIT extends HubTestBase {

    @Inject
    private EnrollmentStore store;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("HubIT", Map.of(), "meshhub");
    }

    static StatusRuntimeException failure(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run);
    }

    /** An enrollment request with {@code token} and a well-formed CSR (a TLS port refuses one without). */
    private static SyncConfigurationRequest token(String token) {
        return SyncConfigurationRequest.newBuilder().setInviteToken(token).setCsr(TestCertificates.throwawayCsr()).build();
    }

    @Test
    public void aNodeEnrollsStreamsIsListedAndIsGoneWithinASecondOfItsStreamEnding() throws Exception {
        TestNode enrolled = hub.enroll("walker");
        assertTrue(enrolled.getNodeId().matches("n-[0-9a-f]{12}"));
        assertEquals("a TLS port hands out no bearer credential", "", enrolled.enrolled.getNodeCredential());
        assertEquals("the node's certificate (its identity), then the CA", 2, enrolled.chain.size());
        assertEquals("walker", enrolled.getNodeName());
        assertEquals(HubTestSupport.HEARTBEAT_INTERVAL_MS, enrolled.getSettings().getHeartbeatIntervalMs());
        assertEquals("STRICT", enrolled.enrolled.getPolicy().getMode().name());

        try (TestStream stream = enrolled.stream().hello()) {
            Poll.until("node listed", Duration.ofSeconds(5), () -> directory.session(enrolled.getNodeId()).isPresent());
            HubMessage policy = stream.next(5);
            assertNotNull("the hub sends the node its current policy once it is listed", policy);
            assertEquals("STRICT", policy.getPolicyUpdate().getMode().name());
            HubMessage heartbeat = stream.next(5);
            assertNotNull("the hub sends heartbeats", heartbeat);
            assertTrue(heartbeat.hasHeartbeat());
            stream.heartbeat();

            NodeStatus listed = hub.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                    .filter(n -> n.getNodeId().equals(enrolled.getNodeId())).findFirst().orElseThrow();
            assertTrue(listed.getConnected());
            assertEquals("walker", listed.getName());
            assertTrue(listed.getAddress().startsWith("127.0.0.1:"));
            assertTrue(listed.getConnectedSinceMs() > 0 && listed.getLastHeartbeatMs() >= listed.getConnectedSinceMs());

            stream.cancel();
            Poll.until("node gone after its stream ended", Duration.ofSeconds(1), () -> directory.session(enrolled.getNodeId()).isEmpty());
        }
        assertFalse(hub.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .anyMatch(n -> n.getNodeId().equals(enrolled.getNodeId())));
        assertTrue("still enrolled, shown offline", hub.admin().listNodes(ListNodesRequest.newBuilder().setIncludeOffline(true).build())
                .getNodesList().stream().anyMatch(n -> n.getNodeId().equals(enrolled.getNodeId()) && !n.getConnected()));
    }

    @Test
    public void aKnownNodeReconnectsByItsCertificateAlone() throws Exception {
        TestNode enrolled = hub.enroll("returning");
        SyncConfigurationResponse again = enrolled.node().syncConfiguration(SyncConfigurationRequest.getDefaultInstance());
        assertEquals(enrolled.getNodeId(), again.getNodeId());
        assertEquals("returning", again.getNodeName());
        assertEquals("", again.getNodeCredential());
        assertEquals("no CSR, no new certificate", 0, again.getCertificateChainCount());
    }

    @Test
    public void anInviteTokenWorksOnce() throws Exception {
        String token = hub.invite();
        hub.node().syncConfiguration(token(token).toBuilder().setNodeName("once").build());
        StatusRuntimeException e = failure(() -> hub.node().syncConfiguration(token(token).toBuilder().setNodeName("twice").build()));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getMessage(), e.getStatus().getDescription().contains("already used"));
        assertTrue(store.find("twice").isEmpty());
    }

    @Test
    public void malformedTokensAreRefusedBeforeAnyDatabaseWork() {
        String[] bad = {"", "not-a-token", "mhi.0123456789abcdef." + "A".repeat(42), "x".repeat(10_000),
                "mhi.0123456789abcdef.AAAAAAAAAAAAAAAAAAAA\0AAAAAAAAAAAAAAAAAAAAAA"};
        for (String token : bad) {
            StatusRuntimeException e = failure(() -> hub.node().syncConfiguration(token(token)));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertFalse("the token is never echoed", e.getStatus().getDescription().contains("xxxxxxxxxx"));
        }
    }

    @Test
    public void aWrongSecretLooksExactlyLikeAnUnknownToken() throws Exception {
        String real = hub.invite();
        String wrongSecret = real.substring(0, real.lastIndexOf('.') + 1) + "B".repeat(43);
        String unknownId = "mhi.0000000000000000." + "B".repeat(43);
        StatusRuntimeException wrong = failure(() -> hub.node().syncConfiguration(token(wrongSecret)));
        StatusRuntimeException unknown = failure(() -> hub.node().syncConfiguration(token(unknownId)));
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getStatus().getCode());
        assertEquals(unknown.getStatus().getCode(), wrong.getStatus().getCode());
        assertEquals(unknown.getStatus().getDescription(), wrong.getStatus().getDescription());
        // The real token was not harmed by the attempt.
        hub.node().syncConfiguration(token(real).toBuilder().setNodeName("survivor").build());
    }

    @Test
    public void anExpiredTokenIsRefusedAtTheMomentOfUse() throws Exception {
        String token = hub.admin().createInvite(dev.meshhub.proto.v1.CreateInviteRequest.newBuilder().setTtlSeconds(1).build()).getToken();
        long expiresAt = System.currentTimeMillis() + 1000;
        // Waiting out a known expiry time (not a condition): the row is still in the table afterwards.
        Thread.sleep(Math.max(0, expiresAt - System.currentTimeMillis()) + 200);
        StatusRuntimeException e = failure(() -> hub.node().syncConfiguration(token(token)));
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertTrue(e.getMessage(), e.getStatus().getDescription().contains("expired"));
    }

    @Test
    public void onlyTheHandshakeAcceptsAnUnauthenticatedCaller() throws Exception {
        Collection<MethodDescriptor<?, ?>> nodeMethods = NodeServiceGrpc.getServiceDescriptor().getMethods();
        assertEquals("the test must see every method", 4, nodeMethods.size());
        for (MethodDescriptor<?, ?> method : nodeMethods) {
            Status status = callWithDefaultRequest(hub.nodeChannel, method, new Metadata());
            if (method.getFullMethodName().equals(NodeServiceGrpc.getSyncConfigurationMethod().getFullMethodName())) {
                assertEquals("the handshake is open, and an empty one is invalid", Status.Code.INVALID_ARGUMENT, status.getCode());
            } else {
                assertEquals(method.getFullMethodName(), Status.Code.UNAUTHENTICATED, status.getCode());
                assertTrue(status.getDescription(), status.getDescription().contains("needs the node's certificate"));
            }
        }
        Metadata bogusCredential = new Metadata();
        bogusCredential.put(dev.meshhub.proto.v1.WireHeaders.NODE_CREDENTIAL, "mhc.n-000000000000." + "A".repeat(43));
        Status bearer = callWithDefaultRequest(hub.nodeChannel, NodeServiceGrpc.getTaskStreamMethod(), bogusCredential);
        assertEquals(Status.Code.UNAUTHENTICATED, bearer.getCode());
        assertTrue(bearer.getDescription(), bearer.getDescription().contains("bearer credentials are retired"));

        Collection<MethodDescriptor<?, ?>> adminMethods = AdminServiceGrpc.getServiceDescriptor().getMethods();
        assertEquals("the test must see every method", 18, adminMethods.size());
        Metadata wrongToken = new Metadata();
        wrongToken.put(dev.meshhub.proto.v1.WireHeaders.AUTHORIZATION, "Bearer mha.wrong");
        for (MethodDescriptor<?, ?> method : adminMethods) {
            assertEquals(method.getFullMethodName(), Status.Code.UNAUTHENTICATED, callWithDefaultRequest(hub.adminChannel, method, new Metadata()).getCode());
            assertEquals(method.getFullMethodName(), Status.Code.UNAUTHENTICATED, callWithDefaultRequest(hub.adminChannel, method, wrongToken).getCode());
        }
    }

    /** Calls any method with its request type's default message and returns how the call ended. */
    private static <Q, R> Status callWithDefaultRequest(ManagedChannel channel, MethodDescriptor<Q, R> method, Metadata headers) throws Exception {
        @SuppressWarnings("unchecked")
        Q request = (Q) ((MethodDescriptor.PrototypeMarshaller<Q>) method.getRequestMarshaller()).getMessagePrototype();
        return call(channel, method, request, headers);
    }

    /** Sends one request on any method, half-closes, and returns how the call ended. */
    private static <Q, R> Status call(ManagedChannel channel, MethodDescriptor<Q, R> method, Q request, Metadata headers) throws Exception {
        CompletableFuture<Status> closed = new CompletableFuture<>();
        ClientCall<Q, R> call = channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                closed.complete(status);
            }
        }, headers);
        call.request(10);
        call.sendMessage(request);
        call.halfClose();
        return closed.get(15, TimeUnit.SECONDS);
    }

    @Test
    public void garbageAndHostileProtobufIsInvalidArgumentNotACrash() throws Exception {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(NodeServiceGrpc.getSyncConfigurationMethod().getFullMethodName())
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};
        byte[] deep = new byte[200_000];
        Arrays.fill(deep, (byte) 0x7b); // start-group tags of field 15, nested 200,000 deep
        for (byte[] body : List.of(garbage, deep)) {
            Status status = call(hub.nodeChannel, raw, body, new Metadata());
            assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
            assertTrue(status.getDescription(), status.getDescription().contains("not a valid protobuf message"));
        }
        // The hub is still fine.
        assertNotNull(hub.enroll("after-garbage").getNodeId());
    }

    @Test
    public void aMessageOverTheSizeCapIsRefusedAndOthersAreUnaffected() throws Exception {
        StatusRuntimeException e = failure(() -> hub.node().syncConfiguration(token("x".repeat(5 * 1024 * 1024))));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertNotNull(hub.enroll("after-big").getNodeId());
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    @Test
    public void aStreamMustStartWithHello() throws Exception {
        TestNode enrolled = hub.enroll("rude");
        try (TestStream stream = enrolled.stream()) {
            stream.heartbeat();
            Status status = stream.awaitEnd(10);
            assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
            assertTrue(status.getDescription(), status.getDescription().contains("Hello"));
        }
        assertTrue(directory.session(enrolled.getNodeId()).isEmpty());
    }

    @Test
    public void aSilentNodeIsClosedAfterTheHeartbeatTimeout() throws Exception {
        TestNode enrolled = hub.enroll("silent");
        try (TestStream stream = enrolled.stream().hello()) {
            Poll.until("listed", Duration.ofSeconds(5), () -> directory.session(enrolled.getNodeId()).isPresent());
            Status status = stream.awaitEnd(10);
            assertEquals(Status.Code.UNAVAILABLE, status.getCode());
            assertTrue(status.getDescription(), status.getDescription().contains("no heartbeat from node " + enrolled.getNodeId()));
            assertTrue(directory.session(enrolled.getNodeId()).isEmpty());
        }
    }

    @Test
    public void aSecondSessionOfALiveNodeIsRefusedAndTheLiveOneKeepsTheNode() throws Exception {
        TestNode enrolled = hub.enroll("twin");
        try (TestStream first = enrolled.stream().hello().keepAlive()) {
            Poll.until("first listed", Duration.ofSeconds(5), () -> directory.session(enrolled.getNodeId()).isPresent());
            var since = directory.session(enrolled.getNodeId()).get().connectedSince();
            long refusedBefore = directory.linkStats().takeoversRefused();
            try (TestStream second = enrolled.stream().hello()) {
                Status status = second.awaitEnd(10);
                assertEquals(status.toString(), Status.Code.ALREADY_EXISTS, status.getCode());
                assertTrue(second.received.stream().anyMatch(m -> m.getClosing().getReason() == SessionClosing.Reason.ALREADY_CONNECTED));
                assertFalse("the live session carries on", first.ended.isDone());
                assertEquals(since, directory.session(enrolled.getNodeId()).get().connectedSince());
                assertEquals(1, directory.session(enrolled.getNodeId()).get().takeovers());
                assertEquals(refusedBefore + 1, directory.linkStats().takeoversRefused());
                var listed = hub.admin().listNodes(dev.meshhub.proto.v1.ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .filter(n -> n.getNodeId().equals(enrolled.getNodeId())).findFirst().orElseThrow();
                assertEquals(1, listed.getTakeovers());
                assertTrue(listed.getLastTakeoverAddress(), listed.getLastTakeoverAddress().startsWith("127.0.0.1:"));
            }
        }
    }

    @Test
    public void revokingANodeClosesItsSessionAtOnceAndLocksItOut() throws Exception {
        TestNode enrolled = hub.enroll("doomed");
        try (TestStream stream = enrolled.stream().hello()) {
            Poll.until("listed", Duration.ofSeconds(5), () -> directory.session(enrolled.getNodeId()).isPresent());
            var revoked = hub.admin().revokeNode(RevokeNodeRequest.newBuilder().setNode("doomed").build());
            assertEquals(enrolled.getNodeId(), revoked.getNodeId());
            assertTrue(revoked.getSessionClosed());
            Status status = stream.awaitEnd(5);
            assertEquals(Status.Code.UNAUTHENTICATED, status.getCode());
            assertTrue(stream.received.stream().anyMatch(m -> m.getClosing().getReason() == SessionClosing.Reason.REVOKED));
        }
        StatusRuntimeException e = failure(() -> enrolled.node().syncConfiguration(SyncConfigurationRequest.getDefaultInstance()));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertTrue(e.getMessage(), e.getStatus().getDescription().contains("is revoked"));
        try (TestStream again = enrolled.stream()) {
            assertEquals(Status.Code.PERMISSION_DENIED, again.awaitEnd(5).getCode());
        }
        AdminServiceGrpc.AdminServiceBlockingStub admin = hub.admin();
        StatusRuntimeException missing = failure(() -> admin.revokeNode(RevokeNodeRequest.newBuilder().setNode("no-such-node").build()));
        assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
    }

    @Test
    public void aNodeThatIsNotConnectedCanBeRemovedAndItsNameEnrollsAgain() throws Exception {
        TestNode orphan = hub.enroll("orphan");
        AdminServiceGrpc.AdminServiceBlockingStub admin = hub.admin();
        try (TestStream stream = orphan.stream().hello().keepAlive()) {
            Poll.until("listed", Duration.ofSeconds(5), () -> directory.session(orphan.getNodeId()).isPresent());
            StatusRuntimeException connected = failure(() -> admin.removeNode(
                    dev.meshhub.proto.v1.RemoveNodeRequest.newBuilder().setNode("orphan").build()));
            assertEquals(Status.Code.FAILED_PRECONDITION, connected.getStatus().getCode());
            assertTrue(connected.getMessage(), connected.getStatus().getDescription().contains("revoke it first"));
            admin.revokeNode(RevokeNodeRequest.newBuilder().setNode("orphan").build());
        }
        Poll.until("gone", Duration.ofSeconds(5), () -> directory.session(orphan.getNodeId()).isEmpty());
        var removed = admin.removeNode(dev.meshhub.proto.v1.RemoveNodeRequest.newBuilder().setNode("Orphan").build());
        assertEquals(orphan.getNodeId(), removed.getNodeId());
        StatusRuntimeException unknown = failure(() -> orphan.node().syncConfiguration(SyncConfigurationRequest.getDefaultInstance()));
        assertEquals("its certificate names a node the hub no longer knows", Status.Code.UNAUTHENTICATED, unknown.getStatus().getCode());
        TestNode again = hub.enroll("orphan");
        assertNotEquals(orphan.getNodeId(), again.getNodeId());
        assertEquals(Status.Code.NOT_FOUND, failure(() -> admin.removeNode(
                dev.meshhub.proto.v1.RemoveNodeRequest.newBuilder().setNode("no-such-node").build())).getStatus().getCode());
    }

    @Test
    public void aConnectionThatNeverCompletesItsHandshakeIsClosed() throws Exception {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", hub.nodePort), 5000);
            socket.setSoTimeout(15_000);
            int read;
            try {
                read = socket.getInputStream().read();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the hub kept a silent connection open for 15 s");
            } catch (java.io.IOException reset) {
                read = -1;
            }
            // The server may write its HTTP/2 settings before giving up; drain until it closes.
            while (read != -1) {
                try {
                    read = socket.getInputStream().read();
                } catch (java.io.IOException reset) {
                    read = -1;
                }
            }
        }
    }

    @Test
    public void theHealthServiceSaysServing() {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(hub.nodeChannel).withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
    }

    @Test
    public void theShellCommandsInviteListAndRevoke() throws Exception {
        CommandProcessor processor = context.getService(context.getServiceReference(CommandProcessor.class));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CommandSession session = processor.createSession(new ByteArrayInputStream(new byte[0]), new PrintStream(out), new PrintStream(out))) {
            String token = String.valueOf(session.execute("mesh:invite --ttl 10m"));
            assertTrue(token, token.matches("mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"));
            TestNode enrolled = TestNode.enroll(hub, token(token).toBuilder().setNodeName("shelled").build());
            try (TestStream stream = enrolled.stream().hello()) {
                Poll.until("listed", Duration.ofSeconds(5), () -> directory.session(enrolled.getNodeId()).isPresent());
                stream.heartbeat();
                session.execute("mesh:nodes");
                assertTrue(out.toString(StandardCharsets.UTF_8), out.toString(StandardCharsets.UTF_8).contains("shelled"));
                String revoked = String.valueOf(session.execute("mesh:revoke shelled"));
                assertTrue(revoked, revoked.contains("live session closed"));
                assertEquals(Status.Code.UNAUTHENTICATED, stream.awaitEnd(5).getCode());
            }
            Exception bad = assertThrows(Exception.class, () -> session.execute("mesh:invite --ttl forever"));
            assertTrue(bad.getMessage(), bad.getMessage().contains("e.g. 90s"));
        }
    }

    /**
     * An enrollment whose database work stalls must not hold up anything else: other nodes'
     * heartbeats keep flowing and a known node's reconnect completes, while the stalled handshakes
     * end at their deadline with a clear status and spend nothing.
     */
    @Test
    public void aStalledEnrollmentDelaysNeitherHeartbeatsNorOtherHandshakes() throws Exception {
        TestNode steady = hub.enroll("steady");
        TestNode returning = hub.enroll("returning-during-stall");
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tokens.add(hub.invite());
        }
        EnrollmentStore real = store;
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService stalledDatabase = Executors.newCachedThreadPool();
        ServiceRegistration<EnrollmentStore> stalling = context.registerService(EnrollmentStore.class,
                new StallingStore(real, release, stalledDatabase), new Hashtable<>(Map.of(Constants.SERVICE_RANKING, 1000)));
        ExecutorService heartbeats = Executors.newSingleThreadExecutor();
        try (TestStream stream = steady.stream().hello()) {
            Poll.until("steady listed", Duration.ofSeconds(5), () -> directory.session(steady.getNodeId()).isPresent());
            heartbeats.submit(() -> {
                while (!Thread.currentThread().isInterrupted() && !stream.ended.isDone()) {
                    stream.heartbeat();
                    try {
                        Thread.sleep(HubTestSupport.HEARTBEAT_INTERVAL_MS);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            stream.received.clear();
            long stallStart = System.nanoTime();
            List<CompletableFuture<Status>> stalled = new ArrayList<>();
            for (String token : tokens) {
                CompletableFuture<Status> outcome = new CompletableFuture<>();
                NodeServiceGrpc.newStub(hub.nodeChannel).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .syncConfiguration(token(token), new StreamObserver<>() {
                            @Override
                            public void onNext(SyncConfigurationResponse value) {
                            }

                            @Override
                            public void onError(Throwable t) {
                                outcome.complete(Status.fromThrowable(t));
                            }

                            @Override
                            public void onCompleted() {
                                outcome.complete(Status.OK);
                            }
                        });
                stalled.add(outcome);
            }
            SyncConfigurationResponse reconnect = returning.node().syncConfiguration(SyncConfigurationRequest.getDefaultInstance());
            assertEquals(returning.getNodeId(), reconnect.getNodeId());
            assertTrue("the reconnect finished while every stalled handshake was still pending",
                    stalled.stream().noneMatch(CompletableFuture::isDone));

            List<Long> arrivals = new ArrayList<>();
            for (CompletableFuture<Status> outcome : stalled) {
                Status status = outcome.get(30, TimeUnit.SECONDS);
                assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getCode());
                assertTrue(status.getDescription(), status.getDescription().contains("database"));
            }
            long stallMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stallStart);
            for (HubMessage message : stream.received) {
                if (message.hasHeartbeat()) {
                    arrivals.add(message.getHeartbeat().getSentAtMs());
                }
            }
            assertFalse("the steady node's session survived", stream.ended.isDone());
            long maxGap = 0;
            for (int i = 1; i < arrivals.size(); i++) {
                maxGap = Math.max(maxGap, arrivals.get(i) - arrivals.get(i - 1));
            }
            assertTrue("hub heartbeats kept flowing during a " + stallMillis + " ms stall: " + arrivals.size()
                    + " heartbeats, largest gap " + maxGap + " ms", arrivals.size() >= 3 && maxGap < stallMillis / 2);
        } finally {
            heartbeats.shutdownNow();
            release.countDown();
            stalling.unregister();
            stalledDatabase.shutdown();
        }
        // Nothing was spent by the abandoned handshakes: a stalled token still enrolls.
        SyncConfigurationResponse late = hub.node().syncConfiguration(token(tokens.get(0)).toBuilder().setNodeName("late").build());
        assertEquals("its certificate, then the CA", 2, late.getCertificateChainCount());
    }

    /** An enrollment store whose enrollments wait for a latch, as a stalled database would. */
    private static final class StallingStore implements EnrollmentStore {
        private final EnrollmentStore real;
        private final CountDownLatch release;
        private final ExecutorService database;

        StallingStore(EnrollmentStore real, CountDownLatch release, ExecutorService database) {
            this.real = real;
            this.release = release;
            this.database = database;
        }

        @Override
        public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
            return real.createInvite(ttl, note);
        }

        @Override
        public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address, java.time.Instant deadline) {
            return CompletableFuture.runAsync(() -> {
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, database).thenCompose(ignored -> real.enroll(inviteToken, requestedName, address, deadline));
        }

        @Override
        public Optional<EnrolledNode> authenticate(String credential) {
            return real.authenticate(credential);
        }

        @Override
        public List<EnrolledNode> nodes() {
            return real.nodes();
        }

        @Override
        public Optional<EnrolledNode> find(String idOrName) {
            return real.find(idOrName);
        }

        @Override
        public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
            return real.revokeNode(idOrName);
        }

        @Override
        public CompletionStage<Void> retireCredential(String nodeId) {
            return real.retireCredential(nodeId);
        }
    }
}
