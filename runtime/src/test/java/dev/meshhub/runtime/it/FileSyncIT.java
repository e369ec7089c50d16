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
import dev.meshhub.proto.v1.SyncConfigurationResponse;
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

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("FileSyncIT", Map.of(), "meshhub");
    }

    @Test
    public void chunksOutOfOrderAreRefusedWithTheExpectedOffsetAndTheUploadResumes() throws Exception {
        SyncConfigurationResponse node = hub.enroll("orderly");
        byte[] data = random(3 * MIB, 1);
        int filesBefore = openFiles();
        try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
            assertEquals(0, upload.start("logs/app.bin", data.length));
            upload.chunk(0, slice(data, 0, MIB)).chunk(2L * MIB, slice(data, 2 * MIB, MIB));
            Status gap = upload.awaitEnd(10);
            assertEquals(Status.Code.OUT_OF_RANGE, gap.getCode());
            assertTrue(gap.getDescription(), gap.getDescription().contains("expected " + MIB));
        }
        awaitNoLocks();
        assertEquals("the first chunk is kept for a resume", MIB, partialBytes(node));

        for (long wrong : new long[] {0, MIB - 1, MIB + 1, -1, Long.MAX_VALUE}) {
            try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
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

        try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
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
        SyncConfigurationResponse node = hub.enroll("checked");
        byte[] old = "old content\n".getBytes(StandardCharsets.UTF_8);
        upload(node, "notes.txt", old);
        byte[] fresh = "new content\n".getBytes(StandardCharsets.UTF_8);
        byte[] wrong = TestUpload.sha256("something else".getBytes(StandardCharsets.UTF_8));
        try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
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

        try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
            assertEquals(0, upload.start("notes.txt", fresh.length));
            upload.chunk(0, fresh).end(fresh.length + 1, TestUpload.sha256(fresh));
            assertEquals(Status.Code.DATA_LOSS, upload.awaitEnd(10).getCode());
        }
        assertArrayEquals(old, Files.readAllBytes(mirror(node).resolve("notes.txt")));
        awaitNoLocks();
    }

    @Test
    public void twoUploadsOfOnePathAtOnceNeverInterleave() throws Exception {
        SyncConfigurationResponse node = hub.enroll("twice");
        byte[] data = random(MIB, 2);
        try (TestUpload first = TestUpload.open(hub.nodeChannel, node.getNodeCredential());
             TestUpload second = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
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
        SyncConfigurationResponse node = hub.enroll("hostile");
        List<String> paths = List.of("../escape.txt", "/etc/passwd", "%2e%2e/escape.txt", "", "a/../../b",
                "nul\u0000byte", "x".repeat(5000), "a//b", "C:\\windows");
        for (String path : paths) {
            try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
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
    public void aNodeWhoseStreamDropsOrSessionEndsMidUploadReleasesItsLockAtOnce() throws Exception {
        SyncConfigurationResponse node = hub.enroll("dropping");
        byte[] data = random(2 * MIB, 3);
        try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
            assertEquals(0, upload.start("dropped.bin", data.length));
            upload.chunk(0, slice(data, 0, MIB));
            Poll.until("the chunk written", PATIENCE, () -> partialBytes(node) == MIB);
            assertEquals(1, locks.stats().live());
            upload.cancel();
        }
        awaitNoLocks();
        assertEquals("kept for a resume", MIB, partialBytes(node));

        try (TestStream session = hub.stream(node.getNodeCredential()).hello().keepAlive();
             TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
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

    // ---- support ----

    private void upload(SyncConfigurationResponse node, String path, byte[] data) throws Exception {
        try (TestUpload upload = TestUpload.open(hub.nodeChannel, node.getNodeCredential())) {
            assertEquals(0, upload.start(path, data.length));
            upload.chunk(0, data).end(data.length, TestUpload.sha256(data));
            assertEquals(Status.Code.OK, upload.awaitEnd(10).getCode());
        }
    }

    private void awaitNoLocks() {
        Poll.until("no live IO lock", PATIENCE, () -> locks.stats().live() == 0);
    }

    private Path mirror(SyncConfigurationResponse node) {
        return hub.home.resolve("data/mirror").resolve(node.getNodeId());
    }

    private long partialBytes(SyncConfigurationResponse node) {
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
}
