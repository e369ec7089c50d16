package dev.meshhub.transport.impl.rpc;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import org.junit.After;
import org.junit.Test;

import com.google.common.util.concurrent.MoreExecutors;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import dev.meshhub.testing.MutableClock;
import dev.meshhub.testing.RecordingStreamObserver;
import dev.meshhub.transport.impl.FakeEnrollmentStore;
import dev.meshhub.transport.impl.FakeTaskJournal;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.session.NodeSessions;
import dev.meshhub.transport.impl.sync.FileSyncService;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * The node-facing service as a node meets it: the handshake (enroll, reconnect, refusals and their
 * order) and the TaskStream protocol, answered from memory with the call context the interceptor
 * sets up.
 */
public class NodeServiceImplTest {

    private static final String PEER = "10.0.0.9:5000";
    private static final String HOST = "10.0.0.9";

    private final MutableClock clock = new MutableClock();
    private final List<String> events = new ArrayList<>();
    private final NodeSessions sessions = new NodeSessions(clock, Duration.ofSeconds(5), Duration.ofSeconds(15),
            (topic, properties) -> events.add(topic));
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final FakeEnrollmentStore store = new FakeEnrollmentStore();
    private final Dispatcher dispatcher = new Dispatcher(sessions, timers, new dev.meshhub.transport.impl.dispatch.TaskLimits(Duration.ofMinutes(1), Duration.ofSeconds(1), 8));
    private final FileSyncService sync = new FileSyncService(sessions, dispatcher, MoreExecutors.newDirectExecutorService(), timers,
            new FileSyncService.SyncLimits(Duration.ofMinutes(5), Duration.ofSeconds(30), 4));
    private final EnrollmentRateLimiter limiter = new EnrollmentRateLimiter(clock, 3);
    private volatile FakeEnrollmentStore bound = store;
    private final NodeServiceImpl service = new NodeServiceImpl(() -> bound, sessions, dispatcher, sync, limiter, clock,
            () -> Duration.ofMillis(200));

    {
        dispatcher.bindEnrollmentStore(store);
        dispatcher.bindTaskJournal(new FakeTaskJournal());
        dispatcher.bindSandboxPolicy((id, name) -> new NodePolicy(id, SandboxMode.STRICT, List.of("echo"), 1, "test"));
    }

    @After
    public void stopTimers() {
        timers.shutdownNow();
    }

    /** A handshake over a plaintext port, where a bearer credential is the node's identity. */
    private RecordingStreamObserver<SyncConfigurationResponse> handshake(SyncConfigurationRequest request, String headerCredential) {
        return handshake(request, headerCredential, false);
    }

    private RecordingStreamObserver<SyncConfigurationResponse> handshake(SyncConfigurationRequest request, String headerCredential,
            boolean tls) {
        RecordingStreamObserver<SyncConfigurationResponse> out = new RecordingStreamObserver<>();
        Context.current()
                .withValue(NodeAuthInterceptor.TLS, tls)
                .withValue(NodeAuthInterceptor.PEER, PEER)
                .withValue(NodeAuthInterceptor.PEER_HOST, HOST)
                .withValue(NodeAuthInterceptor.HEADER_CREDENTIAL, headerCredential)
                .run(() -> service.syncConfiguration(request, out));
        return out;
    }

    private static SyncConfigurationRequest token(String token) {
        return SyncConfigurationRequest.newBuilder().setInviteToken(token).setNodeName("new-node").build();
    }

    private StreamObserver<NodeMessage> taskStream(String nodeId, RecordingStreamObserver<HubMessage> out) {
        EnrolledNode node = store.find(nodeId).orElseThrow();
        Context context = Context.current().withValue(NodeAuthInterceptor.NODE, node).withValue(NodeAuthInterceptor.PEER, PEER);
        Context previous = context.attach();
        try {
            return service.taskStream(out);
        } finally {
            context.detach(previous);
        }
    }

    private static NodeMessage hello() {
        return NodeMessage.newBuilder().setHello(Hello.getDefaultInstance()).build();
    }

    @Test
    public void anInviteEnrollsTheNodeWithItsCredentialSettingsAndPolicy() {
        RecordingStreamObserver<SyncConfigurationResponse> out = handshake(token("good"), null);
        assertTrue(out.completed);
        SyncConfigurationResponse response = out.sent.get(0);
        assertEquals("n-3", response.getNodeId());
        assertEquals("cred-n-3", response.getNodeCredential());
        assertEquals(5000, response.getSettings().getHeartbeatIntervalMs());
        assertEquals(15000, response.getSettings().getHeartbeatTimeoutMs());
        assertEquals("STRICT", response.getPolicy().getMode().name());
        assertEquals(List.of("echo"), response.getPolicy().getAllowedExecutablesList());
    }

