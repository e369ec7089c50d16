package dev.meshhub.node;

import static dev.meshhub.node.TaskHarness.permissive;
import static dev.meshhub.node.TaskHarness.strict;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.proto.v1.FileDownload;
import dev.meshhub.proto.v1.PolicyRules;
import dev.meshhub.proto.v1.TaskFinished;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Rule;
import org.junit.Test;

/**
 * Files the hub pushes (DOWNLOAD tasks) against {@link FakeHub}'s Download: written atomically and
 * verified, refused outside the workspace (RELIABILITY 21, 22), never left half-written or with a
 * temporary file behind (27, 28), cancelled and timed out like commands.
 */
public class FileDownloadLoopbackTest {

    private static final int MIB = 1024 * 1024;

    @Rule
    public final TaskHarness harness = new TaskHarness();

    // ---- the hub's side ----

    /** Serves {@code data} in chunks of at most {@code chunk} bytes, from the requested offset. */
    private static FakeHub.DownloadScript serving(byte[] data, int chunk) {
        return (request, chunks) -> {
            for (long offset = request.getOffset(); offset < data.length; offset += chunk) {
                int n = (int) Math.min(chunk, data.length - offset);
                chunks.onNext(DownloadChunk.newBuilder().setOffset(offset)
                        .setData(ByteString.copyFrom(data, (int) offset, n)).build());
            }
            chunks.onCompleted();
        };
    }

    /** Sends the first {@code sent} bytes, then holds the stream open until the node cancels it. */
    private FakeHub.DownloadScript stalling(byte[] data, int sent) {
        return (request, chunks) -> {
            chunks.onNext(DownloadChunk.newBuilder().setOffset(0).setData(ByteString.copyFrom(data, 0, sent)).build());
            // Returns without ending the call: it stays open, stalled. Blocking here instead would hold the
            // call's serialized executor, and the hub could only see the node's cancel once it returned.
        };
    }

