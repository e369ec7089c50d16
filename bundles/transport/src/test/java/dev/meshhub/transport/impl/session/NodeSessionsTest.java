package dev.meshhub.transport.impl.session;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeEvents;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.SessionClosing;
import io.grpc.Status;
import dev.meshhub.testing.RecordingStreamObserver;
import dev.meshhub.testing.MutableClock;

public class NodeSessionsTest {

    private final MutableClock clock = new MutableClock();
    private final List<String> topics = new ArrayList<>();
    private final List<Map<String, Object>> events = new ArrayList<>();
    private final NodeSessions sessions = new NodeSessions(clock, Duration.ofSeconds(5), Duration.ofSeconds(15), (topic, props) -> {
        topics.add(topic);
        events.add(props);
    });

    private NodeSessionHandle open(String nodeId, RecordingStreamObserver<HubMessage> stream) {
        NodeSessionHandle session = new NodeSessionHandle(nodeId, "name-" + nodeId, "10.0.0.1:4000", stream, clock);
        sessions.opened(session);
        return session;
    }

    @Test
    public void aSessionIsListedAfterHelloAndGoneWhenItsStreamEnds() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = open("n-1", stream);
        assertTrue("not listed before Hello", sessions.connected().isEmpty());

        sessions.register(session);
        assertEquals(1, sessions.connected().size());
        assertEquals("n-1", sessions.connected().get(0).nodeId());

