package dev.meshhub.mirror.impl;

import static dev.meshhub.mirror.impl.MirrorFixture.content;
import static dev.meshhub.mirror.impl.MirrorFixture.refused;
import static dev.meshhub.mirror.impl.MirrorFixture.sha256;
import static dev.meshhub.mirror.impl.MirrorFixture.write;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

public class DiskMirrorLimitsTest {

    private static final String NODE = "n-1";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    @Test
    public void aNodeCannotFillTheDisksInodesWithEmptyFiles() throws Exception {
        fixture.with("maxFilesPerNode", 12L);
        // Each empty file in a directory of its own: the file and its directory count, and while an upload
        // runs its partial and sidecar too (so the fifth needs 8 + 4).
        for (int i = 0; i < 5; i++) {
            fixture.upload(NODE, "d" + i + "/empty", new byte[0]);
        }
        MirrorException refused = refused(Reason.QUOTA_EXCEEDED, () -> fixture.mirror().openUpload(NODE, "one-more", 0));
        assertTrue(refused.getMessage(), refused.getMessage().contains("holds 10 files and directories in its mirror;"
                + " 'one-more' would take it past its limit of 12 (maxFilesPerNode"));
        assertFalse("nothing was created for the refused upload", Files.exists(fixture.partialOf(NODE, "one-more")));
        // Replacing a file it holds needs no new entry beyond the upload's own partial, and another node is untouched.
        fixture.with("maxFilesPerNode", 13L).reconfigure();
        fixture.upload(NODE, "d0/empty", new byte[] {1});
        fixture.upload("n-2", "elsewhere/x", new byte[0]);
    }

    @Test
    public void quotaIsCheckedUpFrontWithTheNumbersInTheMessage() throws Exception {
        fixture.with("quotaBytes", 10 * MirrorFixture.GIB);
        MirrorException e = refused(Reason.QUOTA_EXCEEDED,
                () -> fixture.mirror().openUpload(NODE, "huge.iso", 12 * MirrorFixture.GIB + 512 * MirrorFixture.MIB));
        assertTrue(e.getMessage(), e.getMessage().startsWith("node n-1 would use 12.5 GiB of its 10 GiB quota"));
        assertTrue(e.getMessage(), e.getMessage().contains("raise quotaBytes in dev.meshhub.mirror"));
        assertTrue(e.getMessage(), e.getMessage().contains("remove files from its mirror"));
        assertFalse("nothing was created for a refused upload", Files.exists(fixture.partialOf(NODE, "huge.iso")));
        fixture.mirror().openUpload(NODE, "huge.iso", -1).close();
    }

    @Test
    public void quotaCountsCompleteFilesAndPartialsOfEveryPath() throws Exception {
        fixture.with("quotaBytes", 10_000L);
        fixture.upload(NODE, "a", content(4000, 1));
        try (MirrorUpload partial = fixture.mirror().openUpload(NODE, "b", -1)) {
            write(partial, content(3000, 2), 0, 3000, 1000);
        }
        refused(Reason.QUOTA_EXCEEDED, () -> fixture.mirror().openUpload(NODE, "c", 3001));
        fixture.mirror().openUpload(NODE, "c", 3000).discard();
        // Resuming only needs what is still missing.
        fixture.mirror().openUpload(NODE, "b", 6000).close();
        refused(Reason.QUOTA_EXCEEDED, () -> fixture.mirror().openUpload(NODE, "b", 6001));
        // Other nodes have their own quota.
        fixture.mirror().openUpload("n-2", "c", 10_000).discard();
    }

