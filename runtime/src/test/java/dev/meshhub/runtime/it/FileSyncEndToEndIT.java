package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.MeshStatusInfo;

/**
 * File sync with real processes: a 1 GiB file pulled from a node process into the hub's mirror,
 * the node killed halfway (its lock released at once, the partial kept), the pull resumed without
 * resending what the hub holds, and hostile paths refused.
 */
public class FileSyncEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;
    private static final long SIZE = 1024L * 1024 * 1024;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest()
            // Snapshots every 100 ms, so the live lock count is seen soon after the kill.
            .withHubEnvironment("MESHHUB_MONITOR_MESHHUB__MANAGEMENT__PERIOD", "100")
            .withHubEnvironment("MESHHUB_MONITOR_MESHHUB__MANAGEMENT__UNIT", "MILLISECONDS")
            .withHubEnvironment("MESHHUB_MONITOR_MESHHUB__MANAGEMENT__TIME_LIMIT", "10000");

    @Test
    public void aGigabytePullSurvivesTheNodeBeingKilledHalfwayAndResumes() throws Exception {
        Process node = runtime.enrolledNode("filer");
        Path workspace = runtime.home.resolve("filer-workspace");
        String sha256 = writeRandomFile(workspace.resolve("big.bin"), SIZE);

        Process firstPull = runtime.meshctlInBackground("pull-1", "sync", "pull", "filer", "big.bin");
        Path partials = runtime.home.resolve("data/mirror/.partial");
        Poll.until("a partial of 64 MiB or more", PATIENCE, () -> partialBytes(partials) >= 64L * 1024 * 1024);
        node.destroyForcibly().waitFor();
        long killedAt = System.currentTimeMillis();
        long killed = System.nanoTime();
        assertTrue("the first pull ends", firstPull.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(1, firstPull.exitValue());
        String firstErr = runtime.log("pull-1.err");
        assertTrue(firstErr, firstErr.contains("meshctl: "));

        MeshStatusInfo[] after = new MeshStatusInfo[1];
        Poll.until("a snapshot after the kill with no live lock", PATIENCE, () -> {
            after[0] = status();
            return after[0] != null && after[0].getTakenAtMs() > killedAt && after[0].getLocksKnown() && after[0].getLiveLocks() == 0;
        });
        System.out.printf("meshhub e2e: node killed mid-upload; live locks 0 in a snapshot %d ms after the kill (seen after %d ms)%n",
                after[0].getTakenAtMs() - killedAt, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
        long held = partialBytes(partials);
        assertTrue("a resumable partial is kept: " + held, held > 0 && held < SIZE);
        assertTrue("nothing half-written appears in the mirror",
                !Files.exists(runtime.home.resolve("data/mirror").resolve(nodeId()).resolve("big.bin")));

        // The node comes back with its stored credential; the pull resumes from what the hub holds.
        runtime.meshnode(workspace);
        Poll.until("filer back", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"filer\""));
        long started = System.nanoTime();
        RuntimeUnderTest.Result resumed = runtime.meshctl("sync", "pull", "filer", "big.bin").assertExit(0);
        long tookMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        assertTrue(resumed.stdout(), resumed.stdout().contains("sha256 " + sha256));
        assertTrue(resumed.stdout(), resumed.stdout().contains("resumed"));
        Path mirrored = Path.of(resumed.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(runtime.home.resolve("data/mirror").resolve(nodeId()).resolve("big.bin").toRealPath(), mirrored.toRealPath());
        assertEquals("the mirrored file is the node's file", sha256, sha256(mirrored));
        assertEquals("no partial left", 0, partialBytes(partials));
        String hubLog = runtime.log("hub.log");
        java.util.regex.Matcher done = java.util.regex.Pattern.compile("done: " + SIZE + " bytes \\((\\d+) sent, (\\d+) resumed\\), sha256 "
                + sha256).matcher(hubLog);
        assertTrue(hubLog, done.find());
        assertEquals("what the hub held was not sent again", held, Long.parseLong(done.group(2)));
        assertEquals(SIZE - held, Long.parseLong(done.group(1)));
        assertTrue("progress shown: " + resumed.stderr(), resumed.stderr().contains("pull filer:big.bin: resuming at"));
        System.out.printf("meshhub e2e: resumed pull of the remaining %d MiB of 1 GiB took %d ms (%d MiB/s)%n",
                (SIZE - held) >> 20, tookMs, ((SIZE - held) >> 20) * 1000 / tookMs);
    }

    @Test
    public void hostilePathsAndMissingFilesAreRefusedClearly() throws Exception {
        runtime.enrolledNode("careful");
        RuntimeUnderTest.Result escape = runtime.meshctl("sync", "pull", "careful", "../outside.txt");
        assertEquals(1, escape.exit());
        assertTrue(escape.stderr(), escape.stderr().contains("'..'"));
        RuntimeUnderTest.Result absolute = runtime.meshctl("sync", "pull", "careful", "/etc/passwd");
        assertEquals(1, absolute.exit());
        assertTrue(absolute.stderr(), absolute.stderr().contains("absolute"));
        RuntimeUnderTest.Result missing = runtime.meshctl("sync", "pull", "careful", "no/such/file.txt");
        assertEquals(1, missing.exit());
        assertTrue(missing.stderr(), missing.stderr().contains("does not exist in the node's workspace"));
        // The node's private key is in its private directory: never pulled.
        RuntimeUnderTest.Result key = runtime.meshctl("sync", "pull", "careful", ".meshnode/node.key");
        assertEquals(1, key.exit());
        assertTrue(key.stderr(), key.stderr().contains("private directory"));
        RuntimeUnderTest.Result offline = runtime.meshctl("sync", "pull", "nobody", "x");
        assertEquals(1, offline.exit());
        assertTrue(offline.stderr(), offline.stderr().contains("no enrolled node"));
        MeshStatusInfo status = status();
        assertTrue(status == null || status.getLiveLocks() == 0);
    }

    @Test
    public void aNodeMirrorsAFolderAndTheHubPushesFilesBack() throws Exception {
        Path workspace = runtime.home.resolve("keeper-workspace");
        Files.createDirectories(workspace.resolve("logs/sub"));
        Files.writeString(workspace.resolve("logs/a.txt"), "first\n");
        Files.writeString(workspace.resolve("logs/sub/b.txt"), "nested\n");
        Path outside = runtime.home.resolve("outside-secret.txt");
        Files.writeString(outside, "never mirrored\n");
        Files.createSymbolicLink(workspace.resolve("logs/link.txt"), outside);
        String token = runtime.meshctl("invite", "create").assertExit(0).stdout().strip();
        Process node = runtime.meshnode(workspace, "--token", token, "--name", "keeper", "--sync-folder", "logs",
                "--sync-interval", "1");
        Poll.until("keeper listed", PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"keeper\""));
        Path mirror = runtime.home.resolve("data/mirror").resolve(nodeId("keeper"));
        Poll.until("the folder mirrored", PATIENCE, () -> read(mirror.resolve("logs/a.txt")).equals("first\n")
                && read(mirror.resolve("logs/sub/b.txt")).equals("nested\n"));
        Files.writeString(workspace.resolve("logs/a.txt"), "second, longer\n");
        Poll.until("a changed file mirrored again", PATIENCE, () -> read(mirror.resolve("logs/a.txt")).equals("second, longer\n"));
        assertTrue("a symlink out of the workspace is never followed", !Files.exists(mirror.resolve("logs/link.txt")));

        // Push a file from the hub's machine, then one from the mirror, into the node's workspace.
        Path local = runtime.home.resolve("to-push.bin");
        byte[] data = new byte[5 * 1024 * 1024 + 3];
        new Random(7).nextBytes(data);
        Files.write(local, data);
        RuntimeUnderTest.Result pushed = runtime.meshctl("sync", "push", "keeper", local.toString(), "in/pushed.bin").assertExit(0);
        assertTrue(pushed.stdout(), pushed.stdout().contains("pushed"));
        assertTrue(java.util.Arrays.equals(data, Files.readAllBytes(workspace.resolve("in/pushed.bin"))));
        runtime.meshctl("sync", "push", "keeper", "mirror:keeper/logs/sub/b.txt", "in/copy.txt").assertExit(0);
        assertEquals("nested\n", Files.readString(workspace.resolve("in/copy.txt")));
        String tasks = runtime.meshctl("tasks", "--node", "keeper", "--json").assertExit(0).stdout();
        assertTrue(tasks, tasks.contains("\"push\""));
        try (Stream<Path> left = Files.walk(workspace)) {
            assertTrue("no download temp left", left.noneMatch(p -> p.getFileName().toString().startsWith(".meshhub-download-")));
        }
        RuntimeUnderTest.Result escape = runtime.meshctl("sync", "push", "keeper", local.toString(), "../escaped.bin");
        assertEquals(1, escape.exit());
        assertTrue(!Files.exists(runtime.home.resolve("escaped.bin")));
        assertTrue(node.isAlive());
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private String nodeId(String name) throws Exception {
        return runtime.admin().listNodes(dev.meshhub.proto.v1.ListNodesRequest.newBuilder().setIncludeOffline(true).build())
                .getNodesList().stream().filter(n -> n.getName().equals(name)).findFirst().orElseThrow().getNodeId();
    }

    private String nodeId() throws Exception {
        return runtime.admin().listNodes(dev.meshhub.proto.v1.ListNodesRequest.newBuilder().setIncludeOffline(true).build()).getNodesList().stream()
                .filter(n -> n.getName().equals("filer")).findFirst().orElseThrow().getNodeId();
    }

    private MeshStatusInfo status() {
        try {
            return runtime.admin().getMeshStatus(GetMeshStatusRequest.getDefaultInstance());
        } catch (Exception e) {
            return null;
        }
    }

    private static long partialBytes(Path partials) {
        if (!Files.isDirectory(partials)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(partials)) {
            List<Path> parts = files.filter(p -> p.toString().endsWith(".part")).collect(Collectors.toList());
            long total = 0;
            for (Path part : parts) {
                try {
                    total += Files.size(part);
                } catch (IOException gone) {
                    // finished or removed meanwhile
                }
            }
            return total;
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    /** A file of pseudo-random bytes (fast to make, not compressible); returns its SHA-256. */
    private static String writeRandomFile(Path file, long size) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        Random random = new Random(42);
        byte[] block = new byte[1024 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < size; written += block.length) {
                random.nextBytes(block);
                digest.update(block);
                out.write(block);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (DigestInputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
