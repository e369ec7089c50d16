package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.HubTrust;

/**
 * The agent verifies the hub over real TLS on loopback before it sends anything: the right pin
 * enrolls and keeps the CA for later starts; a wrong pin, an impostor with its own CA, or a node's
 * certificate from the right CA is refused with exit 5 and no call (so no token) ever reaches it.
 */
public class HubVerificationLoopbackTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private final List<FakeHub> hubs = new ArrayList<>();
    private final List<NodeAgent> agents = new ArrayList<>();
    private TestCa hubCa;
    private TestCa impostorCa;
    private Path workspace;

    @Before
    public void setUp() throws Exception {
        hubCa = new TestCa("meshhub CA test");
        impostorCa = new TestCa("meshhub CA test"); // same name, other key: only the pin tells them apart
        workspace = tmp.newFolder("ws").toPath();
    }

    @After
    public void tearDown() throws Exception {
        agents.forEach(NodeAgent::close);
        for (FakeHub hub : hubs) {
            hub.close();
        }
    }

    private FakeHub hub(TestCa ca, boolean presentNodeCertificate, int port) throws Exception {
        FakeHub hub = new FakeHub();
        hub.tls = ca.server(presentNodeCertificate);
        hubs.add(hub);
        return hub.startOn(port);
    }

    private NodeAgent agent(HubAddress address, HubVerification verification, String token) {
        NodeAgent agent = new NodeAgent(NodeAgentConfig.builder(address, workspace)
                .verification(verification)
                .inviteToken(token)
                .agentVersion("test-1")
                .backoff(() -> new Backoff(Duration.ofMillis(20), Duration.ofMillis(50), () -> 0.5))
                .build());
        agents.add(agent);
        agent.start();
        return agent;
    }

    @Test
    public void theRightPinEnrollsAndTheCaIsKeptForLaterStarts() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        NodeAgent first = agent(hub.address(), HubVerification.pin(hubCa.pin().toUpperCase().replace("SHA256", "sha256")), FakeHub.TOKEN);
        hub.streams.poll(Await.DEADLINE_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        assertEquals(1, hub.enrollments.get());
        Path kept = workspace.resolve(".meshnode/hub-ca.pem");
        Await.until("the hub's CA kept in the workspace", () -> Files.isRegularFile(kept));
        assertEquals(List.of(hubCa.ca), HubTrust.readPem(kept));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(kept)));
        first.close();

        NodeAgent later = agent(hub.address(), HubVerification.stored(), null);
        Await.until("the later start reconnected with the kept CA", () -> hub.credentialSyncs.get() >= 2);
        assertFalse(later.exitFuture().isDone());
    }

    @Test
    public void aWrongPinStopsWithExit5NamingBothPinsAndTheTokenIsNeverSent() throws Exception {
        FakeHub impostor = hub(impostorCa, false, 0);
        NodeAgent agent = agent(impostor.address(), HubVerification.pin(hubCa.pin()), FakeHub.TOKEN);
        AgentExit exit = Await.result(agent.exitFuture(), "the agent's refusal");
        assertEquals(exit.toString(), AgentExit.HUB_NOT_TRUSTED, exit.code());
        assertTrue(exit.message(), exit.message().contains(impostorCa.pin()) && exit.message().contains(hubCa.pin()));
        assertTrue(exit.message(), exit.message().contains("token was not sent"));
        assertEquals("no call reached the impostor", 0, impostor.calls.get());
        assertFalse("nothing stored", Files.exists(workspace.resolve(".meshnode")));
    }

    @Test
    public void anImpostorOnTheHubsAddressIsRefusedOnceTheCaIsKept() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        NodeAgent first = agent(hub.address(), HubVerification.pin(hubCa.pin()), FakeHub.TOKEN);
        Await.until("enrolled and the CA kept", () -> Files.isRegularFile(workspace.resolve(".meshnode/hub-ca.pem")));
        first.close();
        int port = hub.port();
        hub.stop();

        FakeHub impostor = hub(impostorCa, false, port);
        NodeAgent later = agent(impostor.address(), HubVerification.stored(), null);
        AgentExit exit = Await.result(later.exitFuture(), "the agent's refusal");
        assertEquals(exit.toString(), AgentExit.HUB_NOT_TRUSTED, exit.code());
        assertTrue(exit.message(), exit.message().contains("not issued by a trusted CA"));
        assertEquals("no call, so no credential, reached the impostor", 0, impostor.calls.get());
    }

    @Test
    public void aNodeCertificateOfTheRightCaCannotPoseAsTheHub() throws Exception {
        FakeHub posing = hub(hubCa, true, 0);
        NodeAgent agent = agent(posing.address(), HubVerification.pin(hubCa.pin()), FakeHub.TOKEN);
        AgentExit exit = Await.result(agent.exitFuture(), "the agent's refusal");
        assertEquals(exit.toString(), AgentExit.HUB_NOT_TRUSTED, exit.code());
        assertTrue(exit.message(), exit.message().contains("not a server certificate"));
        assertEquals(0, posing.calls.get());
    }

    @Test
    public void withoutPinOrKeptCaTheAgentRefusesToStartAndSaysWhatToPass() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        NodeAgent agent = agent(hub.address(), HubVerification.stored(), FakeHub.TOKEN);
        AgentExit exit = Await.result(agent.exitFuture(), "the agent's refusal");
        assertEquals(exit.toString(), AgentExit.USAGE_OR_ENROLLMENT_REFUSED, exit.code());
        assertTrue(exit.message(), exit.message().contains("--ca-pin") && exit.message().contains("meshctl ca pin"));
        assertEquals(0, hub.calls.get());
    }

    @Test
    public void plaintextIsRefusedForAHubOffThisMachine() throws Exception {
        NodeAgent agent = agent(new HubAddress("192.0.2.1", 7700), HubVerification.plaintext(), FakeHub.TOKEN);
        AgentExit exit = Await.result(agent.exitFuture(), "the agent's refusal");
        assertEquals(exit.toString(), AgentExit.USAGE_OR_ENROLLMENT_REFUSED, exit.code());
        assertTrue(exit.message(), exit.message().contains("--plaintext is refused"));
    }
}
