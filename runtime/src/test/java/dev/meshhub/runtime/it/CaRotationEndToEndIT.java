package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.HubTrust;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.NodeStatus;

/**
 * {@code meshctl ca rotate --wait} with real meshnode processes connected: each agent renews when the
 * hub asks, over its open stream (its session is never replaced), keeps the new CA, runs tasks
 * throughout, and after the old CA is retired starts again from its workspace with no pin.
 */
public class CaRotationEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    private NodeStatus status(String name) throws Exception {
        return runtime.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(node -> node.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    public void realNodesRotateOntoTheNewCaWithoutReconnecting() throws Exception {
        String oldPin = runtime.caPin();
        Process first = runtime.enrolledNode("rot-one");
        Process second = runtime.enrolledNode("rot-two");
        long firstSince = status("rot-one").getConnectedSinceMs();
        long secondSince = status("rot-two").getConnectedSinceMs();

        RuntimeUnderTest.Result rotated = runtime.meshctl("ca", "rotate", "--wait", "120");
        rotated.assertExit(0);
        assertTrue(rotated.stdout(), rotated.stdout().contains("old CA retired after"));
        String newPin = runtime.meshctl("ca", "pin").assertExit(0).stdout().strip();
        assertNotEquals(oldPin, newPin);
        assertTrue(rotated.stdout(), rotated.stdout().contains(newPin));
        assertTrue(runtime.meshctl("ca", "status").assertExit(0).stdout(), runtime.meshctl("ca", "status").stdout()
                .contains("no rotation running"));

        assertEquals("rot-one kept its session", firstSince, status("rot-one").getConnectedSinceMs());
        assertEquals("rot-two kept its session", secondSince, status("rot-two").getConnectedSinceMs());
        String marker = "after-rotation-" + UUID.randomUUID();
        RuntimeUnderTest.Result exec = runtime.meshctl("exec", "rot-one", "--", "echo", marker);
        exec.assertExit(0);
        assertTrue(exec.stdout(), exec.stdout().contains(marker));

        Path kept = runtime.nodeState(runtime.home.resolve("rot-one-workspace"));
        List<X509Certificate> hubCas = HubTrust.readPem(kept.resolve("hub-ca.pem"));
        assertEquals("the agent keeps the bundle without the old CA", List.of(newPin),
                hubCas.stream().map(HubTrust::pinOf).toList());
        X509Certificate certificate = HubTrust.readPem(kept.resolve("node.crt")).get(0);
        certificate.verify(hubCas.get(0).getPublicKey());

        String log = runtime.log("rot-one-workspace.log");
        assertTrue(log, log.contains("renewing the node certificate now"));
        first.destroy();
        assertTrue(first.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        Poll.until("rot-one gone", PATIENCE, () -> !String.valueOf(runtime.listNodes()).contains("\"rot-one\""));
        Process again = runtime.meshnode(runtime.home.resolve("rot-one-workspace"), "--name", "rot-one");
        Poll.until("rot-one back, verifying the hub by the new CA it kept", PATIENCE,
                () -> String.valueOf(runtime.listNodes()).contains("\"rot-one\""));
        assertTrue(Files.isRegularFile(kept.resolve("node.key")));
        again.destroy();
        second.destroy();
    }
}