        sessions.streamEnded(session, "the node closed its stream");
        assertTrue(sessions.connected().isEmpty());
        assertEquals(List.of(NodeEvents.TOPIC_CONNECTED, NodeEvents.TOPIC_DISCONNECTED), topics);
        assertEquals("the node closed its stream", events.get(1).get(NodeEvents.CAUSE));
        assertNotNull(events.get(1).get(NodeEvents.LAST_HEARTBEAT_MS));
    }

    private NodeSessionHandle openFrom(String nodeId, String address, RecordingStreamObserver<HubMessage> stream) {
        NodeSessionHandle session = new NodeSessionHandle(nodeId, "name-" + nodeId, address, stream, clock);
        sessions.opened(session);
        return session;
    }

    @Test
    public void whileTheRegisteredSessionIsAliveASecondOneIsRefusedAndRecorded() {
        RecordingStreamObserver<HubMessage> first = new RecordingStreamObserver<>();
        RecordingStreamObserver<HubMessage> second = new RecordingStreamObserver<>();
        NodeSessionHandle real = openFrom("n-1", "10.0.0.1:4000", first);
        sessions.register(real);
        clock.advance(Duration.ofSeconds(5)); // one interval: still alive (interval + 1 s of slack)
        NodeSessionHandle thief = openFrom("n-1", "192.0.2.9:5000", second);
        sessions.register(thief);

        assertEquals(Status.Code.ALREADY_EXISTS, second.closedWith.getCode());
        assertTrue(second.closedWith.getDescription(), second.closedWith.getDescription().contains("10.0.0.1:4000")
                && second.closedWith.getDescription().contains("revoke"));
        assertEquals(SessionClosing.Reason.ALREADY_CONNECTED, second.sent.get(second.sent.size() - 1).getClosing().getReason());
        assertNull("the live session is untouched", first.closedWith);
        assertEquals(1, sessions.connected().size());
        assertEquals(real.connectedSince(), sessions.connected().get(0).connectedSince());
        assertEquals(1, sessions.connected().get(0).takeovers());
        assertEquals("192.0.2.9:5000", sessions.connected().get(0).lastTakeoverAddress());
        assertEquals(1, sessions.linkStats().takeoversRefused());

        int takeover = topics.indexOf(NodeEvents.TOPIC_TAKEOVER);
        assertTrue(topics.toString(), takeover >= 0);
        Map<String, Object> event = events.get(takeover);
        assertEquals("refused", event.get(NodeEvents.OUTCOME));
        assertEquals("192.0.2.9:5000", event.get(NodeEvents.ADDRESS));
        assertEquals("10.0.0.1:4000", event.get(NodeEvents.PREVIOUS_ADDRESS));
        assertEquals(thief.sessionId(), event.get(NodeEvents.SESSION_ID));
        assertEquals(real.sessionId(), event.get(NodeEvents.PREVIOUS_SESSION_ID));
        assertFalse("a refused newcomer never 'disconnects'", topics.contains(NodeEvents.TOPIC_DISCONNECTED));
    }

    @Test
    public void aSessionGoneSilentIsReplacedByTheNewcomerAndTheOldEndIsHarmless() {
        RecordingStreamObserver<HubMessage> first = new RecordingStreamObserver<>();
        RecordingStreamObserver<HubMessage> second = new RecordingStreamObserver<>();
        NodeSessionHandle older = openFrom("n-1", "10.0.0.1:4000", first);
        sessions.register(older);
        clock.advance(Duration.ofSeconds(6).plusMillis(1)); // silent past interval + 1 s
        NodeSessionHandle newer = openFrom("n-1", "10.0.0.1:4001", second);
        sessions.register(newer);

        assertEquals(1, sessions.connected().size());
        assertEquals(Status.Code.ABORTED, first.closedWith.getCode());
        assertEquals(SessionClosing.Reason.REPLACED, first.sent.get(first.sent.size() - 1).getClosing().getReason());
        assertEquals(null, second.closedWith);
        assertEquals(1, sessions.linkStats().takeoversReplaced());
        assertEquals("replaced", events.get(topics.indexOf(NodeEvents.TOPIC_TAKEOVER)).get(NodeEvents.OUTCOME));

        // The older stream's own end, arriving late, must not remove the newer session.
        sessions.streamEnded(older, "late cancel");
        assertEquals(1, sessions.connected().size());
        assertEquals(newer.snapshot().connectedSince(), sessions.session("n-1").get().connectedSince());
    }

    @Test
    public void aSessionOutlivingItsCertificateIsClosedUnlessTheNodeRenewedIt() {
        RecordingStreamObserver<HubMessage> renewing = new RecordingStreamObserver<>();
        RecordingStreamObserver<HubMessage> lapsing = new RecordingStreamObserver<>();
        dev.meshhub.transport.impl.TestCas ca = new dev.meshhub.transport.impl.TestCas("test CA");
        NodeSessionHandle renewed = open("n-1", renewing);
        renewed.certificate(ca.issue("n-1", clock.instant().plusSeconds(3)));
        sessions.register(renewed);
        NodeSessionHandle lapsed = open("n-2", lapsing);
        lapsed.certificate(ca.issue("n-2", clock.instant().plusSeconds(3)));
        sessions.register(lapsed);

        sessions.certificateRenewed("n-1", ca.issue("n-1", clock.instant().plusSeconds(60)));
        clock.advance(Duration.ofSeconds(3));
        renewed.heard();
        lapsed.heard();
        sessions.sweep();

        assertNull("renewed in time: its stream carries on", renewing.closedWith);
        assertEquals(Status.Code.UNAUTHENTICATED, lapsing.closedWith.getCode());
        assertTrue(lapsing.closedWith.getDescription(), lapsing.closedWith.getDescription().contains("expired at"));
        assertEquals(SessionClosing.Reason.CERTIFICATE_EXPIRED, lapsing.sent.get(lapsing.sent.size() - 1).getClosing().getReason());
        assertEquals(List.of("n-1"), sessions.connected().stream().map(s -> s.nodeId()).toList());
    }

    @Test
    public void heartbeatsAreSentWhenDueAndSilentNodesAreClosed() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = open("n-1", stream);
        sessions.register(session);

        clock.advance(Duration.ofSeconds(5));
        sessions.sweep();
        assertEquals(1, stream.sent.stream().filter(HubMessage::hasHeartbeat).count());
        sessions.sweep();
        assertEquals("not due again yet", 1, stream.sent.stream().filter(HubMessage::hasHeartbeat).count());

        clock.advance(Duration.ofSeconds(11));
        sessions.sweep();
        assertTrue(sessions.connected().isEmpty());
        assertEquals(Status.Code.UNAVAILABLE, stream.closedWith.getCode());
        assertTrue(stream.closedWith.getDescription(), stream.closedWith.getDescription().contains("no heartbeat from node n-1"));
        assertTrue(stream.closedWith.getDescription(), stream.closedWith.getDescription().contains("last heard"));
    }

    @Test
    public void aHeartbeatChangeReachesEveryNodeAtOnceAndTheOldTimeoutHoldsMeanwhile() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = open("n-1", stream);
        sessions.register(session);

        sessions.changeTiming(1000, 3000, 4 * 1024 * 1024);

        HubMessage update = stream.sent.get(stream.sent.size() - 1);
        assertTrue("the node is told: " + update, update.hasSettingsUpdate());
        assertEquals(1000, update.getSettingsUpdate().getHeartbeatIntervalMs());
        assertEquals(3000, update.getSettingsUpdate().getHeartbeatTimeoutMs());
        assertEquals("new handshakes get the new settings", 1000, sessions.nodeSettings().getHeartbeatIntervalMs());
        assertNull("the session is not touched", stream.closedWith);

        // Silent for 10 s: past the new timeout, but the node may not have read the change yet, and the
        // old timeout (15 s) is honoured for one old timeout after the change.
        clock.advance(Duration.ofSeconds(10));
        sessions.sweep();
        assertEquals(1, sessions.connected().size());
        assertTrue("the hub's own heartbeats follow the new interval",
                stream.sent.stream().filter(HubMessage::hasHeartbeat).count() >= 1);

        clock.advance(Duration.ofSeconds(6));
        sessions.sweep();
        assertTrue("past the grace the new timeout applies", sessions.connected().isEmpty());
        assertTrue(stream.closedWith.getDescription(), stream.closedWith.getDescription().contains("for 3000 ms"));
    }

    @Test
    public void settingsThatChangeNothingAreNotSent() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        sessions.register(open("n-1", stream));
        int before = stream.sent.size();
        sessions.changeTiming(5000, 15000, 4 * 1024 * 1024);
        assertEquals(before, stream.sent.size());
    }

    @Test
    public void aNodeHeardFromStaysConnected() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = open("n-1", stream);
        sessions.register(session);
        for (int i = 0; i < 10; i++) {
            clock.advance(Duration.ofSeconds(5));
            session.heard();
            sessions.sweep();
        }
        assertEquals(1, sessions.connected().size());
    }

    @Test
    public void aNodeThatDoesNotReadGetsNoHeartbeatsQueued() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = open("n-1", stream);
        sessions.register(session);
        stream.ready = false;
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(5));
            session.heard();
            sessions.sweep();
        }
        assertTrue(stream.sent.isEmpty());
    }

    @Test
    public void aStreamThatNeverSaysHelloIsClosed() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        open("n-1", stream);
        clock.advance(Duration.ofSeconds(16));
        sessions.sweep();
        assertEquals(Status.Code.INVALID_ARGUMENT, stream.closedWith.getCode());
        assertTrue("never listed, so no events", topics.isEmpty());
    }

    @Test
    public void revokingClosesTheSessionAndTellsTheNodeNotToReturn() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        sessions.register(open("n-1", stream));

        assertTrue(sessions.disconnect("n-1", DisconnectCause.REVOKED, "revoked by an admin"));
        assertFalse("second time: nothing to close", sessions.disconnect("n-1", DisconnectCause.REVOKED, "again"));
        assertEquals(Status.Code.UNAUTHENTICATED, stream.closedWith.getCode());
        assertEquals(SessionClosing.Reason.REVOKED, stream.sent.get(0).getClosing().getReason());
        assertTrue(sessions.connected().isEmpty());
    }

    @Test
    public void closeAllEndsEverySessionOnce() {
        RecordingStreamObserver<HubMessage> a = new RecordingStreamObserver<>();
        RecordingStreamObserver<HubMessage> b = new RecordingStreamObserver<>();
        sessions.register(open("n-a", a));
        sessions.register(open("n-b", b));
        sessions.closeAll("hub is stopping");
        sessions.closeAll("hub is stopping");
        assertEquals(Status.Code.UNAVAILABLE, a.closedWith.getCode());
        assertEquals(Status.Code.UNAVAILABLE, b.closedWith.getCode());
        assertEquals(0, sessions.size());
        assertEquals(2, topics.stream().filter(NodeEvents.TOPIC_DISCONNECTED::equals).count());
    }
}
