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
    private Path state;

    @Before
    public void setUp() throws Exception {
        hubCa = new TestCa("meshhub CA test");
        impostorCa = new TestCa("meshhub CA test"); // same name, other key: only the pin tells them apart
        workspace = tmp.newFolder("ws").toPath();
        state = tmp.getRoot().toPath().resolve("state");
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
        NodeAgent agent = new NodeAgent(NodeAgentConfig.builder(address, workspace).stateDirectory(state)
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
        Path kept = state.resolve("hub-ca.pem");
        Await.until("the hub's CA kept in the state directory", () -> Files.isRegularFile(kept));
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
        assertFalse("nothing stored", Files.exists(state));
    }

    @Test
    public void anImpostorOnTheHubsAddressIsRefusedOnceTheCaIsKept() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        NodeAgent first = agent(hub.address(), HubVerification.pin(hubCa.pin()), FakeHub.TOKEN);
        Await.until("enrolled and the CA kept", () -> Files.isRegularFile(state.resolve("hub-ca.pem")));
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
    public void enrollmentEarnsACertificateForAKeyMadeHereAndLaterConnectionsPresentIt() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        hub.issuer = hubCa;
        NodeAgent first = agent(hub.address(), HubVerification.pin(hubCa.pin()), FakeHub.TOKEN);
        Await.until("a call made with the node's certificate", () -> hub.certifiedCalls.get() >= 1);
        Path directory = state;
        assertFalse("no bearer credential is kept", Files.exists(directory.resolve("credential")));
        for (String file : List.of("node.key", "node.crt", "hub-ca.pem", "node.properties")) {
            assertEquals(file, "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve(file))));
        }
        assertTrue(Files.readString(directory.resolve("node.key")).startsWith("-----BEGIN PRIVATE KEY-----"));
        java.security.cert.X509Certificate mine = HubTrust.readPem(directory.resolve("node.crt")).get(0);
        assertTrue(mine.getSubjectAlternativeNames().toString().contains("meshhub://node/" + FakeHub.NODE_ID));
        first.close();

        int before = hub.certifiedCalls.get();
        NodeAgent later = agent(hub.address(), HubVerification.stored(), null);
        Await.until("the later start connects by its certificate", () -> hub.certifiedCalls.get() > before);
        assertFalse(later.exitFuture().isDone());
    }

    @Test
    public void theCertificateRenewsItselfAtTwoThirdsWithoutTouchingTheOpenStream() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        hub.issuer = hubCa;
        hub.certificateLifetime = Duration.ofSeconds(6);
        NodeAgent agent = agent(hub.address(), HubVerification.pin(hubCa.pin()), FakeHub.TOKEN);
        FakeHub.NodeStream stream = hub.streams.poll(Await.DEADLINE_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
        java.security.cert.X509Certificate first = HubTrust.readPem(state.resolve("node.crt")).get(0);
        Await.until("two renewals", () -> hub.renewals.get() >= 2);
        java.security.cert.X509Certificate later = HubTrust.readPem(state.resolve("node.crt")).get(0);
        assertTrue("a newer certificate is kept", later.getNotAfter().after(first.getNotAfter()));
        assertTrue("for a new key", !later.getPublicKey().equals(first.getPublicKey()));
        assertTrue("the stream is the first one still", hub.streams.isEmpty());
        assertTrue("it opened with Hello", stream.next().hasHello());
        stream.received.clear();
        assertTrue("and still carries heartbeats after the renewals", stream.next().hasHeartbeat());
        assertFalse(agent.exitFuture().isDone());
    }

    @Test
    public void aNodeOnABearerCredentialTradesItOnceForACertificateAndDeletesIt() throws Exception {
        FakeHub hub = hub(hubCa, false, 0);
        CredentialStore store = new CredentialStore(state);
        store.save(new NodeIdentity(FakeHub.NODE_ID, FakeHub.NODE_NAME, FakeHub.CREDENTIAL));
        NodeAgent legacy = agent(hub.address(), HubVerification.pin(hubCa.pin()), null);
        assertTrue("connected on the credential", hub.streams.poll(Await.DEADLINE_MS, java.util.concurrent.TimeUnit.MILLISECONDS) != null);
        Await.until("the hub's CA kept", () -> Files.exists(store.hubCaFile()));
        assertTrue("a hub that issues nothing leaves the credential", Files.exists(store.credentialFile()));
        legacy.close();

        hub.issuer = hubCa;
        NodeAgent upgraded = agent(hub.address(), HubVerification.stored(), null);
        Await.until("connected by certificate", () -> hub.certifiedCalls.get() >= 1);
        assertFalse("the credential is deleted once traded", Files.exists(store.credentialFile()));
        assertTrue(Files.exists(store.certificateFile()));
        assertFalse(upgraded.exitFuture().isDone());
    }

    @Test
    public void plaintextIsRefusedForAHubOffThisMachine() throws Exception {
        NodeAgent agent = agent(new HubAddress("192.0.2.1", 7700), HubVerification.plaintext(), FakeHub.TOKEN);
        AgentExit exit = Await.result(agent.exitFuture(), "the agent's refusal");
        assertEquals(exit.toString(), AgentExit.USAGE_OR_ENROLLMENT_REFUSED, exit.code());
        assertTrue(exit.message(), exit.message().contains("--plaintext is refused"));
    }
}
