package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** meshctl against a real grpc-java server on 127.0.0.1 ({@link FakeAdminHub}). */
public class MeshCtlLoopbackTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private FakeAdminHub hub;
    private Path home;
    private Path tokenFile;
    private final Map<String, String> env = new HashMap<>();
    private final Map<String, String> sysProps = new HashMap<>();

    /** What one meshctl run printed. */
    static final class Result {
        final int code;
        final String out;
        final String err;

        Result(int code, String out, String err) {
            this.code = code;
            this.out = out;
            this.err = err;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }

        /** Runs meshctl with no system properties and captures what it prints. */
        static Result of(Map<String, String> env, Interrupts interrupts, java.time.Clock clock, String... args) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = MeshCtl.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), env, k -> null, interrupts, clock);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    @Before
    public void setUp() throws IOException {
        hub = new FakeAdminHub();
        home = tmp.newFolder("hub-home").toPath();
        Files.createDirectories(home.resolve("etc"));
        tokenFile = home.resolve("etc/admin.token");
        Files.writeString(tokenFile, FakeAdminHub.ADMIN_TOKEN + "\n");
        env.put("MESHHUB_ADMIN_ADDRESS", hub.address());
        env.put("MESHHUB_HOME", home.toString());
    }

    @After
    public void tearDown() throws InterruptedException {
        hub.close();
    }

    private Result meshctl(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = MeshCtl.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env, sysProps::get);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneLine(Result r) {
        assertEquals(r.toString(), 1, r.err.split("\n", -1).length - 1);
    }

    @Test
    public void inviteCreatePrintsTheTokenAloneOnStdoutAndSendsTheBearerHeader() throws Exception {
        Result r = meshctl("invite", "create", "--ttl", "2h30m", "--note", "for web-1");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(FakeAdminHub.INVITE_TOKEN + "\n", r.out);
        assertTrue(r.err, r.err.contains("invite 0123456789abcdef created"));
        assertTrue(r.err, r.err.contains("2026-01-01T00:00:00Z"));
        assertFalse("the token goes to stdout only", r.err.contains(FakeAdminHub.INVITE_TOKEN));

        assertEquals("Bearer " + FakeAdminHub.ADMIN_TOKEN, hub.authorizationHeaders.poll(5, TimeUnit.SECONDS));
        CreateInviteRequest request = (CreateInviteRequest) hub.requests.poll(5, TimeUnit.SECONDS);
        assertNotNull(request);
        assertEquals(9000, request.getTtlSeconds());
        assertEquals("for web-1", request.getNote());
    }

    @Test
    public void inviteWithoutTtlLeavesTheLifetimeToTheHub() throws Exception {
        Result r = meshctl("invite", "create");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(0, ((CreateInviteRequest) hub.requests.poll(5, TimeUnit.SECONDS)).getTtlSeconds());
    }

    @Test
    public void statusErrorIsOneLineWithTheHubsDescriptionAndExit1() {
        Result r = meshctl("revoke", "ghost");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("", r.out);
        assertEquals("meshctl: no node with id or name 'ghost'; see 'meshctl nodes --all'\n", r.err);
    }

    @Test
    public void unreachableHubIsOneLineAndExit1() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Result r = meshctl("--hub", "127.0.0.1:" + port, "nodes");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: cannot reach the hub's admin API at 127.0.0.1:" + port + " (is the hub running?)\n",
                r.err);
        assertFalse("no stack trace without --verbose", r.err.contains("\tat "));
    }

    @Test
    public void verboseAddsTheStackTrace() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Result r = meshctl("nodes", "--verbose", "--hub", "127.0.0.1:" + port);
        assertEquals(1, r.code);
        assertTrue(r.err, r.err.startsWith("meshctl: cannot reach"));
        assertTrue(r.err, r.err.contains("StatusRuntimeException"));
    }

    @Test
    public void refusedTokenNamesTheTokenFileAndNeverPrintsTheToken() throws IOException {
        Path wrong = tmp.newFile("wrong.token").toPath();
        Files.writeString(wrong, "not-the-admin-token\n");
        Result r = meshctl("nodes", "--token-file", wrong.toString());
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: the hub refused the admin token (admin token does not match); check " + wrong + "\n",
                r.err);
        assertFalse(r.err.contains("not-the-admin-token"));
    }

    @Test
    public void missingTokenFileIsExit2NamingTheFile() {
        env.put("MESHHUB_HOME", tmp.getRoot().toPath().resolve("nowhere").toString());
        Result r = meshctl("nodes");
        assertEquals(r.toString(), 2, r.code);
        assertOneLine(r);
        assertTrue(r.err, r.err.startsWith("meshctl: cannot read the admin token: "
                + tmp.getRoot().toPath().resolve("nowhere/etc/admin.token") + " does not exist"));
        assertTrue(hub.authorizationHeaders.isEmpty());
    }

    @Test
    public void tokenFromSystemPropertyHomeWhenNoEnvironment() throws Exception {
        env.remove("MESHHUB_HOME");
        sysProps.put("meshhub.home", home.toString());
        Result r = meshctl("nodes");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("Bearer " + FakeAdminHub.ADMIN_TOKEN, hub.authorizationHeaders.poll(5, TimeUnit.SECONDS));
    }

    @Test
    public void nodesTableListsConnectedNodesAndAllAddsState() throws Exception {
        hub.nodes.add(NodeStatus.newBuilder().setNodeId("n-0000000000a1").setName("web-1").setConnected(true)
                .setAddress("10.0.0.5:51234").setConnectedSinceMs(1_767_225_600_999L)
                .setLastHeartbeatMs(1_767_225_661_000L).setEnrolledAtMs(1_767_000_000_000L).build());
        hub.nodes.add(NodeStatus.newBuilder().setNodeId("n-0000000000b2").setName("db").setRevoked(true)
                .setEnrolledAtMs(1_767_000_000_000L).build());

        Result r = meshctl("nodes");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "ID              NAME   ADDRESS         CONNECTED-SINCE       LAST-HEARTBEAT        CONFINEMENT\n"
                + "n-0000000000a1  web-1  10.0.0.5:51234  2026-01-01T00:00:00Z  2026-01-01T00:01:01Z  -\n", r.out);
        assertFalse(((ListNodesRequest) hub.requests.poll(5, TimeUnit.SECONDS)).getIncludeOffline());

        r = meshctl("nodes", "--all");
        assertEquals(r.toString(), 0, r.code);
        assertEquals(""
                + "ID              NAME   ADDRESS         CONNECTED-SINCE       LAST-HEARTBEAT        CONFINEMENT  STATE\n"
                + "n-0000000000a1  web-1  10.0.0.5:51234  2026-01-01T00:00:00Z  2026-01-01T00:01:01Z  -            connected\n"
                + "n-0000000000b2  db     -               -                     -                     -            revoked\n",
                r.out);
        assertTrue(((ListNodesRequest) hub.requests.poll(5, TimeUnit.SECONDS)).getIncludeOffline());
    }

    @Test
    public void nodesJsonPrintsAnArrayWithNullsForMissingTimes() {
        hub.nodes.add(NodeStatus.newBuilder().setNodeId("n-0000000000b2").setName("d\"b").setRevoked(true)
                .setEnrolledAtMs(1_767_225_600_000L).build());
        Result r = meshctl("nodes", "--all", "--json");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("[\n{\"id\":\"n-0000000000b2\",\"name\":\"d\\\"b\",\"connected\":false,\"address\":null,"
                + "\"connectedSince\":null,\"lastHeartbeat\":null,\"enrolledAt\":\"2026-01-01T00:00:00Z\","
                + "\"revoked\":true,\"takeovers\":0,\"lastTakeoverAddress\":null,\"confinement\":null}\n]\n", r.out);
        assertEquals("", r.err);

        hub.nodes.clear();
        assertEquals("[]\n", meshctl("nodes", "--json").out);
    }

    @Test
    public void revokeReportsWhetherALiveSessionWasClosed() throws Exception {
        hub.nodes.add(NodeStatus.newBuilder().setNodeId("n-0000000000a1").setName("web-1").setConnected(true).build());
        hub.nodes.add(NodeStatus.newBuilder().setNodeId("n-0000000000b2").setName("db").build());

        Result r = meshctl("revoke", "web-1");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("revoked n-0000000000a1; live session closed\n", r.out);
        assertEquals("web-1", ((RevokeNodeRequest) hub.requests.poll(5, TimeUnit.SECONDS)).getNode());

        r = meshctl("revoke", "n-0000000000b2");
        assertEquals("revoked n-0000000000b2; it was not connected\n", r.out);
    }

    @Test
    public void usageErrorsExit2WithoutCallingTheHub() {
        for (String[] args : new String[][] {
                {}, {"invite"}, {"invite", "create", "--ttl", "10"}, {"invite", "create", "--ttl", "0s"},
                {"revoke"}, {"nodes", "--bogus"}, {"frobnicate"}, {"--hub", "127.0.0.1:x", "nodes"}}) {
            Result r = meshctl(args);
            assertEquals(String.join(" ", args) + ": " + r, 2, r.code);
            assertTrue(r.err, r.err.startsWith("meshctl: "));
            assertOneLine(r);
            assertEquals("", r.out);
        }
        assertTrue(hub.authorizationHeaders.isEmpty());
    }

    @Test
    public void globalOptionsWorkBeforeAndAfterTheSubcommand() throws Exception {
        env.remove("MESHHUB_ADMIN_ADDRESS");
        env.remove("MESHHUB_HOME");
        assertEquals(0, meshctl("--hub", hub.address(), "--token-file", tokenFile.toString(), "nodes").code);
        assertEquals(0, meshctl("nodes", "--hub", hub.address(), "--token-file", tokenFile.toString()).code);
        assertEquals(2, hub.authorizationHeaders.size());
    }
}
