package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.SessionClosing;
import io.grpc.Status;
import java.io.IOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The agent against a real grpc-java server on 127.0.0.1 ({@link FakeHub}). */
public class NodeAgentLoopbackTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private final FakeHub hub = new FakeHub();
    private final List<NodeAgent> agents = new ArrayList<>();
    private final List<RecordingBackoff> backoffs = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final Handler captureWarnings = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (warnings) {
                warnings.add(record.getLevel() + " " + record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private Path workspace;
    private Path state;

    @Before
    public void setUp() throws IOException {
        hub.start();
        workspace = tmp.newFolder("ws").toPath();
        state = tmp.getRoot().toPath().resolve("state");
        Logger.getLogger("dev.meshhub.node").addHandler(captureWarnings);
    }

    @After
    public void tearDown() throws InterruptedException {
        Logger.getLogger("dev.meshhub.node").removeHandler(captureWarnings);
        for (NodeAgent agent : agents) {
            agent.close();
        }
        hub.close();
    }

    /** Short windows so tests are quick; records every delay it hands out. */
    static final class RecordingBackoff extends Backoff {
        final List<long[]> draws = new ArrayList<>();

        RecordingBackoff() {
            super(Duration.ofMillis(20), Duration.ofMillis(200), new Random(7)::nextDouble);
        }

        @Override
        public synchronized Duration nextDelay() {
            int attempt = attempts();
            Duration d = super.nextDelay();
            draws.add(new long[] {attempt, d.toMillis()});
            return d;
        }

        synchronized int drawCount() {
            return draws.size();
        }

        @Override
        public synchronized void reset() {
            super.reset();
        }

        @Override
        public synchronized int attempts() {
            return super.attempts();
        }
    }

    private NodeAgent agent(String token) {
        RecordingBackoff backoff = new RecordingBackoff();
        backoffs.add(backoff);
        NodeAgent agent = new NodeAgent(NodeAgentConfig.builder(hub.address(), workspace).stateDirectory(state).verification(HubVerification.plaintext())
                .inviteToken(token)
                .agentVersion("test-1")
                .backoff(() -> backoff)
                .build());
        agents.add(agent);
        return agent;
    }

    private FakeHub.NodeStream nextStream() throws InterruptedException {
        FakeHub.NodeStream s = hub.streams.poll(Await.DEADLINE_MS, TimeUnit.MILLISECONDS);
        assertNotNull("the node opened no TaskStream", s);
        return s;
    }

    private static void assertHelloThenHeartbeats(FakeHub.NodeStream stream) throws InterruptedException {
        NodeMessage first = stream.next();
        assertTrue("first message must be Hello: " + first, first.hasHello());
        assertEquals("test-1", first.getHello().getInfo().getAgentVersion());
        assertFalse(first.getHello().getInfo().getHostname().isEmpty());
        for (long expected = 1; expected <= 3; expected++) {
            NodeMessage m = stream.next();
            assertTrue("expected a heartbeat: " + m, m.hasHeartbeat());
            assertEquals(expected, m.getHeartbeat().getSequence());
        }
    }

    @Test
    public void enrollsStoresCredentialOwnerOnlyAndStreamsHelloThenHeartbeats() throws Exception {
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();

        FakeHub.NodeStream stream = nextStream();
        assertEquals(FakeHub.CREDENTIAL, stream.credentialHeader);
        assertHelloThenHeartbeats(stream);
        assertEquals(1, hub.enrollments.get());

        CredentialStore store = agent.credentialStore();
        assertEquals(FakeHub.CREDENTIAL,
                Files.readString(store.credentialFile(), StandardCharsets.US_ASCII).strip());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.credentialFile())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.directory())));
        assertTrue(Files.readString(store.propertiesFile()).contains("node.id=" + FakeHub.NODE_ID));

        agent.close();
        assertEquals(AgentExit.STOPPED, Await.result(agent.exitFuture(), "exit").code());
        assertTrue("closing the agent must end its stream", stream.ended.await(10, TimeUnit.SECONDS));
    }

    @Test
    public void laterStartUsesStoredCredentialAndIgnoresTokenWithWarning() throws Exception {
        new CredentialStore(state).save(new NodeIdentity(FakeHub.NODE_ID, FakeHub.NODE_NAME, FakeHub.CREDENTIAL));
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();

        FakeHub.NodeStream stream = nextStream();
        assertEquals(FakeHub.CREDENTIAL, stream.credentialHeader);
        assertHelloThenHeartbeats(stream);
        assertEquals("no second enrollment", 0, hub.enrollments.get());
        synchronized (warnings) {
            assertTrue(warnings.toString(), warnings.stream().anyMatch(w -> w.startsWith("WARNING")
                    && w.contains("ignoring the invite token")));
            assertFalse("the token must never be logged", warnings.toString().contains(FakeHub.TOKEN));
            assertFalse("the credential must never be logged", warnings.toString().contains(FakeHub.CREDENTIAL));
        }
    }

    @Test
    public void noCredentialAndNoTokenExits2() throws Exception {
        NodeAgent agent = agent(null);
        agent.start();
        AgentExit exit = Await.result(agent.exitFuture(), "exit");
        assertEquals(2, exit.code());
        assertTrue(exit.message(), exit.message().contains(state.toString()) && exit.message().contains("--token"));
        assertEquals(0, hub.enrollments.get());
    }

    @Test
    public void malformedTokenExits2WithoutCallingTheHub() throws Exception {
        NodeAgent agent = agent("mhi.not-a-token");
        agent.start();
        AgentExit exit = Await.result(agent.exitFuture(), "exit");
        assertEquals(2, exit.code());
        assertFalse("never echo a token", exit.message().contains("mhi.not-a-token"));
        assertEquals(0, hub.enrollments.get());
    }

    @Test
    public void unauthenticatedEnrollmentExits2WithTheHubsMessage() throws Exception {
        hub.enrollmentError = Status.UNAUTHENTICATED.withDescription("invite token expired; ask an admin for a new one");
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        AgentExit exit = Await.result(agent.exitFuture(), "exit");
        assertEquals(2, exit.code());
        assertEquals("enrollment refused: invite token expired; ask an admin for a new one", exit.message());
        assertFalse(Files.exists(agent.credentialStore().credentialFile()));
    }

    @Test
    public void rateLimitedEnrollmentIsRetriedWithBackoff() throws Exception {
        hub.enrollmentError = Status.RESOURCE_EXHAUSTED.withDescription("too many enrollments; retry later");
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        Await.until("two enrollment attempts", () -> hub.enrollments.get() >= 2);
        hub.enrollmentError = null;
        assertHelloThenHeartbeats(nextStream());
        assertFalse(agent.exitFuture().isDone());
    }

    @Test
    public void rejectedStoredCredentialExits3() throws Exception {
        String other = "mhc.n-aaaaaaaaaaaa." + "x".repeat(43);
        new CredentialStore(state).save(new NodeIdentity("n-aaaaaaaaaaaa", "old", other));
        NodeAgent agent = agent(null);
        agent.start();
        AgentExit exit = Await.result(agent.exitFuture(), "exit");
        assertEquals(3, exit.code());
        assertTrue(exit.message(), exit.message().startsWith("this node's certificate or credential was rejected (revoked or expired?); delete "
                + agent.credentialStore().directory() + " and enroll with a new invite token"));
        assertFalse(exit.message().contains(other));
    }

    @Test
    public void revokedSessionClosingExits3() throws Exception {
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        FakeHub.NodeStream stream = nextStream();
        assertTrue(stream.next().hasHello());
        stream.closeWith(SessionClosing.Reason.REVOKED, "revoked by admin");
        AgentExit exit = Await.result(agent.exitFuture(), "exit");
        assertEquals(3, exit.code());
        assertTrue(exit.message(), exit.message().contains("delete " + agent.credentialStore().directory()));
        assertEquals("no reconnect after REVOKED", 0, backoffs.get(0).drawCount());
    }

    @Test
    public void replacedSessionExits4() throws Exception {
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        FakeHub.NodeStream stream = nextStream();
        assertTrue(stream.next().hasHello());
        stream.closeWith(SessionClosing.Reason.REPLACED, "a newer session of this node connected");
        AgentExit exit = Await.result(agent.exitFuture(), "exit");
        assertEquals(4, exit.code());
        assertTrue(exit.message(), exit.message().contains("another process"));
    }

    @Test
    public void refusedBecauseAnotherSessionIsAliveTheAgentRetriesRatherThanExits() throws Exception {
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        FakeHub.NodeStream first = nextStream();
        assertTrue(first.next().hasHello());
        first.closeWithStatus(SessionClosing.Reason.ALREADY_CONNECTED, io.grpc.Status.ALREADY_EXISTS.withDescription(
                "node n-0123456789ab already has a live session; retry with backoff"));
        assertHelloThenHeartbeats(nextStream());
        assertFalse("the live session keeps the node; this agent waits its turn", agent.exitFuture().isDone());
        assertTrue("with backoff", backoffs.get(0).drawCount() >= 1);
    }

    @Test
    public void hubStoppingClosesSessionAndAgentReconnects() throws Exception {
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        FakeHub.NodeStream first = nextStream();
        assertTrue(first.next().hasHello());
        first.closeWith(SessionClosing.Reason.HUB_STOPPING, "hub stopping");
        assertHelloThenHeartbeats(nextStream());
        assertFalse(agent.exitFuture().isDone());
    }

    @Test
    public void reconnectsWithJitteredBackoffAfterHubRestartOnSamePort() throws Exception {
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        FakeHub.NodeStream first = nextStream();
        assertHelloThenHeartbeats(first);
        RecordingBackoff backoff = backoffs.get(0);

        int port = hub.port();
        hub.stop();
        // The disconnect plus at least two failed reconnects while the hub is down.
        Await.until("three backoff delays", () -> backoff.drawCount() >= 3);
        startAgainOn(port);

        FakeHub.NodeStream second = nextStream();
        assertEquals(FakeHub.CREDENTIAL, second.credentialHeader);
        assertHelloThenHeartbeats(second);
        assertEquals("enrolled once, reconnected with the credential", 1, hub.enrollments.get());
        assertFalse(agent.exitFuture().isDone());

        synchronized (backoff) {
            boolean sawGrowth = false;
            for (long[] draw : backoff.draws) {
                int attempt = (int) draw[0];
                long delay = draw[1];
                assertTrue("delay " + delay + " outside [0, ceiling] for attempt " + attempt,
                        delay >= 0 && delay <= backoff.ceilingMillis(attempt));
                sawGrowth |= attempt > 0;
            }
            assertTrue("consecutive failures must widen the window", sawGrowth);
        }
        Await.until("the first hub heartbeat of the new session resets the backoff",
                () -> backoff.attempts() == 0);
    }

    @Test
    public void silentHubIsDetectedAndTheStreamReopened() throws Exception {
        hub.answerHeartbeats = false;
        hub.settings = hub.settings.toBuilder().setHeartbeatIntervalMs(50).setHeartbeatTimeoutMs(300).build();
        NodeAgent agent = agent(FakeHub.TOKEN);
        agent.start();
        FakeHub.NodeStream first = nextStream();
        assertTrue(first.next().hasHello());
        assertTrue("the agent must cancel a silent stream", first.ended.await(10, TimeUnit.SECONDS));
        FakeHub.NodeStream second = nextStream();
        assertTrue(second.next().hasHello());
        assertTrue(backoffs.get(0).drawCount() >= 1);
    }

    @Test
    public void settingsChangedByTheHubApplyToTheRunningSession() throws Exception {
        // A minute of hub silence would be tolerated under the handshake's settings.
        hub.settings = hub.settings.toBuilder().setHeartbeatIntervalMs(50).setHeartbeatTimeoutMs(60_000).build();
        List<String> infos = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler captureInfo = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                infos.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger.getLogger("dev.meshhub.node").addHandler(captureInfo);
        try {
            NodeAgent agent = agent(FakeHub.TOKEN);
            agent.start();
            FakeHub.NodeStream stream = nextStream();
            assertHelloThenHeartbeats(stream);

            hub.answerHeartbeats = false;
            stream.send(HubMessage.newBuilder().setSettingsUpdate(hub.settings.toBuilder()
                    .setHeartbeatIntervalMs(100).setHeartbeatTimeoutMs(300)).build());

            try {
                Await.until("the agent reports the change", () -> infos.stream().anyMatch(m -> m != null
                        && m.contains("the hub changed its settings: heartbeat every 100 ms (was 50 ms), silence limit 300 ms (was 60.0 s)")));
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; logged: " + infos, e);
            }
            // Under the new limit the silent hub is noticed at once, not after a minute.
            assertTrue("the agent applies the new silence limit to the open session", stream.ended.await(10, TimeUnit.SECONDS));
            assertTrue(nextStream().next().hasHello());
        } finally {
            Logger.getLogger("dev.meshhub.node").removeHandler(captureInfo);
        }
    }

    private void startAgainOn(int port) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                hub.startOn(port);
                return;
            } catch (IOException e) {
                if (!(e.getCause() instanceof BindException || e instanceof BindException)
                        || System.nanoTime() - end > 0) {
                    throw e;
                }
                Thread.sleep(20); // port still held by the old listener; poll until it is free
            }
        }
    }
}
