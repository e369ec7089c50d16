package dev.meshhub.mirror.impl;

import static dev.meshhub.mirror.impl.MirrorFixture.content;
import static dev.meshhub.mirror.impl.MirrorFixture.refused;
import static dev.meshhub.mirror.impl.MirrorFixture.sha256;
import static dev.meshhub.mirror.impl.MirrorFixture.write;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

public class DiskMirrorUploadTest {

    private static final String NODE = "n-0123456789ab";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    @Test
    public void uploadAppearsCompleteWithItsDigestAndLeavesNoPartial() throws Exception {
        byte[] bytes = content(300_000, 1);
        MirrorFile file = fixture.upload(NODE, "dir/sub/file.bin", bytes);

        Path expected = fixture.root.resolve(NODE).resolve("dir/sub/file.bin");
        assertEquals(expected, file.file());
        assertEquals(NODE, file.nodeId());
        assertEquals("dir/sub/file.bin", file.path());
        assertEquals(bytes.length, file.size());
        assertEquals(HexFormat.of().formatHex(sha256(bytes)), file.sha256());
        assertArrayEquals(bytes, Files.readAllBytes(expected));
        MirrorFixture.assertListing(fixture.partialDirectory(NODE));
        MirrorFixture.assertListing(fixture.root.resolve(NODE), "dir/sub/file.bin");
        assertEquals(new MirrorUsage(bytes.length, 0, 10 * MirrorFixture.GIB), fixture.mirror().usage(NODE));
    }