    @Test
    public void aCredentialReconnectsFromTheFieldOrTheHeaderWithoutTheDatabase() {
        SyncConfigurationResponse field = handshake(SyncConfigurationRequest.newBuilder().setNodeCredential("cred-n-1").build(), null)
                .sent.get(0);
        assertEquals("n-1", field.getNodeId());
        assertEquals("no credential is handed out again", "", field.getNodeCredential());
        SyncConfigurationResponse header = handshake(SyncConfigurationRequest.getDefaultInstance(), "cred-n-2").sent.get(0);
        assertEquals("n-2", header.getNodeId());
        assertEquals(0, store.enrollCalls.get());
    }

    @Test
    public void overTlsAnEnrollmentWithoutACsrIsRefusedBeforeTheTokenIsSpent() {
        Status refused = handshake(token("good"), null, true).closedWith;
        assertEquals(Status.Code.INVALID_ARGUMENT, refused.getCode());
        assertTrue(refused.getDescription(), refused.getDescription().contains("enrollment needs a csr"));
        assertTrue(refused.getDescription(), refused.getDescription().contains("the token was not spent"));
        assertEquals("the store was never asked", 0, store.enrollCalls.get());
    }

    @Test
    public void overTlsABearerCredentialOnlyTradesForACertificateAndNeverAuthenticatesAlone() {
        for (RecordingStreamObserver<SyncConfigurationResponse> out : List.of(
                handshake(SyncConfigurationRequest.newBuilder().setNodeCredential("cred-n-1").build(), null, true),
                handshake(SyncConfigurationRequest.getDefaultInstance(), "cred-n-1", true))) {
            assertEquals(Status.Code.INVALID_ARGUMENT, out.closedWith.getCode());
            assertTrue(out.closedWith.getDescription(), out.closedWith.getDescription().contains("bearer credentials are retired"));
            assertTrue(out.closedWith.getDescription(), out.closedWith.getDescription().contains("node_credential, csr"));
        }
        assertTrue("nothing was retired", store.retired.isEmpty());
    }

