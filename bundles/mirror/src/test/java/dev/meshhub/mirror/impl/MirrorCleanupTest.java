package dev.meshhub.mirror.impl;

import static dev.meshhub.mirror.impl.FixedEnrollmentStore.active;
import static dev.meshhub.mirror.impl.FixedEnrollmentStore.revoked;
import static dev.meshhub.mirror.impl.MirrorFixture.age;
import static dev.meshhub.mirror.impl.MirrorFixture.content;
import static dev.meshhub.mirror.impl.MirrorFixture.refused;
import static dev.meshhub.mirror.impl.MirrorFixture.sha256;
import static dev.meshhub.mirror.impl.MirrorFixture.write;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

/** The mirror-cleanup sweep (RELIABILITY 24, 29) and the removal of revoked nodes' mirrors. */
public class MirrorCleanupTest {

    private static final String NODE = "n-1";
    private static final String REVOKED = "n-2";
    private static final Duration OLD = Duration.ofDays(2);

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private void partial(String node, String path, int size) throws Exception {
        try (MirrorUpload upload = fixture.mirror().openUpload(node, path, -1)) {
            write(upload, content(size, path.hashCode()), 0, size, 1000);
        }
    }

    @Test
    public void removesPartialsPastTheirTtlButNotFreshOrOpenOnes() throws Exception {
        partial(NODE, "old.bin", 3000);
        partial(NODE, "fresh.bin", 2000);
        age(fixture.partialOf(NODE, "old.bin"), OLD);
        MirrorUpload open = fixture.mirror().openUpload(NODE, "open.bin", -1);
        write(open, content(1000, 1), 0, 1000, 1000);
        age(fixture.partialOf(NODE, "open.bin"), OLD);
        assertEquals(new MirrorUsage(6000, 6000, 10 * MirrorFixture.GIB), fixture.mirror().usage(NODE));

        MirrorCleanup.Report report = fixture.mirror().cleanup(null);

        assertEquals(1, report.stalePartials());
        assertEquals(3000, report.stalePartialBytes());
        assertFalse(Files.exists(fixture.partialOf(NODE, "old.bin")));
        assertFalse(Files.exists(fixture.sidecarOf(NODE, "old.bin")));
        assertTrue(Files.exists(fixture.partialOf(NODE, "fresh.bin")));
        assertTrue(Files.exists(fixture.partialOf(NODE, "open.bin")));
        assertEquals(new MirrorUsage(3000, 3000, 10 * MirrorFixture.GIB), fixture.mirror().usage(NODE));

        // The open upload carries on; once closed, its TTL counts from the close.
        byte[] rest = content(2000, 1);
        open.write(1000, java.nio.ByteBuffer.wrap(rest, 1000, 1000));
        open.close();
        assertEquals(0, fixture.mirror().cleanup(null).stalePartials());
        assertTrue(Files.exists(fixture.partialOf(NODE, "open.bin")));
    }

    @Test
    public void aPartialOldEnoughForOneTtlIsKeptUnderALongerOne() throws Exception {
        fixture.with("partialTtlMinutes", 3 * 24 * 60L);
        partial(NODE, "p", 100);
        age(fixture.partialOf(NODE, "p"), OLD);
        assertEquals(0, fixture.mirror().cleanup(null).stalePartials());
        fixture.with("partialTtlMinutes", 60L).reconfigure();
        assertEquals(1, fixture.mirror().cleanup(null).stalePartials());
    }