    private static FileDownload download(String path, byte[] data) {
        return FileDownload.newBuilder().setTransferId("x-" + path.hashCode()).setPath(path).setSize(data.length)
                .setSha256(ByteString.copyFrom(sha256(data))).build();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String hex(byte[] data) {
        return HexFormat.of().formatHex(sha256(data));
    }

    private static byte[] random(int size) {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        return data;
    }

    // ---- the node's side ----

    /** Every file and directory under the workspace but the agent's own, relative, sorted. */
    private List<String> workspaceTree() throws Exception {
        Path ws = harness.workspace;
        try (Stream<Path> s = Files.walk(ws)) {
            return s.filter(p -> !p.equals(ws) && !p.startsWith(ws.resolve(CredentialStore.DIRECTORY)))
                    .map(p -> ws.relativize(p).toString()).sorted().collect(Collectors.toList());
        }
    }

    private List<String> temporaryFiles() throws Exception {
        return workspaceTree().stream().filter(p -> p.contains(FileDownloader.TEMP_PREFIX)).collect(Collectors.toList());
    }

    /**
     * Until the hub's first chunk (1 MiB) is in the temporary file. The file itself exists before the
     * Download call starts: waiting only for it let a test cancel a call the hub had not yet seen (and so
     * could never see cancelled).
     */
    private void awaitFirstChunkOnDisk() throws InterruptedException {
        Await.until("the first chunk is on disk", () -> {
            try {
                List<String> temps = temporaryFiles();
                return temps.size() == 1 && Files.size(harness.workspace.resolve(temps.get(0))) >= MIB;
            } catch (Exception e) {
                return false;
            }
        });
    }

    private static void assertOutcome(TaskRun run, TaskFinished.Outcome outcome) {
        run.assertWellFormed();
        assertEquals(run.toString(), outcome, run.finished().getOutcome());
        assertFalse("a download has no exit code", run.finished().hasExitCode());
    }

    private static void assertDiagnosticContains(TaskRun run, String... fragments) {
        String diagnostic = run.finished().getDiagnostic();
        for (String fragment : fragments) {
            assertTrue("'" + fragment + "' not in: " + diagnostic, diagnostic.contains(fragment));
        }
    }

    // ---- tests ----

    @Test
    public void aFileArrivesVerifiedInItsPlaceWithParentsCreatedAndNoTemporaryFileLeft() throws Exception {
        byte[] data = random(2 * MIB + 12_345);
        harness.hub.download = serving(data, MIB);
        FakeHub.NodeStream hub = harness.connect(strict(1)); // no program allowed: downloads need none
        hub.assignDownload("t-get", download("logs/2026/app.bin", data));

        TaskRun run = hub.awaitFinished("t-get");
        assertOutcome(run, TaskFinished.Outcome.SUCCEEDED);
        assertTrue("TaskStarted first: " + run, run.isStarted());
        assertEquals("wrote " + data.length + " bytes to logs/2026/app.bin (sha256 " + hex(data) + ")",
                run.finished().getDiagnostic());
        assertArrayEquals(data, Files.readAllBytes(harness.file("logs/2026/app.bin")));
        assertEquals(List.of("logs", "logs/2026", "logs/2026/app.bin"), workspaceTree());

        DownloadRequest request = harness.hub.downloadRequests.poll(Await.DEADLINE_MS, TimeUnit.MILLISECONDS);
        assertEquals(download("logs/2026/app.bin", data).getTransferId(), request.getTransferId());
        assertEquals(0, request.getOffset());
    }

    @Test
    public void anExistingFileIsReplacedAndAnEmptyFileWorksUnderPermissiveToo() throws Exception {
        Files.writeString(harness.file("app.cfg"), "old content\n");
        byte[] fresh = "new content\n".getBytes(StandardCharsets.UTF_8);
        FakeHub.NodeStream hub = harness.connect(permissive(1));

        harness.hub.download = serving(fresh, MIB);
        hub.assignDownload("t-replace", download("app.cfg", fresh));
        assertOutcome(hub.awaitFinished("t-replace"), TaskFinished.Outcome.SUCCEEDED);
        assertArrayEquals(fresh, Files.readAllBytes(harness.file("app.cfg")));

        harness.hub.download = serving(new byte[0], MIB);
        hub.assignDownload("t-empty", download("empty", new byte[0]));
        TaskRun empty = hub.awaitFinished("t-empty");
        assertOutcome(empty, TaskFinished.Outcome.SUCCEEDED);
        assertEquals(0, Files.size(harness.file("empty")));
        assertEquals(List.of("app.cfg", "empty"), workspaceTree());
    }

    @Test
    public void aChecksumMismatchFailsNamingBothDigestsAndLeavesTheOldFile() throws Exception {
        Files.createDirectories(harness.file("conf"));
        Files.writeString(harness.file("conf/app.cfg"), "old content\n");
        byte[] announced = random(300_000);
        byte[] sent = announced.clone();
        sent[123_456] ^= 1;
        harness.hub.download = serving(sent, 64 * 1024);
        FakeHub.NodeStream hub = harness.connect(strict(1));
        hub.assignDownload("t-corrupt", download("conf/app.cfg", announced));

        TaskRun run = hub.awaitFinished("t-corrupt");
        assertOutcome(run, TaskFinished.Outcome.FAILED);
        assertDiagnosticContains(run, "checksum mismatch", "expected sha256 " + hex(announced),
                "received data has sha256 " + hex(sent), "conf/app.cfg left unchanged");
        assertEquals("old content\n", Files.readString(harness.file("conf/app.cfg")));
        assertEquals(List.of("conf", "conf/app.cfg"), workspaceTree());
    }

    @Test
    public void tooFewOrTooManyBytesFailWithTheSizesAndNoTemporaryFile() throws Exception {
        byte[] data = random(100_000);
        FakeHub.NodeStream hub = harness.connect(strict(1));

        harness.hub.download = serving(java.util.Arrays.copyOf(data, 60_000), 16 * 1024);
        hub.assignDownload("t-short", download("short.bin", data));
        TaskRun shortRun = hub.awaitFinished("t-short");
        assertOutcome(shortRun, TaskFinished.Outcome.FAILED);
        assertDiagnosticContains(shortRun, "size mismatch: expected 100000 bytes, received 60000");

        harness.hub.download = serving(java.util.Arrays.copyOf(data, 150_000), 16 * 1024);
        hub.assignDownload("t-long", download("long.bin", data));
        TaskRun longRun = hub.awaitFinished("t-long");
        assertOutcome(longRun, TaskFinished.Outcome.FAILED);
        assertDiagnosticContains(longRun, "size mismatch: the hub sent more than the 100000 bytes it announced");

        harness.hub.download = (request, chunks) -> {
            chunks.onNext(DownloadChunk.newBuilder().setOffset(10).setData(ByteString.copyFrom(data)).build());
            chunks.onCompleted();
        };
        hub.assignDownload("t-gap", download("gap.bin", data));
        TaskRun gap = hub.awaitFinished("t-gap");
        assertOutcome(gap, TaskFinished.Outcome.FAILED);
        assertDiagnosticContains(gap, "the hub sent data at offset 10 where 0 was expected");

        assertEquals("nothing written", List.of(), workspaceTree());
    }

    @Test
    public void hostileDestinationsAreRefusedWithoutWritingOrFetchingAnything() throws Exception {
        Path outside = harness.newFolder("outside");
        Files.writeString(outside.resolve("target"), "outside\n");
        Files.createSymbolicLink(harness.file("out"), outside);
        Files.createSymbolicLink(harness.file("link"), outside.resolve("target"));
        Files.createSymbolicLink(harness.file("secret"), harness.file(CredentialStore.DIRECTORY));
        Files.createDirectories(harness.file("dir"));
        List<String> before = workspaceTree();
        byte[] data = "pwned\n".getBytes(StandardCharsets.UTF_8);
        harness.hub.download = serving(data, MIB);
        FakeHub.NodeStream hub = harness.connect(strict(1));

        List<String> hostile = List.of("../x", "a/../../x", outside.resolve("abs").toString(),
                CredentialStore.DIRECTORY + "/x", CredentialStore.DIRECTORY + "/credential", "secret/x",
                "out/x", "out/new/dir/x", "link", "dir", ".", "", "bad\0name", "a/" + "n".repeat(300));
        for (int i = 0; i < hostile.size(); i++) {
            hub.assignDownload("t-hostile-" + i, download(hostile.get(i), data).toBuilder()
                    .setTransferId("x-" + i).build());
        }
        for (int i = 0; i < hostile.size(); i++) {
            TaskRun run = hub.awaitFinished("t-hostile-" + i);
            String path = hostile.get(i);
            if (path.isEmpty()) {
                assertOutcome(run, TaskFinished.Outcome.FAILED); // not even a destination
                assertDiagnosticContains(run, "without a destination path");
            } else {
                assertOutcome(run, TaskFinished.Outcome.REFUSED);
                assertDiagnosticContains(run, "node " + FakeHub.NODE_ID, "(rule " + PolicyRules.WORKDIR + ")");
            }
            assertEquals("nothing may start for '" + path + "': " + run, 1, run.messages.size());
        }
        assertEquals(before, workspaceTree());
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(List.of(outside.resolve("target")), s.collect(Collectors.toList()));
        }
        assertEquals("outside\n", Files.readString(outside.resolve("target")));
        assertTrue("nothing fetched: " + harness.hub.downloadRequests, harness.hub.downloadRequests.isEmpty());
    }

