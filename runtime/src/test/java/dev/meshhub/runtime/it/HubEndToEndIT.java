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

import org.junit.Rule;
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

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    @Test
    public void aNodeEnrollsIsListedLeavesWhenKilledAndIsRevoked() throws Exception {
        RuntimeUnderTest.Result invite = runtime.meshctl("invite", "create", "--ttl", "10m");
        invite.assertExit(0);
        String token = invite.stdout().strip();
        assertTrue("the token alone on stdout: " + invite.stdout(), token.matches("mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}"));

        Path workspace = runtime.home.resolve("node-workspace");
        Process node = runtime.meshnode(workspace, "--token", token, "--name", "e2e-node");
        Poll.until("e2e-node listed by meshctl", PATIENCE, () -> runtime.meshctlQuietly("nodes", "--json").contains("\"e2e-node\""));
        RuntimeUnderTest.Result table = runtime.meshctl("nodes");
        table.assertExit(0);
        assertTrue(table.stdout(), table.stdout().contains("e2e-node") && table.stdout().contains("127.0.0.1:"));
        Path state = runtime.nodeState(workspace);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
        for (String file : List.of("node.key", "node.crt", "hub-ca.pem")) {
            assertEquals(file, "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(file))));
        }
        assertFalse("nothing private in the workspace, where tasks run", Files.exists(workspace.resolve(".meshnode")));
        assertFalse("a certified node keeps no bearer credential", Files.exists(state.resolve("credential")));
        String nodeKey = Files.readString(state.resolve("node.key")).replaceAll("-----[A-Z ]+-----|\\s", "");

        // The invite cannot be used twice.
        Process thief = runtime.meshnode(runtime.home.resolve("thief-workspace"), "--token", token, "--name", "thief");
        assertTrue("the second use of the token ends the agent", thief.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(2, thief.exitValue());
        assertTrue(runtime.log("thief-workspace.log"), runtime.log("thief-workspace.log").contains("already used"));

        // Killing the node removes it from the list at once.
        node.destroyForcibly().waitFor();
        long killed = System.nanoTime();
        Poll.until("e2e-node gone after kill -9", PATIENCE, () -> !runtime.listNodes().contains("e2e-node"));
        long goneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        System.out.printf("meshhub e2e: node gone from the list %d ms after kill -9%n", goneMillis);
        assertTrue("gone within a second, took " + goneMillis + " ms", goneMillis <= 1000);

        // Restarted without a token (or pin), the node comes back with its stored certificate.
        Process again = runtime.meshnode(workspace, "--name", "e2e-node");
        Poll.until("e2e-node back", PATIENCE, () -> runtime.listNodes().contains("e2e-node"));

        RuntimeUnderTest.Result missing = runtime.meshctl("revoke", "no-such-node");
        assertEquals(1, missing.exit());
        assertEquals("one line on stderr: " + missing.stderr(), 1, missing.stderr().strip().lines().count());
        assertTrue(missing.stderr(), missing.stderr().startsWith("meshctl: "));

        RuntimeUnderTest.Result revoke = runtime.meshctl("revoke", "e2e-node");
        revoke.assertExit(0);
        assertTrue(revoke.stdout(), revoke.stdout().contains("live session closed"));
        assertTrue("a revoked agent stops", again.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(3, again.exitValue());

        // A second hub on the same directory is refused while the first runs.
        RuntimeUnderTest.Result second = runtime.run(List.of(runtime.home.resolve("bin/meshhub").toString()), runtime.hubEnvironment(), 60, null);
        assertEquals(1, second.exit());
        assertTrue(second.stderr(), second.stderr().contains("already running"));

        // SIGTERM stops the hub cleanly.
        runtime.hub.destroy();
        assertTrue("the hub stops on SIGTERM", runtime.hub.waitFor(60, TimeUnit.SECONDS));
        assertEquals("clean exit; log:\n" + runtime.log("hub.log"), 0, runtime.hub.exitValue());

        // The invite token is not stored in plain text, and the node's private key never reached the hub.
        String tokenSecret = token.substring(token.lastIndexOf('.') + 1);
        byte[] keyDer = java.util.Base64.getDecoder().decode(nodeKey);
        String keyBytes = new String(java.util.Arrays.copyOfRange(keyDer, keyDer.length - 32, keyDer.length), StandardCharsets.ISO_8859_1);
        try (Stream<Path> files = Files.walk(runtime.home.resolve("data"))) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertFalse("token secret in " + file, bytes.contains(tokenSecret));
                assertFalse("the node's private key in " + file, bytes.contains(nodeKey) || bytes.contains(keyBytes));
            }
        }
    }

    @Test
    public void theHubStartsFromTheClassArchiveItsLastCleanRunLeftAndMakesItAgainWhenItIsStale() throws Exception {
        Path cds = runtime.home.resolve("data/cds");
        // A start refused (another hub holds the lock) writes no archive the next start would take.
        RuntimeUnderTest.Result refused = runtime.run(List.of(runtime.home.resolve("bin/meshhub").toString()), runtime.hubEnvironment(), 60, null);
        assertEquals(refused.toString(), 1, refused.exit());
        assertTrue("nothing but the refusal on stderr: " + refused.stderr(), refused.stderr().strip().lines().count() == 1);
        assertEquals(List.of(), filesUnder(cds, ".complete"));

        // The first run, stopped cleanly, leaves an archive and says it is whole.
        stopHub();
        assertEquals(1, filesUnder(cds, ".jsa.new").size());
        assertEquals(1, filesUnder(cds, ".jsa.new.complete").size());

        // The next start takes it; -Xshare:on makes the JVM refuse to start if it cannot use it.
        runtime.withHubEnvironment("JAVA_OPTS", "-Xshare:on");
        runtime.startHub();
        assertEquals(1, filesUnder(cds, ".jsa").size());
        assertEquals(List.of(), filesUnder(cds, ".new"));
        String log = runtime.log("hub.log");
        assertFalse("no JVM noise about the archive:\n" + log, log.contains("][warning][") || log.contains("[cds"));
        stopHub();
        assertEquals("a run with an archive writes none", List.of(), filesUnder(cds, ".new"));

        // A newer launcher makes it stale: that start goes without, and its clean stop makes a new one.
        Path archive = filesUnder(cds, ".jsa").get(0);
        Path launcher;
        try (Stream<Path> jars = Files.list(runtime.home.resolve("lib/boot"))) {
            launcher = jars.filter(p -> p.getFileName().toString().startsWith("runtime-")).findFirst().orElseThrow();
        }
        Files.setLastModifiedTime(launcher, java.nio.file.attribute.FileTime.fromMillis(
                Files.getLastModifiedTime(archive).toMillis() + 2000));
        runtime.withHubEnvironment("JAVA_OPTS", "");
        runtime.startHub();
        assertEquals("the stale archive is gone", List.of(), filesUnder(cds, ".jsa"));
        stopHub();
        assertEquals(1, filesUnder(cds, ".jsa.new.complete").size());

        // The caller's -Xshare:off wins: the hub starts without class sharing and writes nothing.
        runtime.withHubEnvironment("JAVA_OPTS", "-Xshare:off");
        runtime.startHub();
        stopHub();
        assertEquals("the archive of the run before is left as it was", 1, filesUnder(cds, ".jsa.new.complete").size());
    }

    @Test
    public void meshnodeStartsFromTheClassArchiveOfItsLastRunStoppedBySignal() throws Exception {
        Path cache = runtime.home.resolve("cache/meshhub"); // meshctl keeps its own archive there too
        String token = runtime.meshctl("invite", "create").assertExit(0).stdout().strip();
        Path workspace = runtime.home.resolve("cds-workspace");
        Process node = runtime.meshnode(workspace, "--token", token, "--name", "cds-node");
        Poll.until("cds-node listed", PATIENCE, () -> runtime.listNodes().contains("cds-node"));
        node.destroy();
        assertTrue(node.waitFor(60, TimeUnit.SECONDS));
        assertEquals(runtime.log("cds-workspace.log"), 0, node.exitValue());
        assertEquals(1, nodeArchives(cache, ".new").size());
        assertEquals(1, nodeArchives(cache, ".new.complete").size());
        Poll.until("cds-node gone", PATIENCE, () -> !runtime.listNodes().contains("cds-node"));

        // The next start takes it; -Xshare:on makes the JVM refuse to start if it cannot use it.
        runtime.withNodeEnvironment("JAVA_OPTS", "-Xshare:on");
        Process again = runtime.meshnode(workspace, "--name", "cds-node");
        Poll.until("cds-node back", PATIENCE, () -> !again.isAlive() || runtime.listNodes().contains("cds-node"));
        assertTrue("the agent runs with the archive; log:\n" + runtime.log("cds-workspace.log"), again.isAlive());
        assertEquals(1, nodeArchives(cache, ".jsa").size());
        assertEquals(List.of(), nodeArchives(cache, ".new"));
        String log = runtime.log("cds-workspace.log");
        assertFalse("no JVM noise about the archive:\n" + log, log.contains("][warning][") || log.contains("[cds"));
        again.destroy();
        assertTrue(again.waitFor(60, TimeUnit.SECONDS));
        assertEquals("a run with an archive writes none", List.of(), nodeArchives(cache, ".new"));

        // The caller's -Xshare:off wins: the agent starts without class sharing and writes nothing.
        Poll.until("cds-node gone", PATIENCE, () -> !runtime.listNodes().contains("cds-node"));
        runtime.withNodeEnvironment("JAVA_OPTS", "-Xshare:off");
        Process plain = runtime.meshnode(workspace, "--name", "cds-node");
        Poll.until("cds-node back without sharing", PATIENCE, () -> !plain.isAlive() || runtime.listNodes().contains("cds-node"));
        assertTrue("the agent runs with -Xshare:off; log:\n" + runtime.log("cds-workspace.log"), plain.isAlive());
        plain.destroy();
        assertTrue(plain.waitFor(60, TimeUnit.SECONDS));
        assertEquals(List.of(), nodeArchives(cache, ".new"));
    }

    private void stopHub() throws Exception {
        runtime.hub.destroy();
        assertTrue("the hub stops on SIGTERM", runtime.hub.waitFor(60, TimeUnit.SECONDS));
        assertEquals("clean exit; log:\n" + runtime.log("hub.log"), 0, runtime.hub.exitValue());
    }

    /** meshnode's files under the cache (meshctl's sit beside them). */
    private static List<Path> nodeArchives(Path cache, String suffix) throws IOException {
        return filesUnder(cache, suffix).stream().filter(p -> p.toString().contains("/meshnode/")).toList();
    }

    private static List<Path> filesUnder(Path directory, String suffix) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(suffix)).toList();
        }
    }

    @Test
    public void meshctlWithoutAHubSaysSoInOneLine() throws Exception {
        RuntimeUnderTest.Result result = runtime.run(List.of(runtime.home.resolve("bin/meshctl").toString(), "--hub", "127.0.0.1:" + HubTestSupport.freePort(), "nodes"),
                Map.of(), 60, null);
        assertEquals(1, result.exit());
        assertTrue(result.stderr(), result.stderr().contains("cannot reach"));
        assertEquals(1, result.stderr().strip().lines().count());
    }

    @Test
    public void meshctlMakesItsClassArchiveOnceInTheBackgroundAndPrintsNothingMoreForIt() throws Exception {
        Path cache = runtime.home.resolve("cds-cache");
        Map<String, String> env = Map.of("XDG_CACHE_HOME", cache.toString());
        List<String> call = List.of(runtime.home.resolve("bin/meshctl").toString(), "--hub", "127.0.0.1:" + HubTestSupport.freePort(), "nodes");
        assertOneLineRefusal(runtime.run(call, env, 60, null));
        Poll.until("the archive made by the first call", PATIENCE, () -> archive(cache) != null && !lockHeld(cache));
        Path archive = archive(cache);
        long made = Files.getLastModifiedTime(archive).toMillis();

        assertOneLineRefusal(runtime.run(call, env, 60, null)); // with the archive: the same output, no JVM warning
        // A newer meshctl (here: a jar touched) makes the archive stale: not used (no warning), made again.
        Path jar;
        try (Stream<Path> jars = Files.list(runtime.home.resolve("lib/cli"))) {
            jar = jars.filter(p -> p.getFileName().toString().startsWith("meshctl-")).findFirst().orElseThrow();
        }
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(made + 2000));
        assertOneLineRefusal(runtime.run(call, env, 60, null));
        Poll.until("the archive made again", PATIENCE, () -> {
            try {
                Path again = archive(cache);
                return again != null && !lockHeld(cache) && Files.getLastModifiedTime(again).toMillis() > made;
            } catch (java.io.IOException e) {
                return false;
            }
        });
        assertOneLineRefusal(runtime.run(call, Map.of("XDG_CACHE_HOME", cache.toString(), "MESHHUB_CDS", "off"), 60, null));

        // A cache path the JVM's options cannot carry (a space): meshctl runs without an archive and makes none.
        Path spaced = runtime.home.resolve("cds cache");
        assertOneLineRefusal(runtime.run(call, Map.of("XDG_CACHE_HOME", spaced.toString()), 60, null));
        assertFalse("no cache directory, no training run", Files.exists(spaced));
    }

    private static void assertOneLineRefusal(RuntimeUnderTest.Result result) {
        assertEquals(result.toString(), 1, result.exit());
        assertEquals("nothing on stdout: " + result, "", result.stdout());
        assertEquals("one line on stderr: " + result, 1, result.stderr().strip().lines().count());
        assertTrue(result.stderr(), result.stderr().startsWith("meshctl: ") && result.stderr().contains("cannot reach"));
    }

    /** The archive, wherever under the cache (its path mirrors the meshhub home's and the JDK's). */
    private static Path archive(Path cache) {
        try (Stream<Path> files = Files.walk(cache.resolve("meshhub"))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jsa")).findFirst().orElse(null);
        } catch (java.io.IOException | java.io.UncheckedIOException e) { // a file renamed while walked
            return null;
        }
    }

    private static boolean lockHeld(Path cache) {
        try (Stream<Path> files = Files.walk(cache.resolve("meshhub"))) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".lock"));
        } catch (java.io.IOException | java.io.UncheckedIOException e) { // a file renamed while walked
            return true;
        }
    }
}