    @Test
    public void aRemovedPartialIsNotResumedAndTheUploadStartsOver() throws Exception {
        partial(NODE, "p", 1000);
        age(fixture.partialOf(NODE, "p"), OLD);
        fixture.mirror().cleanup(null);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "p", -1)) {
            assertEquals(0, upload.offset());
        }
    }

    @Test
    public void removesOldOrphanSidecarsAndSymlinksAmongPartialsWithoutFollowingThem() throws Exception {
        partial(NODE, "p", 10);
        Path sidecar = fixture.partialDirectory(NODE).resolve("0".repeat(64) + DiskMirror.SIDECAR_SUFFIX);
        Files.writeString(sidecar, "gone/path");
        age(sidecar, OLD);
        Path target = fixture.outside.resolve("precious");
        Files.writeString(target, "keep me");
        Path link = fixture.partialDirectory(NODE).resolve("f".repeat(64) + DiskMirror.PARTIAL_SUFFIX);
        Files.createSymbolicLink(link, target);
        Files.getFileAttributeView(link, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setTimes(FileTime.from(Instant.now().minus(OLD)), null, null);

        fixture.mirror().cleanup(null);

        assertFalse(Files.exists(sidecar));
        assertTrue(Files.exists(fixture.partialOf(NODE, "p")));
        assertEquals("keep me", Files.readString(target));
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    public void removesRevokedNodesMirrorsAndDeletesSymlinksWithoutFollowingThem() throws Exception {
        fixture.upload(NODE, "keep/a.txt", content(100, 2));
        fixture.upload(REVOKED, "x/a.txt", content(1000, 3));
        fixture.upload(REVOKED, "x/y/b.txt", content(2000, 4));
        partial(REVOKED, "half.bin", 500);
        Path precious = fixture.outside.resolve("precious");
        Files.createDirectories(precious);
        Files.writeString(precious.resolve("data.txt"), "keep me");
        Files.createSymbolicLink(fixture.root.resolve(REVOKED).resolve("x/dir-link"), precious);
        Files.createSymbolicLink(fixture.root.resolve(REVOKED).resolve("file-link"), precious.resolve("data.txt"));

        MirrorCleanup.Report report = fixture.mirror().cleanup(
                List.of(active(NODE), revoked(REVOKED), revoked("n-never-uploaded")));

        assertEquals(List.of(REVOKED), report.revokedNodes());
        // Everything that was on disk: files, the partial and its sidecar naming 'half.bin'.
        assertEquals(1000 + 2000 + 500 + "half.bin".length(), report.revokedBytes());
        assertEquals(0, report.failures());
        assertFalse(Files.exists(fixture.root.resolve(REVOKED), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(fixture.partialDirectory(REVOKED)));
        assertEquals("keep me", Files.readString(precious.resolve("data.txt")));
        MirrorFixture.assertListing(fixture.root.resolve(NODE), "keep/a.txt");
        assertEquals(new MirrorUsage(0, 0, 10 * MirrorFixture.GIB), fixture.mirror().usage(REVOKED));
        assertEquals(100, fixture.mirror().usage(NODE).bytes());
        assertEquals("nothing left to remove", List.of(),
                fixture.mirror().cleanup(List.of(revoked(REVOKED))).revokedNodes());
    }

    @Test
    public void aRevokedNodeWhoseRootIsASymlinkLosesTheLinkNotItsTarget() throws Exception {
        Files.writeString(fixture.outside.resolve("precious"), "keep me");
        Files.createSymbolicLink(fixture.root.resolve(REVOKED), fixture.outside);
        fixture.mirror().cleanup(List.of(revoked(REVOKED)));
        assertFalse(Files.exists(fixture.root.resolve(REVOKED), LinkOption.NOFOLLOW_LINKS));
        assertEquals("keep me", Files.readString(fixture.outside.resolve("precious")));
    }

    @Test
    public void aRevokedNodeWithAnOpenUploadIsRemovedOnALaterRun() throws Exception {
        fixture.upload(REVOKED, "a", content(100, 5));
        MirrorUpload open = fixture.mirror().openUpload(REVOKED, "b", -1);
        assertEquals(List.of(), fixture.mirror().cleanup(List.of(revoked(REVOKED))).revokedNodes());
        assertTrue(Files.exists(fixture.root.resolve(REVOKED).resolve("a")));
        open.close();
        assertEquals(List.of(REVOKED), fixture.mirror().cleanup(List.of(revoked(REVOKED))).revokedNodes());
        assertFalse(Files.exists(fixture.root.resolve(REVOKED)));
    }

    @Test
    public void revokedMirrorsAreKeptWhenSoConfigured() throws Exception {
        fixture.with("removeRevokedMirrors", false);
        fixture.upload(REVOKED, "a", content(100, 6));
        assertEquals(List.of(), fixture.mirror().cleanup(List.of(revoked(REVOKED))).revokedNodes());
        assertTrue(Files.exists(fixture.root.resolve(REVOKED).resolve("a")));
    }

    @Test
    public void usageIsRecountedSoFilesRemovedByHandStopCounting() throws Exception {
        fixture.with("quotaBytes", 5000L);
        fixture.upload(NODE, "a", content(3000, 7));
        fixture.upload(NODE, "b", content(1500, 8));
        refused(Reason.QUOTA_EXCEEDED, () -> fixture.mirror().openUpload(NODE, "c", 1000));
        Files.delete(fixture.root.resolve(NODE).resolve("a"));
        fixture.mirror().cleanup(null);
        assertEquals(new MirrorUsage(1500, 0, 5000), fixture.mirror().usage(NODE));
        byte[] c = content(1000, 9);
        fixture.upload(NODE, "c", c);
    }

    @Test
    public void anInterruptedRunStopsEarlyWithoutHarm() throws Exception {
        partial(NODE, "p", 10);
        age(fixture.partialOf(NODE, "p"), OLD);
        Thread.currentThread().interrupt();
        try {
            fixture.mirror().cleanup(null);
        } finally {
            assertTrue(Thread.interrupted());
        }
        assertTrue(Files.exists(fixture.partialOf(NODE, "p")));
        assertEquals(1, fixture.mirror().cleanup(null).stalePartials());
    }

    @Test
    public void aFinishedUploadLeavesNothingForTheCleanup() throws Exception {
        byte[] bytes = content(100, 10);
        try (MirrorUpload upload = fixture.mirror().openUpload(NODE, "f", bytes.length)) {
            write(upload, bytes, 0, bytes.length, 100);
            upload.finish(bytes.length, sha256(bytes));
        }
        MirrorFixture.assertListing(fixture.partialDirectory(NODE));
    }
}