    @Test
    public void aCancelMidDownloadEndsTheCallAndRemovesTheTemporaryFile() throws Exception {
        Files.writeString(harness.file("big.bin"), "old\n");
        byte[] data = random(4 * MIB);
        harness.hub.download = stalling(data, MIB);
        FakeHub.NodeStream hub = harness.connect(strict(1));
        hub.assignDownload("t-cancel", download("big.bin", data));
        hub.awaitTask("t-cancel", TaskRun::isStarted);
        awaitFirstChunkOnDisk();

        hub.cancel("t-cancel", "changed my mind");
        TaskRun run = hub.awaitFinished("t-cancel");
        assertOutcome(run, TaskFinished.Outcome.CANCELLED);
        assertEquals("cancelled by the hub: changed my mind", run.finished().getDiagnostic());
        assertTrue("the hub saw the call cancelled",
                harness.hub.downloadCancelled.await(Await.DEADLINE_MS, TimeUnit.MILLISECONDS));
        assertEquals(List.of("big.bin"), workspaceTree());
        assertEquals("old\n", Files.readString(harness.file("big.bin")));
    }

    @Test
    public void aStalledDownloadTimesOutAndRemovesTheTemporaryFile() throws Exception {
        byte[] data = random(2 * MIB);
        harness.hub.download = stalling(data, 1000);
        FakeHub.NodeStream hub = harness.connect(strict(1));
        hub.assignDownload("t-slow", download("slow.bin", data).toBuilder().setTimeoutMs(300).build());

        TaskRun run = hub.awaitFinished("t-slow");
        assertOutcome(run, TaskFinished.Outcome.TIMED_OUT);
        assertEquals("timed out after 300 ms", run.finished().getDiagnostic());
        assertTrue(harness.hub.downloadCancelled.await(Await.DEADLINE_MS, TimeUnit.MILLISECONDS));
        assertEquals(List.of(), workspaceTree());
    }

