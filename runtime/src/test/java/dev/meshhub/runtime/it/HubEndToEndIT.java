package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;

/**
 * The assembled runtime as a user runs it: the hub, node agents and meshctl as separate processes,
 * started through the bin/ scripts of a copy of runtime/target/meshhub (which also shows the
 * directory is relocatable).
 */
public class HubEndToEndIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private Path home;
    private int nodePort;
    private int adminPort;
    private Process hub;
    private final List<Process> processes = new ArrayList<>();
    private ManagedChannel adminChannel;

    @Before
    public void startHub() throws Exception {
        Path runtime = HubTestSupport.runtimeDirectory();
        home = Files.createDirectories(Path.of("target/e2e").toAbsolutePath()).resolve("hub-" + System.nanoTime());
        run(List.of("cp", "-a", runtime.toString(), home.toString()), Map.of(), 60).assertExit(0);
        // Start from a first start's state, whatever a developer did with target/meshhub before.
        run(List.of("sh", "-c", "rm -rf data/* etc/admin.token deploy/*"), Map.of(), 60, home).assertExit(0);
        nodePort = HubTestSupport.freePort();
        adminPort = HubTestSupport.freePort();
        long launched = System.nanoTime();
        hub = start(home.resolve("hub.log"), hubEnvironment(), home.resolve("bin/meshhub").toString());
        Poll.until("the admin token file", PATIENCE, () -> Files.exists(home.resolve("etc/admin.token")) || !hub.isAlive());
        adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort).usePlaintext().build();
        Poll.until("the hub to answer", PATIENCE, () -> !hub.isAlive() || listNodes() != null);
        assertTrue("hub died at start; log:\n" + log("hub.log"), hub.isAlive());
        System.out.printf("meshhub e2e: launch to ready (admin API answering, node port open) in %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched));
    }

    private Map<String, String> hubEnvironment() {
        return Map.of(
                "MESHHUB_TRANSPORT_PORT", String.valueOf(nodePort),
                "MESHHUB_TRANSPORT_BIND_ADDRESS", "127.0.0.1",
                "MESHHUB_TRANSPORT_ADMIN_PORT", String.valueOf(adminPort));
    }

    private Map<String, String> cliEnvironment() {
        return Map.of("MESHHUB_ADMIN_ADDRESS", "127.0.0.1:" + adminPort);
    }

    @After
    public void stopAll() throws Exception {
        for (Process process : processes) {
            process.destroyForcibly();
        }
        if (adminChannel != null) {
            adminChannel.shutdownNow();
        }
    }

    @Test
    public void aNodeEnrollsIsListedLeavesWhenKilledAndIsRevoked() throws Exception {
        Result invite = meshctl("invite", "create", "--ttl", "10m");
        invite.assertExit(0);
        String token = invite.stdout.strip();
        assertTrue("the token alone on stdout: " + invite.stdout, token.matches("mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"));

        Path workspace = home.resolve("node-workspace");
        Process node = meshnode(workspace, "--token", token, "--name", "e2e-node");
        Poll.until("e2e-node listed by meshctl", PATIENCE, () -> meshctlQuietly("nodes", "--json").contains("\"e2e-node\""));
        Result table = meshctl("nodes");
        table.assertExit(0);
        assertTrue(table.stdout, table.stdout.contains("e2e-node") && table.stdout.contains("127.0.0.1:"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(workspace.resolve(".meshnode/credential"))));
        String credential = Files.readString(workspace.resolve(".meshnode/credential")).strip();

        // The invite cannot be used twice.
        Process thief = meshnode(home.resolve("thief-workspace"), "--token", token, "--name", "thief");
        assertTrue("the second use of the token ends the agent", thief.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(2, thief.exitValue());
        assertTrue(log("thief-workspace.log"), log("thief-workspace.log").contains("already used"));

        // Killing the node removes it from the list at once.
        node.destroyForcibly().waitFor();
        long killed = System.nanoTime();
        Poll.until("e2e-node gone after kill -9", PATIENCE, () -> !listNodes().contains("e2e-node"));
        long goneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        System.out.printf("meshhub e2e: node gone from the list %d ms after kill -9%n", goneMillis);
        assertTrue("gone within a second, took " + goneMillis + " ms", goneMillis <= 1000);

        // Restarted without a token, the node comes back with its stored credential.
        Process again = meshnode(workspace, "--name", "e2e-node");
        Poll.until("e2e-node back", PATIENCE, () -> listNodes().contains("e2e-node"));

        Result missing = meshctl("revoke", "no-such-node");
        assertEquals(1, missing.exit);
        assertEquals("one line on stderr: " + missing.stderr, 1, missing.stderr.strip().lines().count());
        assertTrue(missing.stderr, missing.stderr.startsWith("meshctl: "));

        Result revoke = meshctl("revoke", "e2e-node");
        revoke.assertExit(0);
        assertTrue(revoke.stdout, revoke.stdout.contains("live session closed"));
        assertTrue("a revoked agent stops", again.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(3, again.exitValue());

        // A second hub on the same directory is refused while the first runs.
        Result second = run(List.of(home.resolve("bin/meshhub").toString()), hubEnvironment(), 60);
        assertEquals(1, second.exit);
        assertTrue(second.stderr, second.stderr.contains("already running"));

        // SIGTERM stops the hub cleanly.
        hub.destroy();
        assertTrue("the hub stops on SIGTERM", hub.waitFor(60, TimeUnit.SECONDS));
        assertEquals("clean exit; log:\n" + log("hub.log"), 0, hub.exitValue());

        // Neither the invite token nor the node's credential secret is stored in plain text.
        String tokenSecret = token.substring(token.lastIndexOf('.') + 1);
        String credentialSecret = credential.substring(credential.lastIndexOf('.') + 1);
        try (Stream<Path> files = Files.walk(home.resolve("data"))) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertFalse("token secret in " + file, bytes.contains(tokenSecret));
                assertFalse("credential secret in " + file, bytes.contains(credentialSecret));
            }
        }
    }

    @Test
    public void meshctlWithoutAHubSaysSoInOneLine() throws Exception {
        Result result = run(List.of(home.resolve("bin/meshctl").toString(), "--hub", "127.0.0.1:" + HubTestSupport.freePort(), "nodes"),
                Map.of(), 60);
        assertEquals(1, result.exit);
        assertTrue(result.stderr, result.stderr.contains("cannot reach"));
        assertEquals(1, result.stderr.strip().lines().count());
    }

    /** Lists nodes through the admin API (fast polling without a JVM start per poll); null when it does not answer. */
    private String listNodes() {
        try {
            Metadata headers = new Metadata();
            headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + Files.readString(home.resolve("etc/admin.token")).strip());
            return AdminServiceGrpc.newBlockingStub(adminChannel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .listNodes(ListNodesRequest.getDefaultInstance()).toString();
        } catch (RuntimeException | IOException notYet) {
            return null;
        }
    }

    private Process meshnode(Path workspace, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/meshnode").toString(),
                "--hub", "127.0.0.1:" + nodePort, "--workspace", workspace.toString()));
        command.addAll(List.of(args));
        return start(home.resolve(workspace.getFileName() + ".log"), Map.of(), command.toArray(new String[0]));
    }

    private Result meshctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/meshctl").toString()));
        command.addAll(List.of(args));
        return run(command, cliEnvironment(), 60);
    }

    private String meshctlQuietly(String... args) {
        try {
            return meshctl(args).stdout;
        } catch (Exception e) {
            return "";
        }
    }

    private Process start(Path log, Map<String, String> env, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    private String log(String name) throws IOException {
        Path file = home.resolve(name);
        return Files.exists(file) ? Files.readString(file) : "(no " + name + ")";
    }

    private Result run(List<String> command, Map<String, String> env, int timeoutSeconds) throws Exception {
        return run(command, env, timeoutSeconds, null);
    }

    private Result run(List<String> command, Map<String, String> env, int timeoutSeconds, Path directory) throws Exception {
        Path out = Files.createTempFile("meshhub-e2e", ".out");
        Path err = Files.createTempFile("meshhub-e2e", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (directory != null) {
                builder.directory(directory.toFile());
            }
            builder.environment().putAll(env);
            Process process = builder.start();
            processes.add(process);
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    private record Result(int exit, String stdout, String stderr) {
        void assertExit(int expected) {
            assertEquals("exit code; stdout:\n" + stdout + "\nstderr:\n" + stderr, expected, exit);
        }
    }
}