    @Test
    public void partialLivesOutsideTheNodeTreeWithItsPathBeside() throws Exception {
        byte[] bytes = content(1000, 2);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "a/b.txt", bytes.length)) {
            write(upload, bytes, 0, 500, 100);
            assertEquals(fixture.root.resolve(NODE).resolve("a/b.txt"), upload.destination());
            assertFalse("the node tree holds complete files only", Files.exists(fixture.root.resolve(NODE)));
            assertEquals(500, Files.size(fixture.partialOf(NODE, "a/b.txt")));
            assertEquals("a/b.txt", Files.readString(fixture.sidecarOf(NODE, "a/b.txt"), StandardCharsets.UTF_8));
            assertEquals(new MirrorUsage(500, 500, 10 * MirrorFixture.GIB), fixture.mirror().usage(NODE));
        }
    }

    @Test
    public void resumesAfterCloseAndVerifiesTheWholeFile() throws Exception {
        byte[] bytes = content(1_000_000, 3);
        int half = bytes.length / 2;
        MirrorUpload first = fixture.mirror().openUpload(NODE, "big.bin", bytes.length);
        assertEquals(0, first.offset());
        write(first, bytes, 0, half, 65_536);
        first.close();
        first.close();
        assertTrue(Files.exists(fixture.partialOf(NODE, "big.bin")));

        try (MirrorUpload second = fixture.mirror().openUpload(NODE, "big.bin", bytes.length)) {
            assertEquals(half, second.offset());
            write(second, bytes, half, bytes.length, 65_536);
            MirrorFile file = second.finish(bytes.length, sha256(bytes));
            assertEquals(bytes.length, file.size());
        }
        assertArrayEquals(bytes, Files.readAllBytes(fixture.root.resolve(NODE).resolve("big.bin")));
        assertEquals(bytes.length, fixture.mirror().usage(NODE).bytes());
    }

    @Test
    public void resumesAcrossAStoreRestart() throws Exception {
        byte[] bytes = content(10_000, 4);
        MirrorUpload first = fixture.mirror().openUpload(NODE, "f", -1);
        write(first, bytes, 0, 4000, 1000);
        fixture.mirror().close();
        // Closing the store closes its uploads; the partial stays.
        refused(Reason.IO, () -> first.write(4000, ByteBuffer.wrap(bytes, 4000, 10)));

        DiskMirror restarted = new DiskMirror(fixture.settings(), java.time.Clock.systemUTC());
        try (MirrorUpload second = restarted.openUpload(NODE, "f", -1)) {
            assertEquals(4000, second.offset());
            assertEquals(new MirrorUsage(4000, 4000, 10 * MirrorFixture.GIB), restarted.usage(NODE));
            write(second, bytes, 4000, bytes.length, 1000);
            second.finish(bytes.length, sha256(bytes));
        } finally {
            restarted.close();
        }
    }

    @Test
    public void aPartialLongerThanTheFileStartsOver() throws Exception {
        byte[] old = content(5000, 5);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "f", -1)) {
            write(upload, old, 0, old.length, 1000);
        }
        byte[] bytes = content(3000, 6);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "f", bytes.length)) {
            assertEquals(0, upload.offset());
            assertEquals(0, fixture.mirror().usage(NODE).bytes());
            write(upload, bytes, 0, bytes.length, 1000);
            upload.finish(bytes.length, sha256(bytes));
        }
        assertEquals(bytes.length, fixture.mirror().usage(NODE).bytes());
    }

    @Test
    public void refusesChunksThatDoNotStartWhereTheDataEnds() throws Exception {
        byte[] bytes = content(3000, 7);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "x/y", bytes.length)) {
            write(upload, bytes, 0, 2000, 1000);
            long[] wrong = {2500, 1999, 1000, 0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 2001};
            for (long at : wrong) {
                MirrorException e = refused(Reason.BAD_OFFSET, () -> upload.write(at, ByteBuffer.wrap(bytes, 2000, 10)));
                assertEquals(2000, e.expectedOffset());
                assertEquals("chunk at offset " + at + ", expected 2000: the hub holds 2000 bytes of 'x/y';"
                        + " resend from 2000", e.getMessage());
            }
            // A duplicate of the last chunk is a chunk at an old offset.
            MirrorException duplicate = refused(Reason.BAD_OFFSET,
                    () -> upload.write(1000, ByteBuffer.wrap(bytes, 1000, 1000)));
            assertEquals(2000, duplicate.expectedOffset());
            assertEquals(2000, upload.offset());
            assertEquals(2000, Files.size(fixture.partialOf(NODE, "x/y")));
            assertFalse("nothing finalised", Files.exists(upload.destination()));

            write(upload, bytes, 2000, bytes.length, 1000);
            upload.finish(bytes.length, sha256(bytes));
            MirrorException after = refused(Reason.BAD_OFFSET, () -> upload.write(3000, ByteBuffer.wrap(bytes, 0, 1)));
            assertEquals(3000, after.expectedOffset());
            assertTrue(after.getMessage(), after.getMessage().contains("after the final one"));
        }
        assertArrayEquals(bytes, Files.readAllBytes(fixture.root.resolve(NODE).resolve("x/y")));
    }

    @Test
    public void checksumMismatchShowsBothDigestsKeepsTheOldFileAndDropsThePartial() throws Exception {
        byte[] old = content(2000, 8);
        fixture.upload(NODE, "doc.txt", old);
        byte[] bytes = content(3000, 9);
        byte[] claimed = sha256(content(3000, 10));
        MirrorUpload upload = fixture.mirror().openUpload(NODE, "doc.txt", bytes.length);
        write(upload, bytes, 0, bytes.length, 700);

        MirrorException e = refused(Reason.CHECKSUM_MISMATCH, () -> upload.finish(bytes.length, claimed));
        assertTrue(e.getMessage(), e.getMessage().contains(HexFormat.of().formatHex(sha256(bytes))));
        assertTrue(e.getMessage(), e.getMessage().contains(HexFormat.of().formatHex(claimed)));
        assertArrayEquals(old, Files.readAllBytes(fixture.root.resolve(NODE).resolve("doc.txt")));
        MirrorFixture.assertListing(fixture.partialDirectory(NODE));
        assertEquals(new MirrorUsage(old.length, 0, 10 * MirrorFixture.GIB), fixture.mirror().usage(NODE));
        // The slot is free: the node can start over at once.
        try (MirrorUpload again = fixture.mirror().openUpload(NODE, "doc.txt", bytes.length)) {
            assertEquals(0, again.offset());
        }
        upload.close();
        upload.discard();
    }

    @Test
    public void sizeMismatchDropsThePartialAndKeepsTheOldFile() throws Exception {
        byte[] old = content(100, 11);
        fixture.upload(NODE, "s", old);
        byte[] bytes = content(3000, 12);
        for (long claimed : new long[] {2999, 3001, 0, -1}) {
            MirrorUpload upload = fixture.mirror().openUpload(NODE, "s", -1);
            write(upload, bytes, 0, bytes.length, 1000);
            MirrorException e = refused(Reason.SIZE_MISMATCH, () -> upload.finish(claimed, sha256(bytes)));
            assertTrue(e.getMessage(), e.getMessage().startsWith("received 3000 bytes of 's', the node says " + claimed));
            assertFalse(Files.exists(fixture.partialOf(NODE, "s")));
            assertArrayEquals(old, Files.readAllBytes(fixture.root.resolve(NODE).resolve("s")));
        }
        assertEquals(old.length, fixture.mirror().usage(NODE).bytes());
    }

    @Test
    public void aMalformedDigestKeepsTheUploadOpen() throws Exception {
        byte[] bytes = content(100, 13);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "m", bytes.length)) {
            write(upload, bytes, 0, bytes.length, 100);
            refused(Reason.CHECKSUM_MISMATCH, () -> upload.finish(bytes.length, new byte[31]));
            refused(Reason.CHECKSUM_MISMATCH, () -> upload.finish(bytes.length, null));
            upload.finish(bytes.length, sha256(bytes));
        }
    }

    @Test
    public void finishIsRepeatableWithTheSameAnswer() throws Exception {
        byte[] bytes = content(100, 14);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "r", bytes.length)) {
            write(upload, bytes, 0, bytes.length, 100);
            MirrorFile file = upload.finish(bytes.length, sha256(bytes));
            assertSame(file, upload.finish(bytes.length, sha256(bytes)));
            refused(Reason.IO, () -> upload.finish(bytes.length, sha256(content(100, 15))));
        }
    }

    @Test
    public void replacingAFileCountsOnlyTheNewSize() throws Exception {
        fixture.upload(NODE, "r", content(5000, 16));
        fixture.upload(NODE, "other", content(100, 17));
        byte[] smaller = content(1000, 18);
        fixture.upload(NODE, "r", smaller);
        assertEquals(new MirrorUsage(1100, 0, 10 * MirrorFixture.GIB), fixture.mirror().usage(NODE));
        assertArrayEquals(smaller, Files.readAllBytes(fixture.root.resolve(NODE).resolve("r")));
    }

    @Test
    public void anEmptyFileCanBeMirrored() throws Exception {
        MirrorFile file = fixture.upload(NODE, "empty", new byte[0]);
        assertEquals(0, file.size());
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", file.sha256());
        assertEquals(0, Files.size(file.file()));
    }

    @Test
    public void secondOpenOfAnOpenPathIsBusyUntilTheFirstEnds() throws Exception {
        MirrorUpload first = fixture.mirror().openUpload(NODE, "same", -1);
        MirrorException e = refused(Reason.BUSY, () -> fixture.mirror().openUpload(NODE, "same", -1));
        assertTrue(e.getMessage(), e.getMessage().contains("'same'"));
        // Other paths and other nodes are independent.
        fixture.mirror().openUpload(NODE, "other", -1).close();
        fixture.mirror().openUpload("n-other", "same", -1).close();
        first.close();
        fixture.mirror().openUpload(NODE, "same", -1).discard();
    }

    @Test
    public void discardDropsThePartialAndIsIdempotent() throws Exception {
        byte[] bytes = content(4000, 19);
        MirrorUpload upload = fixture.mirror().openUpload(NODE, "d", -1);
        write(upload, bytes, 0, bytes.length, 1000);
        upload.discard();
        upload.discard();
        upload.close();
        assertFalse(Files.exists(fixture.partialOf(NODE, "d")));
        assertFalse(Files.exists(fixture.sidecarOf(NODE, "d")));
        assertEquals(0, fixture.mirror().usage(NODE).bytes());
        refused(Reason.IO, () -> upload.write(4000, ByteBuffer.allocate(1)));
        refused(Reason.IO, () -> upload.finish(4000, sha256(bytes)));
    }

    @Test
    public void discardAfterCloseDropsThePartialButNeverANewerUploadsOne() throws Exception {
        byte[] bytes = content(4000, 20);
        MirrorUpload closed = fixture.mirror().openUpload(NODE, "d", -1);
        write(closed, bytes, 0, 1000, 1000);
        closed.close();
        MirrorUpload newer = fixture.mirror().openUpload(NODE, "d", -1);
        closed.discard();
        assertTrue("the newer upload's partial stays", Files.exists(fixture.partialOf(NODE, "d")));
        write(newer, bytes, 1000, bytes.length, 1000);
        newer.close();
        closed.discard();
        assertFalse(Files.exists(fixture.partialOf(NODE, "d")));
        assertEquals(0, fixture.mirror().usage(NODE).bytes());
    }

    @Test
    public void aDirectoryInTheWayIsABadPath() throws Exception {
        fixture.upload(NODE, "a/b", content(10, 21));
        MirrorException onDirectory = refused(Reason.BAD_PATH, () -> fixture.mirror().openUpload(NODE, "a", -1));
        assertTrue(onDirectory.getMessage(), onDirectory.getMessage().contains("is a directory"));
        MirrorException underFile = refused(Reason.BAD_PATH, () -> fixture.mirror().openUpload(NODE, "a/b/c", -1));
        assertTrue(underFile.getMessage(), underFile.getMessage().contains("'a/b'"));
    }

    @Test
    public void hostilePathsAndNodeIdsAreRefusedBeforeAnyDiskWork() throws Exception {
        for (String path : new String[] {"../x", "/etc/passwd", "%2e%2e/x", "a\u0000b", "", "a//b", "C:\\x"}) {
            refused(Reason.BAD_PATH, () -> fixture.mirror().openUpload(NODE, path, -1));
        }
        for (String node : new String[] {"..", "../x", ".partial", "a/b", ""}) {
            refused(Reason.BAD_PATH, () -> fixture.mirror().openUpload(node, "x", -1));
        }
        try (java.util.stream.Stream<Path> entries = Files.list(fixture.root)) {
            assertEquals("not even a directory was made", 0, entries.count());
        }
        MirrorFixture.assertListing(fixture.outside);
    }

    @Test
    public void fileDescriptorsReturnToTheBaselineAfterManyUploads() throws Exception {
        assumeTrue("needs /proc/self/fd (Linux)", MirrorFixture.openFileDescriptors() > 0);
        byte[] bytes = content(20_000, 22);
        byte[] wrong = sha256(content(10, 23));
        cycle(bytes, wrong, -1);
        int baseline = MirrorFixture.openFileDescriptors();
        for (int i = 0; i < 200; i++) {
            cycle(bytes, wrong, i);
        }
        int after = MirrorFixture.openFileDescriptors();
        // A leak would show as hundreds; a little slack for descriptors the JVM opens on its own.
        assertTrue("open descriptors went from " + baseline + " to " + after, after - baseline <= 2);
        assertEquals(0, fixture.mirror().openUploads());
    }

    private void cycle(byte[] bytes, byte[] wrongDigest, int i) throws Exception {
        DiskMirror mirror = fixture.mirror();
        String path = "cycle/" + (i % 7);
        MirrorUpload closed = mirror.openUpload(NODE, path, bytes.length);
        write(closed, bytes, 0, 5000, 1000);
        refused(Reason.BUSY, () -> mirror.openUpload(NODE, path, bytes.length));
        refused(Reason.BAD_OFFSET, () -> closed.write(1, ByteBuffer.wrap(bytes)));
        closed.close();
        MirrorUpload resumed = mirror.openUpload(NODE, path, bytes.length);
        write(resumed, bytes, 5000, bytes.length, 5000);
        assertNotNull(resumed.finish(bytes.length, sha256(bytes)));
        resumed.close();
        MirrorUpload discarded = mirror.openUpload(NODE, path + ".d", -1);
        write(discarded, bytes, 0, 3000, 1000);
        discarded.discard();
        MirrorUpload mismatched = mirror.openUpload(NODE, path + ".m", bytes.length);
        write(mismatched, bytes, 0, bytes.length, 10_000);
        refused(Reason.CHECKSUM_MISMATCH, () -> mismatched.finish(bytes.length, wrongDigest));
        mismatched.close();
        MirrorUpload sized = mirror.openUpload(NODE, path + ".s", bytes.length);
        refused(Reason.SIZE_MISMATCH, () -> sized.finish(1, wrongDigest));
        if (i == -1) {
            for (int n = 0; n < 2; n++) {
                Files.createSymbolicLink(fixture.root.resolve(NODE).resolve("link-" + n), fixture.outside);
            }
        }
        refused(Reason.SYMLINK, () -> mirror.openUpload(NODE, "link-" + Math.floorMod(i, 2) + "/f", -1));
    }
}