    @Test
    public void theHubEndingTheStreamWithAnErrorFailsWithItsStatus() throws Exception {
        byte[] data = random(3 * MIB);
        harness.hub.download = (request, chunks) -> {
            chunks.onNext(DownloadChunk.newBuilder().setOffset(0).setData(ByteString.copyFrom(data, 0, MIB)).build());
            chunks.onError(Status.NOT_FOUND.withDescription("transfer " + request.getTransferId()
                    + " expired; push the file again").asRuntimeException());
        };
        FakeHub.NodeStream hub = harness.connect(strict(1));
        FileDownload spec = download("gone.bin", data);
        hub.assignDownload("t-gone", spec);

        TaskRun run = hub.awaitFinished("t-gone");
        assertOutcome(run, TaskFinished.Outcome.FAILED);
        assertEquals("the hub ended the download: NOT_FOUND: transfer " + spec.getTransferId()
                + " expired; push the file again; gone.bin left unchanged", run.finished().getDiagnostic());
        assertEquals(List.of(), workspaceTree());
    }

    @Test
    public void theDownloadCarriesTheNodeCredentialAndARevokedOneFails() throws Exception {
        byte[] data = random(1000);
        harness.hub.download = serving(data, MIB);
        FakeHub.NodeStream hub = harness.connect(strict(1));
        harness.hub.validCredentials.clear(); // revoked after the session opened
        hub.assignDownload("t-revoked", download("r.bin", data));

        TaskRun run = hub.awaitFinished("t-revoked");
        assertOutcome(run, TaskFinished.Outcome.FAILED);
        assertDiagnosticContains(run, "UNAUTHENTICATED: unknown or revoked credential");
        assertTrue(harness.hub.downloadRequests.isEmpty());

        harness.hub.validCredentials.add(FakeHub.CREDENTIAL);
        hub.assignDownload("t-ok", download("r.bin", data));
        assertOutcome(hub.awaitFinished("t-ok"), TaskFinished.Outcome.SUCCEEDED);
        assertEquals(List.of("r.bin"), workspaceTree());
    }

    @Test
    public void aMalformedAssignmentFailsAtOnceAndDownloadsCountTowardsTheTaskLimit() throws Exception {
        byte[] data = random(2 * MIB);
        harness.hub.download = stalling(data, 1000);
        FakeHub.NodeStream hub = harness.connect(strict(1), b -> b.maxTasks(1));

        hub.assignDownload("t-bad-sum", download("x", data).toBuilder()
                .setSha256(ByteString.copyFrom(new byte[16])).build());
        TaskRun bad = hub.awaitFinished("t-bad-sum");
        assertOutcome(bad, TaskFinished.Outcome.FAILED);
        assertDiagnosticContains(bad, "SHA-256 has 16 bytes instead of 32");
        assertEquals(1, bad.messages.size());

        hub.assignDownload("t-first", download("first.bin", data));
        hub.awaitTask("t-first", TaskRun::isStarted);
        hub.assignDownload("t-second", download("second.bin", data));
        TaskRun second = hub.awaitFinished("t-second");
        assertEquals("node is busy: 1 tasks running", second.finished().getDiagnostic());

        hub.cancel("t-first", "");
        assertOutcome(hub.awaitFinished("t-first"), TaskFinished.Outcome.CANCELLED);
        assertEquals(List.of(), workspaceTree());
    }

    @Test
    public void stoppingTheAgentMidDownloadLeavesNoTemporaryFile() throws Exception {
        byte[] data = random(2 * MIB);
        harness.hub.download = stalling(data, MIB);
        FakeHub.NodeStream hub = harness.connect(strict(1));
        hub.assignDownload("t-stop", download("stop.bin", data));
        hub.awaitTask("t-stop", TaskRun::isStarted);
        awaitFirstChunkOnDisk();
        harness.agent.close();
        assertEquals("close() waited for the download to clean up", List.of(), workspaceTree());
    }
}
