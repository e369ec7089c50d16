package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SessionClosing;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;

/**
 * Editing etc/dev.meshhub.transport.cfg while nodes are connected: live settings reach the node on its
 * open stream, connection settings take a new listener without dropping anyone, a bad value is
 * refused whole, and a new port moves the listener with the nodes told why.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TransportConfigIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private static final String[] COMPONENTS = {"NodeServer", "session.NodeSessions", "dispatch.Dispatcher", "sync.FileSyncService"};

    private Path cfg;
    private String original;
    private final Map<String, String> originalValues = new TreeMap<>();
    private final Map<String, String> changed = new TreeMap<>();

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("TransportConfigIT", Map.of(), "meshhub");
    }

    @Before
    public void rememberTheConfiguration() throws Exception {
        cfg = hub.home.resolve("etc/dev.meshhub.transport.cfg");
        original = Files.readString(cfg);
        for (String line : original.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                originalValues.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
    }

    /** Defaults of the keys the tests change that the test hub's file leaves out (TransportConfig's). */
    private static final Map<String, String> DEFAULTS = Map.of("maxConcurrentCallsPerConnection", "16",
            "keepAliveTimeSeconds", "30", "maxUploads", "64");

    /**
     * Puts the settings back (keys the file left out written with their defaults, which SCR then shows)
     * and waits until every component was handed them and the node port serves again.
     */
    @After
    public void restoreTheConfiguration() throws Exception {
        Map<String, String> restored = new TreeMap<>(originalValues);
        changed.keySet().forEach(key -> restored.putIfAbsent(key, DEFAULTS.get(key)));
        write(restored);
        for (String key : changed.keySet()) {
            awaitHanded(key, restored.get(key));
        }
        Poll.until("the node port serves again", PATIENCE, () -> {
            try {
                hub.enroll("probe-" + System.nanoTime());
                return true;
            } catch (Exception notYet) {
                return false;
            }
        });
    }

    private void awaitHanded(String key, String value) {
        for (String component : COMPONENTS) {
            Poll.until(component + " handed " + key + " = " + value, PATIENCE, () -> String.valueOf(value).equals(String.valueOf(
                    HubTestSupport.componentProperty(context, "dev.meshhub.transport.impl." + component, key))));
        }
    }

    /** Writes the original settings with these keys changed, and waits until the transport was handed them. */
    private void edit(Map<String, String> changes) throws Exception {
        Map<String, String> values = new TreeMap<>(originalValues);
        values.putAll(changes);
        changed.putAll(changes);
        write(values);
        changes.forEach(this::awaitHanded);
    }

    private void write(Map<String, String> values) throws Exception {
        StringBuilder text = new StringBuilder();
        values.forEach((key, value) -> text.append(key).append(" = ").append(value).append('\n'));
        HubTestSupport.writeConfig(cfg, text);
    }

    private TestStream connectedNode(String name) throws Exception {
        TestNode enrolled = hub.enroll(name);
        TestStream stream = enrolled.stream().hello().keepAlive();
        Poll.until(name + " listed", PATIENCE, () -> directory.session(enrolled.getNodeId()).isPresent());
        return stream;
    }

    private static HubMessage next(TestStream stream, java.util.function.Predicate<HubMessage> wanted, String what) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            HubMessage message = stream.next(1);
            if (message != null && wanted.test(message)) {
                return message;
            }
        }
        throw new AssertionError("the node was not sent " + what);
    }

    @Test
    public void aHeartbeatChangeReachesTheConnectedNodeOnItsOpenStream() throws Exception {
        TestStream node = connectedNode("live-heartbeat");
        String nodeId = directory.connected().stream().filter(s -> s.name().equals("live-heartbeat")).findFirst().orElseThrow().nodeId();
        var since = directory.session(nodeId).orElseThrow().connectedSince();

        edit(Map.of("heartbeatIntervalMs", "300", "heartbeatTimeoutMs", "3000"));

        HubMessage update = next(node, HubMessage::hasSettingsUpdate, "a settings update");
        assertEquals(300, update.getSettingsUpdate().getHeartbeatIntervalMs());
        assertEquals(3000, update.getSettingsUpdate().getHeartbeatTimeoutMs());
        assertEquals("new handshakes get the new settings", 300, hub.enroll("after-change").getSettings().getHeartbeatIntervalMs());
        assertFalse("the stream was never closed", node.ended.isDone());
        assertEquals("the same session", since, directory.session(nodeId).orElseThrow().connectedSince());
        node.close();
    }

    @Test
    public void aBadValueIsRefusedWholeAndTheRunningSettingsStay() throws Exception {
        TestStream node = connectedNode("bad-value");
        edit(Map.of("heartbeatIntervalMs", "10", "maxUploads", "9"));
        assertEquals("the refused configuration changed nothing: handshakes still get the old interval",
                HubTestSupport.HEARTBEAT_INTERVAL_MS, hub.enroll("after-bad").getSettings().getHeartbeatIntervalMs());
        edit(Map.of("heartbeatIntervalMs", "not-a-number"));
        assertEquals(HubTestSupport.HEARTBEAT_INTERVAL_MS, hub.enroll("after-nan").getSettings().getHeartbeatIntervalMs());
        for (HubMessage message : node.received) {
            assertFalse("nothing was pushed: " + message, message.hasSettingsUpdate());
        }
        assertFalse(node.ended.isDone());
        node.close();
    }

    @Test
    public void connectionSettingsTakeANewListenerWithoutDroppingAnyone() throws Exception {
        TestStream node = connectedNode("reshaped");
        edit(Map.of("maxConcurrentCallsPerConnection", "32", "keepAliveTimeSeconds", "45"));
        // A new connection is served by the new listener; the old one keeps its stream.
        Poll.until("a new connection is served", PATIENCE, () -> {
            try {
                hub.enroll("new-connection-" + System.nanoTime());
                return true;
            } catch (Exception notYet) {
                return false;
            }
        });
        node.heartbeat();
        assertFalse("the connected node was not dropped", node.ended.isDone());
        assertTrue(directory.connected().stream().anyMatch(s -> s.name().equals("reshaped")));
        node.close();
    }

    @Test
    public void aNewPortMovesTheListenerAndTheNodesAreToldWhereItWent() throws Exception {
        TestStream node = connectedNode("mover");
        int moved = HubTestSupport.freePort();
        edit(Map.of("port", String.valueOf(moved)));

        HubMessage closing = next(node, HubMessage::hasClosing, "SessionClosing");
        assertEquals(SessionClosing.Reason.HUB_STOPPING, closing.getClosing().getReason());
        assertTrue(closing.getClosing().getDetail(), closing.getClosing().getDetail().contains("moved to 127.0.0.1:" + moved));
        assertEquals(Status.Code.UNAVAILABLE, node.awaitEnd(10).getCode());
        Poll.until("the old port closed", PATIENCE, () -> !HubClient.listens(hub.nodePort));

        ManagedChannel channel = HubClient.nodeChannel(hub.home, moved, null);
        try {
            TestNode enrolled = TestNode.enroll(hub, moved,
                    SyncConfigurationRequest.newBuilder().setInviteToken(hub.invite()).setNodeName("on-the-new-port").build(), null);
            TestStream again = enrolled.stream().hello();
            Poll.until("a node connects on the new port", PATIENCE, () -> directory.connected().stream()
                    .anyMatch(s -> s.name().equals("on-the-new-port")));
            again.close();
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