    @Test
    public void repeatedFailuresFromOneAddressAreRefusedBeforeTheStoreIsAsked() {
        for (int i = 0; i < 3; i++) {
            Status refused = handshake(token("wrong-" + i), null).closedWith;
            assertEquals(Status.Code.UNAUTHENTICATED, refused.getCode());
        }
        Status limited = handshake(token("good"), null).closedWith;
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, limited.getCode());
        assertTrue(limited.getDescription(), limited.getDescription().contains("too many failed enrollment attempts from " + HOST));
        assertEquals("the valid token was never tried", 3, store.enrollCalls.get());
        clock.advance(EnrollmentRateLimiter.WINDOW);
        assertTrue("a new window lets it in", handshake(token("good"), null).completed);
    }

    @Test
    public void aStoreThatDoesNotAnswerEndsTheHandshakeAtItsDeadlineSayingSo() throws Exception {
        store.enrollments = token -> new CompletableFuture<>();
        RecordingStreamObserver<SyncConfigurationResponse> out = handshake(token("good"), null);
        Status ended = out.ended.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(Status.Code.DEADLINE_EXCEEDED, ended.getCode());
        assertTrue(out.closedWith.getDescription(), out.closedWith.getDescription().contains("did not finish within 200 ms"));
    }

    @Test
    public void anEnrollmentWithACsrIsAnsweredAtItsDeadlineWhileTheDatabaseIsStillStalled() throws Exception {
        // The store is stuck (say, on a table lock) and would be waited for an hour past the deadline were the
        // node enrolling without a CSR; with one, its retry with the same CSR is safe, so the hub answers at the deadline.
        CompletableFuture<dev.meshhub.api.enrollment.Enrollment> stalled = new CompletableFuture<>();
        store.enrollments = token -> stalled;
        dev.meshhub.api.pki.HubPki acceptsEveryCsr = (dev.meshhub.api.pki.HubPki) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {dev.meshhub.api.pki.HubPki.class}, (proxy, method, args) -> null);
        Handshake handshake = new Handshake(() -> store, new NodeCertificateIssuer(() -> acceptsEveryCsr), sessions, dispatcher, limiter,
                clock, () -> Duration.ofMillis(200), Duration.ofHours(1));
        RecordingStreamObserver<SyncConfigurationResponse> out = new RecordingStreamObserver<>();
        Context.current().withValue(NodeAuthInterceptor.TLS, true).withValue(NodeAuthInterceptor.PEER, PEER)
                .withValue(NodeAuthInterceptor.PEER_HOST, HOST)
                .run(() -> handshake.answer(token("good").toBuilder().setCsr(com.google.protobuf.ByteString.copyFromUtf8("csr")).build(), out));

        Status ended = out.ended.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(Status.Code.DEADLINE_EXCEEDED, ended.getCode());
        assertTrue(ended.getDescription(), ended.getDescription().contains("did not finish within 200 ms (handshakeTimeoutMs)"));
        assertTrue(ended.getDescription(), ended.getDescription().contains("retry later with the same key and CSR"));
        assertFalse("answered while the store still works", stalled.isDone());
        assertEquals("a stall is no failed attempt", java.time.Duration.ZERO, limiter.retryAfter(HOST));
    }

    @Test
    public void withoutAStoreOrACredentialTheNodeIsToldWhatToDo() {
        assertEquals(Status.Code.INVALID_ARGUMENT, handshake(SyncConfigurationRequest.getDefaultInstance(), null).closedWith.getCode());
        Status wrong = handshake(SyncConfigurationRequest.newBuilder().setNodeCredential("cred-n-99").build(), null).closedWith;
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getCode());
        assertTrue(wrong.getDescription(), wrong.getDescription().contains("enroll again with a new invite token"));
        bound = null;
        Status down = handshake(token("good"), null).closedWith;
        assertEquals(Status.Code.UNAVAILABLE, down.getCode());
        assertTrue(down.getDescription(), down.getDescription().contains("enrollment store is not available"));
    }

    @Test
    public void aSessionIsListedOnlyAfterItsHelloAndItsPolicyFollows() {
        RecordingStreamObserver<HubMessage> out = new RecordingStreamObserver<>();
        StreamObserver<NodeMessage> in = taskStream("n-1", out);
        assertTrue(sessions.connected().isEmpty());
        in.onNext(hello());
        assertEquals("n-1", sessions.connected().get(0).nodeId());
        assertTrue("the node's policy is sent once it is listed", out.sent.stream().anyMatch(HubMessage::hasPolicyUpdate));
        in.onNext(NodeMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build());
        in.onNext(NodeMessage.getDefaultInstance());
        assertNull("an unknown payload from a newer node is ignored", out.closedWith);
        out.onCancel.run();
        assertTrue(sessions.connected().isEmpty());
        assertTrue(events.toString(), events.contains("dev/meshhub/node/DISCONNECTED"));
    }

    @Test
    public void anythingBeforeHelloClosesTheStreamNamingTheRule() {
        RecordingStreamObserver<HubMessage> out = new RecordingStreamObserver<>();
        taskStream("n-1", out).onNext(NodeMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, out.closedWith.getCode());
        assertEquals("the first message on TaskStream must be a Hello, got a Heartbeat", out.closedWith.getDescription());
        assertTrue(sessions.connected().isEmpty());
    }

    @Test
    public void aListenerThatMovesClosesExactlyTheStreamsItOpenedTellingEachNodeWhy() {
        RecordingStreamObserver<HubMessage> mine = new RecordingStreamObserver<>();
        taskStream("n-1", mine).onNext(hello());
        NodeServiceImpl other = new NodeServiceImpl(() -> store, sessions, dispatcher, sync, limiter, clock, () -> Duration.ofSeconds(1));
        RecordingStreamObserver<HubMessage> theirs = new RecordingStreamObserver<>();
        Context.current().withValue(NodeAuthInterceptor.NODE, store.find("n-2").orElseThrow()).withValue(NodeAuthInterceptor.PEER, PEER)
                .run(() -> other.taskStream(theirs).onNext(hello()));

        assertEquals(1, service.closeAll(SessionClosing.Reason.HUB_STOPPING, "the hub's node port moved to 0.0.0.0:7800; reconnect"));

        HubMessage closing = mine.sent.stream().filter(HubMessage::hasClosing).findFirst().orElseThrow();
        assertEquals(SessionClosing.Reason.HUB_STOPPING, closing.getClosing().getReason());
        assertTrue(closing.getClosing().getDetail().contains("moved to 0.0.0.0:7800"));
        assertEquals(Status.Code.UNAVAILABLE, mine.closedWith.getCode());
        assertNull("the other listener's node is untouched", theirs.closedWith);
        assertEquals(List.of("n-2"), sessions.connected().stream().map(s -> s.nodeId()).toList());
        assertFalse(sessions.session("n-1").isPresent());
        assertNotNull(sessions.session("n-2").orElse(null));
    }
}
