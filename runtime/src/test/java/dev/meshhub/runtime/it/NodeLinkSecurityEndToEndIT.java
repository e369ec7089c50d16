package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.GetHubTrustRequest;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * The node link as an attacker sees it, with the real hub, meshnode and meshctl processes: the
 * bytes on the path carry no token, credential, command or output; a node given the wrong pin never
 * sends its token (the hub's count of token checks stays put and the token stays usable); a
 * plaintext client is refused without harm; and the join line meshctl prints works as printed.
 */
public class NodeLinkSecurityEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    private long tokenChecks() throws Exception {
        return runtime.admin().getHubTrust(GetHubTrustRequest.getDefaultInstance()).getEnrollmentAttempts();
    }

    @Test
    public void aCaptureOfTheNodeLinkShowsNoTokenCredentialCommandOrOutput() throws Exception {
        String token = runtime.meshctl("invite", "create").assertExit(0).stdout().strip();
        String marker = "meshhub-secret-" + UUID.randomUUID();
        Path workspace = runtime.home.resolve("captured-workspace");
        byte[] captured;
        try (RecordingProxy proxy = new RecordingProxy(runtime.nodePort)) {
            Process node = runtime.meshnodeAt(proxy.port(), workspace, "--token", token, "--name", "captured");
            Poll.until("captured listed", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"captured\""));
            RuntimeUnderTest.Result exec = runtime.meshctl("exec", "captured", "--", "echo", marker);
            exec.assertExit(0);
            assertTrue("the task ran through the proxy: " + exec.stdout(), exec.stdout().contains(marker));
            captured = proxy.captured();
            node.destroy();
            node.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
        String nodeId = Files.readString(runtime.nodeState(workspace).resolve("node.properties")).replaceAll("(?s).*node.id=([^\\s]+).*", "$1");
        assertTrue(nodeId, nodeId.startsWith("n-"));
        assertTrue("the proxy saw the link: " + captured.length + " bytes", captured.length > 2000);
        assertEquals("the first record is a TLS handshake", 0x16, captured[0]);
        // TLS 1.3 encrypts certificates too: not even the node's identity shows.
        for (String secret : List.of(token, token.substring(token.lastIndexOf('.') + 1), nodeId, marker, "echo", "captured-workspace")) {
            assertFalse("'" + secret + "' crossed the link in the clear", contains(captured, secret.getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    public void aWrongPinStopsTheNodeWithExit5BeforeTheTokenIsSent() throws Exception {
        String token = runtime.meshctl("invite", "create").assertExit(0).stdout().strip();
        String pin = runtime.caPin();
        String wrong = "sha256:" + "0".repeat(64);
        long before = tokenChecks();

        Process misled = runtime.meshnode(runtime.home.resolve("misled-workspace"), "--token", token, "--ca-pin", wrong, "--name", "misled");
        assertTrue("the agent stops", misled.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(runtime.log("misled-workspace.log"), 5, misled.exitValue());
        String log = runtime.log("misled-workspace.log");
        assertTrue(log, log.contains(pin) && log.contains(wrong) && log.contains("token was not sent"));
        assertEquals("no handshake reached the token check", before, tokenChecks());

        // The token was never spent: the same one, with the right pin, enrolls.
        Process node = runtime.meshnode(runtime.home.resolve("right-workspace"), "--token", token, "--name", "right");
        Poll.until("right listed", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"right\""));
        assertEquals(before + 1, tokenChecks());
        node.destroy();
    }

    @Test
    public void aPlaintextClientOnTheTlsPortIsRefusedAndTheHubCarriesOn() throws Exception {
        long before = tokenChecks();
        ManagedChannel plaintext = NettyChannelBuilder.forAddress("127.0.0.1", runtime.nodePort).usePlaintext().build();
        try {
            NodeServiceGrpc.newBlockingStub(plaintext).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken("mhi.0123456789abcdef." + "A".repeat(43)).build());
            fail("a plaintext call on the TLS port was answered");
        } catch (StatusRuntimeException e) {
            assertEquals(e.toString(), Status.Code.UNAVAILABLE, e.getStatus().getCode());
        } finally {
            plaintext.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        assertEquals(before, tokenChecks());
        runtime.enrolledNode("after-plaintext");
    }

    @Test
    public void theJoinLineMeshctlPrintsEnrollsANode() throws Exception {
        RuntimeUnderTest.Result invite = runtime.meshctl("invite", "create", "--join", "--node-address", "127.0.0.1:" + runtime.nodePort);
        invite.assertExit(0);
        assertTrue(invite.stderr(), invite.stderr().contains("hub CA pin: " + runtime.caPin()));
        List<String> line = new ArrayList<>(Arrays.asList(invite.stdout().strip().split(" ")));
        assertEquals(invite.stdout(), "meshnode", line.get(0));
        assertEquals("127.0.0.1:" + runtime.nodePort, line.get(line.indexOf("--hub") + 1));
        assertEquals(runtime.caPin(), line.get(line.indexOf("--ca-pin") + 1));
        String token = line.get(line.indexOf("--token") + 1);
        assertNotEquals(-1, line.indexOf("--workspace"));

        RuntimeUnderTest.Result plain = runtime.meshctl("invite", "create");
        assertTrue("without --join the token stays alone on stdout", plain.stdout().strip().matches("mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"));

        Process node = runtime.meshnode(runtime.home.resolve("joined-workspace"), "--token", token, "--ca-pin",
                line.get(line.indexOf("--ca-pin") + 1), "--name", "joined");
        Poll.until("joined listed", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"joined\""));
        assertTrue("the CA is kept for later starts", Files.isRegularFile(runtime.nodeState(runtime.home.resolve("joined-workspace")).resolve("hub-ca.pem")));
        node.destroy();
        node.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        Poll.until("joined gone", PATIENCE, () -> !String.valueOf(runtime.listNodes()).contains("\"joined\""));
        Process again = runtime.meshnode(runtime.home.resolve("joined-workspace"), "--name", "joined");
        Poll.until("joined back without a pin", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"joined\""));
        again.destroy();
    }

    @Test
    public void meshctlSpeaksTlsToATlsAdminApiOnlyWhenItCanVerifyTheHub() throws Exception {
        String pin = runtime.caPin();
        Path cfg = runtime.home.resolve("etc/dev.meshhub.admin.cfg");
        String original = Files.readString(cfg);
        try {
            HubTestSupport.writeConfig(cfg, original + "\ntls = true\n");
            Poll.until("the admin API on TLS", PATIENCE, () -> meshctlExit("nodes") == 1);
            RuntimeUnderTest.Result verified = runtime.meshctl("--ca-pin", pin, "nodes");
            verified.assertExit(0);
            RuntimeUnderTest.Result byFile = runtime.meshctl("--ca-file", runtime.home.resolve("data/pki/trust.pem").toString(), "nodes");
            byFile.assertExit(0);
            RuntimeUnderTest.Result wrong = runtime.meshctl("--ca-pin", "sha256:" + "0".repeat(64), "nodes");
            assertEquals(wrong.toString(), 1, wrong.exit());
            assertTrue(wrong.stderr(), wrong.stderr().contains(pin) && wrong.stderr().contains("sha256:" + "0".repeat(64))
                    && wrong.stderr().contains("the admin token was not sent"));
        } finally {
            HubTestSupport.writeConfig(cfg, original);
        }
        Poll.until("the admin API back on plaintext loopback", PATIENCE, () -> meshctlExit("nodes") == 0);
    }

    private int meshctlExit(String... args) {
        try {
            return runtime.meshctl(args).exit();
        } catch (Exception e) {
            return -1;
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
