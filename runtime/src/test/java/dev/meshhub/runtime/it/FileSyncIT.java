package dev.meshhub.runtime.it;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.proto.v1.UploadResponse;
import io.grpc.Status;

/**
 * The Upload stream against the real bundles (transport, locks, mirror, journal): every bad chunk
 * sequence, a checksum mismatch, two uploads of one path, hostile paths and a node whose session
 * ends mid-upload; after each, the lock count, the open files and the partials are where they were.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FileSyncIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final int MIB = 1024 * 1024;

    @Inject
    private LockRegistry locks;

    @Inject
    private dev.meshhub.api.sync.FileTransfers transfers;

    @Inject
    private dev.meshhub.api.task.TaskJournal journal;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("FileSyncIT", Map.of(), "meshhub");
    }

    @Test
    public void chunksOutOfOrderAreRefusedWithTheExpectedOffsetAndTheUploadResumes() throws Exception {
        TestNode node = hub.enroll("orderly");
        byte[] data = random(3 * MIB, 1);
        int filesBefore = openFiles();
        try (TestUpload upload = node.upload()) {
            assertEquals(0, upload.start("logs/app.bin", data.length));
            upload.chunk(0, slice(data, 0, MIB)).chunk(2L * MIB, slice(data, 2 * MIB, MIB));
            Status gap = upload.awaitEnd(10);
            assertEquals(Status.Code.OUT_OF_RANGE, gap.getCode());
            assertTrue(gap.getDescription(), gap.getDescription().contains("expected " + MIB));
        }
        awaitNoLocks();
        assertEquals("the first chunk is kept for a resume", MIB, partialBytes(node));

        for (long wrong : new long[] {0, MIB - 1, MIB + 1, -1, Long.MAX_VALUE}) {
            try (TestUpload upload = node.upload()) {
                assertEquals("the hub says what it holds", MIB, upload.start("logs/app.bin", data.length));
                upload.chunk(wrong, slice(data, 0, 16));
                Status refused = upload.awaitEnd(10);
                assertEquals("offset " + wrong, Status.Code.OUT_OF_RANGE, refused.getCode());
                assertTrue(refused.getDescription(), refused.getDescription().contains("expected " + MIB)
                        || refused.getDescription().contains("resend from " + MIB));
            }
            awaitNoLocks();
            assertEquals("a refused chunk writes nothing", MIB, partialBytes(node));
        }

        try (TestUpload upload = node.upload()) {
            assertEquals(MIB, upload.start("logs/app.bin", data.length));
            upload.chunk(MIB, slice(data, MIB, MIB)).chunk(2L * MIB, slice(data, 2 * MIB, MIB))
                    .end(data.length, TestUpload.sha256(data));
            UploadResponse done = upload.received.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(String.valueOf(done), done != null && done.hasDone());
            assertEquals(HexFormat.of().formatHex(TestUpload.sha256(data)), done.getDone().getSha256());
            assertEquals(Status.Code.OK, upload.awaitEnd(10).getCode());
        }
        assertArrayEquals(data, Files.readAllBytes(mirror(node).resolve("logs/app.bin")));
        awaitNoLocks();
        assertEquals("no partial left", 0, partialBytes(node));
        Poll.until("open files back to where they were", PATIENCE, () -> openFiles() <= filesBefore + 2);
    }

    @Test
    public void aChecksumMismatchLeavesTheDestinationUntouchedAndNamesBothDigests() throws Exception {
        TestNode node = hub.enroll("checked");
        byte[] old = "old content\n".getBytes(StandardCharsets.UTF_8);
        upload(node, "notes.txt", old);
        byte[] fresh = "new content\n".getBytes(StandardCharsets.UTF_8);
        byte[] wrong = TestUpload.sha256("something else".getBytes(StandardCharsets.UTF_8));
        try (TestUpload upload = node.upload()) {
            assertEquals(0, upload.start("notes.txt", fresh.length));
            upload.chunk(0, fresh).end(fresh.length, wrong);
            Status mismatch = upload.awaitEnd(10);
            assertEquals(Status.Code.DATA_LOSS, mismatch.getCode());
            assertTrue(mismatch.getDescription(), mismatch.getDescription().contains(HexFormat.of().formatHex(wrong)));
            assertTrue(mismatch.getDescription(), mismatch.getDescription().contains(HexFormat.of().formatHex(TestUpload.sha256(fresh))));
        }
        assertArrayEquals("the old file is untouched", old, Files.readAllBytes(mirror(node).resolve("notes.txt")));
        awaitNoLocks();
        assertEquals("the bad partial is gone", 0, partialBytes(node));

        try (TestUpload upload = node.upload()) {
            assertEquals(0, upload.start("notes.txt", fresh.length));
            upload.chunk(0, fresh).end(fresh.length + 1, TestUpload.sha256(fresh));
            assertEquals(Status.Code.DATA_LOSS, upload.awaitEnd(10).getCode());
        }
        assertArrayEquals(old, Files.readAllBytes(mirror(node).resolve("notes.txt")));
        awaitNoLocks();
    }

    @Test
    public void twoUploadsOfOnePathAtOnceNeverInterleave() throws Exception {
        TestNode node = hub.enroll("twice");
        byte[] data = random(MIB, 2);
        try (TestUpload first = node.upload();
             TestUpload second = node.upload()) {
            assertEquals(0, first.start("same.bin", data.length));
            assertEquals(1, locks.stats().live());
            second.startOnly("same.bin", data.length);
            Status refused = second.awaitEnd(10);
            assertEquals(Status.Code.ABORTED, refused.getCode());
            assertTrue(refused.getDescription(), refused.getDescription().contains("being uploaded already"));
            first.chunk(0, data).end(data.length, TestUpload.sha256(data));
            assertEquals(Status.Code.OK, first.awaitEnd(10).getCode());
        }
        assertArrayEquals(data, Files.readAllBytes(mirror(node).resolve("same.bin")));
        awaitNoLocks();
    }

    @Test
    public void hostilePathsAreRefusedAndNothingIsWritten() throws Exception {
        TestNode node = hub.enroll("hostile");
        List<String> paths = List.of("../escape.txt", "/etc/passwd", "%2e%2e/escape.txt", "", "a/../../b",
                "nul\u0000byte", "x".repeat(5000), "a//b", "C:\\windows");
        for (String path : paths) {
            try (TestUpload upload = node.upload()) {
                upload.startOnly(path, 10);
                Status refused = upload.awaitEnd(10);
                assertEquals(path, Status.Code.INVALID_ARGUMENT, refused.getCode());
                assertFalse(refused.getDescription(), refused.getDescription().isBlank());
            }
        }
        awaitNoLocks();
        assertFalse("nothing outside the mirror", Files.exists(hub.home.resolve("data/escape.txt")));
        assertFalse(Files.exists(hub.home.resolve("escape.txt")));
        assertEquals(0, partialBytes(node));
    }

    @Test
    public void theAgentsPrivateDirectoryIsRefusedByTheHubForEveryKindOfTransfer() throws Exception {
        TestNode node = hub.enroll("private");
        for (String path : List.of(".meshnode/credential", ".MESHNODE/node.key", "%2emeshnode/hub-ca.pem")) {
            try (TestUpload upload = node.upload()) {
                upload.startOnly(path, 10);
                Status refused = upload.awaitEnd(10);
                assertEquals(path, Status.Code.INVALID_ARGUMENT, refused.getCode());
                assertTrue(refused.getDescription(), refused.getDescription().contains("rule path.private"));
            }
        }
        try (TestStream stream = node.stream().hello().keepAlive()) {
            Poll.until("private listed", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
            java.nio.file.Path source = Files.writeString(hub.home.resolve("private-source.txt"), "x");
            for (java.util.concurrent.Callable<?> transfer : List.<java.util.concurrent.Callable<?>>of(
                    () -> transfers.pull("private", ".meshnode/node.key", null),
                    () -> transfers.push("private", source.toString(), ".meshnode/hub-ca.pem", null),
                    // A mirror source is resolved as the push starts: its refusal ends the transfer.
                    () -> transfers.push("private", "mirror:private/.meshnode/credential", "copy.txt", null).result()
                            .toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS))) {
                Exception failed = org.junit.Assert.assertThrows(Exception.class, transfer::call);
                Throwable cause = failed instanceof java.util.concurrent.ExecutionException ? failed.getCause() : failed;
                assertTrue(String.valueOf(cause), cause instanceof dev.meshhub.api.sync.TransferException);
                assertEquals(dev.meshhub.api.sync.TransferException.Reason.INVALID,
                        ((dev.meshhub.api.sync.TransferException) cause).reason());
                assertTrue(cause.getMessage(), cause.getMessage().contains("rule path.private"));
            }
            assertTrue("nothing was asked of the node", stream.received.stream().noneMatch(m -> m.hasSyncRequest() || m.hasTask()));
        }
        awaitNoLocks();
    }

    @Test
    public void aNodeWhoseStreamDropsOrSessionEndsMidUploadReleasesItsLockAtOnce() throws Exception {
        TestNode node = hub.enroll("dropping");
        byte[] data = random(2 * MIB, 3);
        try (TestUpload upload = node.upload()) {
            assertEquals(0, upload.start("dropped.bin", data.length));
            upload.chunk(0, slice(data, 0, MIB));
            Poll.until("the chunk written", PATIENCE, () -> partialBytes(node) == MIB);
            assertEquals(1, locks.stats().live());
            upload.cancel();
        }
        awaitNoLocks();
        assertEquals("kept for a resume", MIB, partialBytes(node));

        try (TestStream session = node.stream().hello().keepAlive();
             TestUpload upload = node.upload()) {
            Poll.until("listed", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
            assertEquals(MIB, upload.start("dropped.bin", data.length));
            assertEquals(1, locks.stats().live());
            session.cancel();
            Status aborted = upload.awaitEnd(10);
            assertEquals(Status.Code.ABORTED, aborted.getCode());
            assertTrue(aborted.getDescription(), aborted.getDescription().contains("session ended"));
        }
        awaitNoLocks();
        assertEquals(MIB, partialBytes(node));
    }

    @Test
    public void aPushIsAJournaledTaskWhoseBytesOnlyItsNodeMayFetch() throws Exception {
        TestNode node = hub.enroll("receiver");
        TestNode other = hub.enroll("bystander");
        byte[] data = random(3 * MIB + 17, 4);
        Path source = hub.home.resolve("to-push.bin");
        Files.write(source, data);
        try (TestStream stream = node.stream().hello().keepAlive()) {
            Poll.until("listed", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
            java.util.List<Long> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
            dev.meshhub.api.sync.TransferHandle push = transfers.push("receiver", source.toString(), "in/pushed.bin",
                    new dev.meshhub.api.sync.TransferListener() {
                        @Override
                        public void progress(long bytes, long totalSize) {
                            progress.add(bytes);
                        }
                    });
            dev.meshhub.proto.v1.TaskAssignment task = nextTask(stream);
            assertTrue(task.hasDownload());
            dev.meshhub.proto.v1.FileDownload download = task.getDownload();
            assertEquals("in/pushed.bin", download.getPath());
            assertEquals(data.length, download.getSize());
            assertArrayEquals(TestUpload.sha256(data), download.getSha256().toByteArray());

            // Another node cannot fetch it.
            io.grpc.StatusRuntimeException stranger = org.junit.Assert.assertThrows(io.grpc.StatusRuntimeException.class,
                    () -> fetch(other, download.getTransferId(), 0));
            assertEquals(Status.Code.NOT_FOUND, stranger.getStatus().getCode());

            byte[] fetched = fetch(node, download.getTransferId(), 0);
            assertArrayEquals(data, fetched);
            byte[] tail = fetch(node, download.getTransferId(), 2L * MIB);
            assertEquals("a fetch may resume at an offset", MIB + 17, tail.length);
            stream.send(dev.meshhub.proto.v1.NodeMessage.newBuilder().setTaskStarted(dev.meshhub.proto.v1.TaskStarted.newBuilder()
                    .setTaskId(task.getTaskId())).build());
            stream.send(dev.meshhub.proto.v1.NodeMessage.newBuilder().setTaskFinished(dev.meshhub.proto.v1.TaskFinished.newBuilder()
                    .setTaskId(task.getTaskId()).setOutcome(dev.meshhub.proto.v1.TaskFinished.Outcome.SUCCEEDED)
                    .setDiagnostic("wrote it")).build());
            dev.meshhub.api.sync.TransferResult done = push.result().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(HexFormat.of().formatHex(TestUpload.sha256(data)), done.sha256());
            assertEquals(data.length, done.size());
            assertFalse(progress.isEmpty());
            dev.meshhub.api.task.TaskRecord record = journal.get(task.getTaskId()).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS).orElseThrow();
            assertEquals("push", record.kind());
            Poll.until("journaled as succeeded", PATIENCE, () -> {
                try {
                    return journal.get(task.getTaskId()).toCompletableFuture().get().orElseThrow().state() == dev.meshhub.api.task.TaskState.SUCCEEDED;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            for (String missing : List.of(hub.home.resolve("no-such-file").toString(), "mirror:nobody/x", "mirror:receiver/none.bin")) {
                java.util.concurrent.ExecutionException failed = org.junit.Assert.assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> transfers.push("receiver", missing, "in/x", null).result().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS));
                assertEquals(missing, dev.meshhub.api.sync.TransferException.Reason.NOT_FOUND,
                        ((dev.meshhub.api.sync.TransferException) failed.getCause()).reason());
            }
            dev.meshhub.api.sync.TransferException malformed = org.junit.Assert.assertThrows(dev.meshhub.api.sync.TransferException.class,
                    () -> transfers.push("receiver", source.toString(), "../escape", null));
            assertEquals(dev.meshhub.api.sync.TransferException.Reason.INVALID, malformed.reason());
            // Once ended, its bytes are gone from the hub's offer.
            assertEquals(Status.Code.NOT_FOUND, org.junit.Assert.assertThrows(io.grpc.StatusRuntimeException.class,
                    () -> fetch(node, download.getTransferId(), 0)).getStatus().getCode());
        }
        dev.meshhub.api.sync.TransferException relative = org.junit.Assert.assertThrows(dev.meshhub.api.sync.TransferException.class,
                () -> transfers.push("receiver", "relative/file", "x", null));
        assertEquals(dev.meshhub.api.sync.TransferException.Reason.INVALID, relative.reason());
        Poll.until("receiver gone", PATIENCE, () -> directory.session(node.getNodeId()).isEmpty());
        dev.meshhub.api.sync.TransferException offline = org.junit.Assert.assertThrows(dev.meshhub.api.sync.TransferException.class,
                () -> transfers.push("receiver", source.toString(), "x", null));
        assertEquals(dev.meshhub.api.sync.TransferException.Reason.UNAVAILABLE, offline.reason());
    }

    @Test
    public void aPullInProgressIsListedWithItsProgressUntilItEnds() throws Exception {
        TestNode node = hub.enroll("progressing");
        byte[] data = random(2 * MIB, 9);
        java.util.concurrent.CountDownLatch firstHalfSent = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch sendTheRest = new java.util.concurrent.CountDownLatch(1);
        try (TestStream stream = node.stream().hello().keepAlive()) {
            Poll.until("listed", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
            Thread uploader = answerOneSync(node, stream, data, firstHalfSent, sendTheRest);
            long[] before = {transfers.stats().orElseThrow().filesPulled(), transfers.stats().orElseThrow().bytesPulled()};
            dev.meshhub.api.sync.TransferHandle pull = transfers.pull(node.getNodeId(), "data/big.bin", null);
            assertTrue(firstHalfSent.await(20, java.util.concurrent.TimeUnit.SECONDS));
            Poll.until("half of it listed as arrived", PATIENCE, () -> transfers.inProgress().stream()
                    .anyMatch(t -> t.id().equals(pull.id()) && t.bytes() == MIB));
            dev.meshhub.api.sync.TransferProgress listed = transfers.inProgress().stream().filter(t -> t.id().equals(pull.id()))
                    .findFirst().orElseThrow();
            assertEquals("pull", listed.direction());
            assertEquals(node.getNodeId(), listed.nodeId());
            assertEquals("data/big.bin", listed.path());
            assertEquals(2L * MIB, listed.totalSize());
            sendTheRest.countDown();
            assertEquals(2L * MIB, pull.result().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS).size());
            assertTrue("gone once done", transfers.inProgress().stream().noneMatch(t -> t.id().equals(pull.id())));
            assertEquals("counted as one file pulled", before[0] + 1, transfers.stats().orElseThrow().filesPulled());
            assertEquals("and its bytes", before[1] + 2L * MIB, transfers.stats().orElseThrow().bytesPulled());
            uploader.join(10_000);
        }
    }

    @Test
    public void theConsolePullsIntoTheMirrorAndPushesFromIt() throws Exception {
        TestNode node = hub.enroll("shelled-files");
        byte[] data = random(MIB + 5, 5);
        try (TestStream stream = node.stream().hello().keepAlive()) {
            Poll.until("listed", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
            // The node's side of a pull: upload what the hub asks for.
            Thread uploader = answerOneSync(node, stream, data, null, null);
            org.apache.felix.service.command.CommandProcessor processor = context.getService(
                    context.getServiceReference(org.apache.felix.service.command.CommandProcessor.class));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.PrintStream console = new java.io.PrintStream(out, true);
            try (org.apache.felix.service.command.CommandSession session = processor.createSession(
                    new java.io.ByteArrayInputStream(new byte[0]), console, console)) {
                String pulled = String.valueOf(session.execute("mesh:pull shelled-files reports/r.bin"));
                assertTrue(pulled, pulled.contains("sha256 " + HexFormat.of().formatHex(TestUpload.sha256(data))));
                assertArrayEquals(data, Files.readAllBytes(mirror(node).resolve("reports/r.bin")));
                Exception hostile = org.junit.Assert.assertThrows(Exception.class, () -> session.execute("mesh:pull shelled-files ../../etc/passwd"));
                assertTrue(hostile.getMessage(), hostile.getMessage().contains(".."));
            }
            uploader.join(10_000);
        }
    }

    @Test
    public void quotaIsCheckedBeforeAnyByteIsWritten() throws Exception {
        TestNode node = hub.enroll("greedy");
        Path cfg = hub.home.resolve("etc/dev.meshhub.mirror.cfg");
        HubTestSupport.writeConfig(cfg, "quotaBytes = " + MIB + "\n");
        try {
            byte[] data = random(2 * MIB, 6);
            Poll.until("the small quota in force", PATIENCE, () -> {
                try (TestUpload upload = node.upload()) {
                    upload.startOnly("big.bin", data.length);
                    // Either refused (the quota is in force) or ready (not yet: the upload is dropped, kept nothing).
                    Poll.until("an answer", PATIENCE, () -> upload.ended.isDone() || !upload.received.isEmpty());
                    if (!upload.ended.isDone()) {
                        return false;
                    }
                    Status refused = upload.awaitEnd(1);
                    assertEquals(refused.toString(), Status.Code.RESOURCE_EXHAUSTED, refused.getCode());
                    assertTrue(refused.getDescription(), refused.getDescription().contains("quota"));
                    return true;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            // Size not announced: refused at the chunk that would cross the quota, nothing of it written.
            try (TestUpload upload = node.upload()) {
                assertEquals(0, upload.start("unknown-size.bin", -1));
                upload.chunk(0, slice(data, 0, MIB / 2)).chunk(MIB / 2, slice(data, MIB / 2, MIB));
                Status refused = upload.awaitEnd(10);
                assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getCode());
            }
            awaitNoLocks();
            assertEquals("only what fitted is kept", MIB / 2, partialBytes(node));
            assertFalse(Files.exists(mirror(node).resolve("big.bin")));
        } finally {
            Files.delete(cfg);
        }
    }

    @Test
    public void replacingTheLocksOrMirrorBundleMidUploadEndsUploadsCleanlyAndLeaksNothing() throws Exception {
        TestNode node = hub.enroll("swapping");
        byte[] data = random(2 * MIB, 8);
        for (String symbolicName : List.of("dev.meshhub.locks", "dev.meshhub.mirror")) {
            try (TestUpload upload = node.upload()) {
                long offset = upload.start("swap-" + symbolicName + ".bin", data.length);
                upload.chunk(offset, slice(data, (int) offset, MIB));
                org.osgi.framework.Bundle bundle = java.util.Arrays.stream(context.getBundles())
                        .filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst().orElseThrow();
                bundle.update();
                Poll.until(symbolicName + " back", PATIENCE, () -> context.getServiceReference(LockRegistry.class) != null
                        && context.getServiceReference(dev.meshhub.api.mirror.MirrorStore.class) != null);
                upload.chunk(offset + MIB, slice(data, (int) offset + MIB, MIB)).end(data.length, TestUpload.sha256(data));
                Status ended = upload.awaitEnd(10);
                // The upload either completes or ends with a status saying to resume; it never hangs.
                assertTrue(symbolicName + ": " + ended, ended.isOk() || ended.getCode() == Status.Code.UNAVAILABLE
                        || ended.getCode() == Status.Code.INTERNAL || ended.getCode() == Status.Code.OUT_OF_RANGE);
            }
            LockRegistry current = context.getService(context.getServiceReference(LockRegistry.class));
            Poll.until("no live lock after replacing " + symbolicName, PATIENCE, () -> current.stats().live() == 0);
            // A fresh upload of the same file works (resuming whatever was kept).
            try (TestUpload upload = node.upload()) {
                long offset = upload.start("swap-" + symbolicName + ".bin", data.length);
                for (long at = offset; at < data.length; at += MIB) {
                    upload.chunk(at, slice(data, (int) at, (int) Math.min(MIB, data.length - at)));
                }
                upload.end(data.length, TestUpload.sha256(data));
                assertEquals(Status.Code.OK, upload.awaitEnd(10).getCode());
            }
            assertArrayEquals(data, Files.readAllBytes(mirror(node).resolve("swap-" + symbolicName + ".bin")));
        }
    }

    private dev.meshhub.proto.v1.TaskAssignment nextTask(TestStream stream) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            dev.meshhub.proto.v1.HubMessage message = stream.received.poll(1, java.util.concurrent.TimeUnit.SECONDS);
            if (message != null && message.hasTask()) {
                return message.getTask();
            }
        }
        throw new AssertionError("no task sent to the node");
    }

    private byte[] fetch(TestNode node, String transferId, long offset) {
        java.util.Iterator<dev.meshhub.proto.v1.DownloadChunk> chunks = dev.meshhub.proto.v1.NodeServiceGrpc.newBlockingStub(node.channel)
                .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS)
                .download(dev.meshhub.proto.v1.DownloadRequest.newBuilder().setTransferId(transferId).setOffset(offset).build());
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        long expected = offset;
        while (chunks.hasNext()) {
            dev.meshhub.proto.v1.DownloadChunk chunk = chunks.next();
            assertEquals(expected, chunk.getOffset());
            bytes.writeBytes(chunk.getData().toByteArray());
            expected += chunk.getData().size();
        }
        return bytes.toByteArray();
    }

    // ---- support ----

    private void upload(TestNode node, String path, byte[] data) throws Exception {
        try (TestUpload upload = node.upload()) {
            assertEquals(0, upload.start(path, data.length));
            upload.chunk(0, data).end(data.length, TestUpload.sha256(data));
            assertEquals(Status.Code.OK, upload.awaitEnd(10).getCode());
        }
    }

    private void awaitNoLocks() {
        Poll.until("no live IO lock", PATIENCE, () -> locks.stats().live() == 0);
    }

    private Path mirror(TestNode node) {
        return hub.home.resolve("data/mirror").resolve(node.getNodeId());
    }

    private long partialBytes(TestNode node) {
        Path partials = hub.home.resolve("data/mirror/.partial").resolve(node.getNodeId());
        if (!Files.isDirectory(partials)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(partials)) {
            return files.filter(p -> p.toString().endsWith(".part")).collect(Collectors.summingLong(p -> p.toFile().length()));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static int openFiles() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? 0 : fds.length;
    }

    private static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static byte[] slice(byte[] data, int from, int length) {
        byte[] part = new byte[length];
        System.arraycopy(data, from, part, 0, length);
        return part;
    }

    /**
     * The node's side of one pull, on a thread of its own (started): waits for the hub's sync request and uploads
     * {@code data} for it in 1 MiB chunks. With latches, it stops after the first MiB, counts {@code firstPartSent}
     * down and sends the rest once {@code sendTheRest} opens.
     */
    private static Thread answerOneSync(TestNode node, TestStream stream, byte[] data, java.util.concurrent.CountDownLatch firstPartSent,
            java.util.concurrent.CountDownLatch sendTheRest) {
        Thread uploader = new Thread(() -> {
            try {
                dev.meshhub.proto.v1.HubMessage message;
                while ((message = stream.received.poll(20, java.util.concurrent.TimeUnit.SECONDS)) != null) {
                    if (message.hasSyncRequest()) {
                        try (TestUpload upload = node.upload()) {
                            upload.send(dev.meshhub.proto.v1.UploadRequest.newBuilder().setStart(dev.meshhub.proto.v1.UploadStart.newBuilder()
                                    .setPath(message.getSyncRequest().getPath()).setSize(data.length)
                                    .setSyncId(message.getSyncRequest().getSyncId())).build());
                            upload.received.poll(10, java.util.concurrent.TimeUnit.SECONDS);
                            for (int offset = 0; offset < data.length; offset += MIB) {
                                if (offset == MIB && firstPartSent != null) {
                                    firstPartSent.countDown();
                                    sendTheRest.await(20, java.util.concurrent.TimeUnit.SECONDS);
                                }
                                upload.chunk(offset, slice(data, offset, Math.min(MIB, data.length - offset)));
                            }
                            upload.end(data.length, TestUpload.sha256(data));
                            upload.awaitEnd(10);
                        }
                        return;
                    }
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "test-node-uploader");
        uploader.start();
        return uploader;
    }
}