    @Test
    public void quotaStopsAWriteMidFileAndTheRestResumesOnceRaised() throws Exception {
        fixture.with("quotaBytes", 2500L);
        byte[] bytes = content(4000, 3);
        MirrorUpload upload = fixture.mirror().openUpload(NODE, "grow.log", -1);
        write(upload, bytes, 0, 2000, 1000);
        MirrorException e = refused(Reason.QUOTA_EXCEEDED, () -> upload.write(2000, ByteBuffer.wrap(bytes, 2000, 1000)));
        assertTrue(e.getMessage(), e.getMessage().contains("would use 2.9 KiB of its 2.4 KiB quota"));
        assertEquals("nothing was written past the limit", 2000, Files.size(fixture.partialOf(NODE, "grow.log")));
        assertEquals(2000, upload.offset());
        assertEquals(new MirrorUsage(2000, 2000, 2500), fixture.mirror().usage(NODE));
        assertFalse(Files.exists(upload.destination()));
        upload.close();

        fixture.with("quotaBytes", 4000L).reconfigure();
        try (MirrorUpload resumed = fixture.mirror().openUpload(NODE, "grow.log", bytes.length)) {
            assertEquals(2000, resumed.offset());
            write(resumed, bytes, 2000, bytes.length, 1000);
            resumed.finish(bytes.length, sha256(bytes));
        }
        assertArrayEquals(bytes, Files.readAllBytes(fixture.root.resolve(NODE).resolve("grow.log")));
        assertEquals(new MirrorUsage(4000, 0, 4000), fixture.mirror().usage(NODE));
    }

    @Test
    public void twoUploadsOfOneNodeCannotBothSlipUnderTheQuota() throws Exception {
        fixture.with("quotaBytes", 1500L);
        byte[] bytes = content(1000, 4);
        try (MirrorUpload a = fixture.mirror().openUpload(NODE, "a", -1);
             MirrorUpload b = fixture.mirror().openUpload(NODE, "b", -1)) {
            a.write(0, ByteBuffer.wrap(bytes));
            refused(Reason.QUOTA_EXCEEDED, () -> b.write(0, ByteBuffer.wrap(bytes)));
            assertEquals(0, b.offset());
        }
    }

    @Test
    public void diskReserveIsCheckedUpFrontAndBeforeEachWrite() throws Exception {
        long usable = Files.getFileStore(fixture.root).getUsableSpace();
        fixture.with("reserveBytes", usable + 1024 * MirrorFixture.GIB);
        MirrorException e = refused(Reason.DISK_RESERVE, () -> fixture.mirror().openUpload(NODE, "f", 10));
        assertTrue(e.getMessage(), e.getMessage().contains("below the"));
        assertTrue(e.getMessage(), e.getMessage().contains("lower reserveBytes in dev.meshhub.mirror"));
        assertFalse(Files.exists(fixture.partialOf(NODE, "f")));

        fixture.with("reserveBytes", 0L).reconfigure();
        MirrorUpload upload = fixture.mirror().openUpload(NODE, "f", 10);
        upload.write(0, ByteBuffer.wrap(new byte[5]));
        fixture.with("reserveBytes", usable + 1024 * MirrorFixture.GIB).reconfigure();
        refused(Reason.DISK_RESERVE, () -> upload.write(5, ByteBuffer.wrap(new byte[5])));
        assertEquals(5, upload.offset());
        assertEquals(5, Files.size(fixture.partialOf(NODE, "f")));
        assertEquals("a refused chunk reserves nothing", 5, fixture.mirror().usage(NODE).bytes());
        upload.close();
        assertTrue("partial kept for resume", Files.exists(fixture.partialOf(NODE, "f")));
    }

    @Test
    public void refusedUploadKeepsAnExistingPartialForLater() throws Exception {
        fixture.with("quotaBytes", 3000L);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "p", -1)) {
            write(upload, content(2000, 5), 0, 2000, 1000);
        }
        refused(Reason.QUOTA_EXCEEDED, () -> fixture.mirror().openUpload(NODE, "p", 5001));
        assertEquals(2000, Files.size(fixture.partialOf(NODE, "p")));
    }

    @Test
    public void hugeExpectedSizesDoNotOverflowTheArithmetic() throws Exception {
        fixture.with("quotaBytes", Long.MAX_VALUE);
        fixture.upload(NODE, "a", content(10, 6));
        MirrorException e = refused(Reason.QUOTA_EXCEEDED,
                () -> fixture.mirror().openUpload(NODE, "b", Long.MAX_VALUE));
        assertTrue(e.getMessage(), e.getMessage().contains("would use 8 EiB"));
    }
}
