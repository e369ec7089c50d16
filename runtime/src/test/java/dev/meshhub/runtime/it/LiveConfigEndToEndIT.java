package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.NodeStatus;

/**
 * An admin edits etc/dev.meshhub.transport.cfg of a running hub with a real node agent connected:
 * the hub logs the new heartbeat, the agent adopts it on its open session, and the session is never
 * closed; a bad value is refused with its key named and changes nothing.
 */
public class LiveConfigEndToEndIT {

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    private NodeStatus node(String name) throws Exception {
        return runtime.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    public void editingTheHeartbeatWithANodeConnectedNeverClosesItsSession() throws Exception {
        Process agent = runtime.enrolledNode("live-1");
        long connectedSince = node("live-1").getConnectedSinceMs();
        Path cfg = runtime.home.resolve("etc/dev.meshhub.transport.cfg");
        String original = Files.readString(cfg);

        HubTestSupport.writeConfig(cfg, original.replace("heartbeatIntervalMs = 5000", "heartbeatIntervalMs = 1000")
                .replace("heartbeatTimeoutMs = 15000", "heartbeatTimeoutMs = 4000"));
        Poll.until("the hub logs the new heartbeat", RuntimeUnderTest.PATIENCE, () -> logged("hub.log",
                "heartbeats now every 1000 ms, timeout 4000 ms (was 5000 ms / 15000 ms); 1 connected node(s) told, none disconnected"));
        Poll.until("the agent adopts it on its open session", RuntimeUnderTest.PATIENCE, () -> logged("live-1-workspace.log",
                "the hub changed its settings: heartbeat every 1.0 s (was 5.0 s), silence limit 4.0 s (was 15.0 s)"));

        // A bad value is refused whole, naming the key; the running settings stay.
        HubTestSupport.writeConfig(cfg, original.replace("heartbeatIntervalMs = 5000", "heartbeatIntervalMs = 10"));
        Poll.until("the refusal names the key", RuntimeUnderTest.PATIENCE, () -> logged("hub.log",
                "configuration dev.meshhub.transport refused, the transport keeps its settings: heartbeatIntervalMs = 10 is below its minimum 50"));

        // Through all of it: the same session, never closed on either side, and work still flows.
        assertTrue("the agent runs on", agent.isAlive());
        assertEquals("the same session", connectedSince, node("live-1").getConnectedSinceMs());
        assertFalse(runtime.log("hub.log"), runtime.log("hub.log").contains("(live-1) left"));
        assertFalse(runtime.log("live-1-workspace.log"), runtime.log("live-1-workspace.log").contains("disconnected"));
        RuntimeUnderTest.Result exec = runtime.meshctl("exec", "live-1", "--", "echo", "still-here");
        exec.assertExit(0);
        assertTrue(exec.stdout(), exec.stdout().contains("still-here"));
    }

    private boolean logged(String log, String text) {
        try {
            return runtime.log(log).contains(text);
        } catch (java.io.IOException notYet) {
            return false;
        }
    }
}
