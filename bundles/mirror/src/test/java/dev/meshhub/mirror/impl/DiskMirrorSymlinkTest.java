package dev.meshhub.mirror.impl;

import static dev.meshhub.mirror.impl.MirrorFixture.content;
import static dev.meshhub.mirror.impl.MirrorFixture.refused;
import static dev.meshhub.mirror.impl.MirrorFixture.sha256;
import static dev.meshhub.mirror.impl.MirrorFixture.write;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorUpload;

/** Symlinks inside the mirror are never followed out of it (RELIABILITY 22). */
public class DiskMirrorSymlinkTest {

    private static final String NODE = "n-1";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private Path nodeRoot() {
        return fixture.root.resolve(NODE);
    }

    @Test
    public void aSymlinkedDirectoryInTheTreeIsRefusedAndNothingIsWrittenOutside() throws Exception {
        Files.createDirectories(nodeRoot().resolve("a"));
        Files.createSymbolicLink(nodeRoot().resolve("a/escape"), fixture.outside);
        MirrorException e = refused(Reason.SYMLINK, () -> fixture.mirror().openUpload(NODE, "a/escape/b/evil.sh", -1));
        assertTrue(e.getMessage(), e.getMessage().contains("'a/escape'"));
        assertTrue(e.getMessage(), e.getMessage().contains("symlink"));
        MirrorFixture.assertListing(fixture.outside);
        try (java.util.stream.Stream<Path> entries = Files.list(fixture.outside)) {
            assertFalse("no directory was made outside either", entries.findAny().isPresent());
        }
    }

    @Test
    public void aSymlinkMadeWhileUploadingIsCaughtAtFinish() throws Exception {
        byte[] bytes = content(100, 1);
        MirrorUpload upload = fixture.mirror().openUpload(NODE, "d/f", bytes.length);
        write(upload, bytes, 0, bytes.length, 50);
        Files.createDirectories(nodeRoot());
        Files.createSymbolicLink(nodeRoot().resolve("d"), fixture.outside);
        refused(Reason.SYMLINK, () -> upload.finish(bytes.length, sha256(bytes)));
        MirrorFixture.assertListing(fixture.outside);
        assertTrue("the verified partial stays for a resume", Files.exists(fixture.partialOf(NODE, "d/f")));

        Files.delete(nodeRoot().resolve("d"));
        try (MirrorUpload resumed = fixture.mirror().openUpload(NODE, "d/f", bytes.length)) {
            resumed.finish(bytes.length, sha256(bytes));
        }
        assertArrayEquals(bytes, Files.readAllBytes(nodeRoot().resolve("d/f")));
    }

    @Test
    public void aSymlinkedNodeRootIsRefused() throws Exception {
        Files.createSymbolicLink(nodeRoot(), fixture.outside);
        MirrorException e = refused(Reason.SYMLINK, () -> fixture.mirror().openUpload(NODE, "f", -1));
        assertTrue(e.getMessage(), e.getMessage().contains("mirror root of node n-1"));
        MirrorFixture.assertListing(fixture.outside);
    }

    @Test
    public void aDestinationThatIsASymlinkIsNeverReplacedThroughOrOver() throws Exception {
        Path target = fixture.outside.resolve("target.txt");
        Files.writeString(target, "outside");
        Files.createDirectories(nodeRoot());
        Files.createSymbolicLink(nodeRoot().resolve("f"), target);
        MirrorException e = refused(Reason.SYMLINK, () -> fixture.mirror().openUpload(NODE, "f", -1));
        assertTrue(e.getMessage(), e.getMessage().startsWith("'f' in the mirror of node n-1 is a symlink"));
        assertTrue(Files.isSymbolicLink(nodeRoot().resolve("f")));
        assertArrayEquals("outside".getBytes(), Files.readAllBytes(target));
    }

    @Test
    public void aDanglingSymlinkAsDestinationIsRefusedToo() throws Exception {
        Files.createDirectories(nodeRoot());
        Files.createSymbolicLink(nodeRoot().resolve("f"), fixture.outside.resolve("not-yet"));
        refused(Reason.SYMLINK, () -> fixture.mirror().openUpload(NODE, "f", -1));
        assertFalse(Files.exists(fixture.outside.resolve("not-yet")));
    }

    @Test
    public void aSymlinkedPartialDirectoryIsRefused() throws Exception {
        Files.createDirectories(fixture.root.resolve(DiskMirror.PARTIAL_DIRECTORY));
        Files.createSymbolicLink(fixture.partialDirectory(NODE), fixture.outside);
        refused(Reason.SYMLINK, () -> fixture.mirror().openUpload(NODE, "f", -1));
        MirrorFixture.assertListing(fixture.outside);
    }

    @Test
    public void aMirrorDirectoryThatIsItselfASymlinkIsFine() throws Exception {
        Path real = folder.newFolder("big-disk").toPath();
        Path linked = fixture.root.getParent().resolve("linked-mirror");
        Files.createSymbolicLink(linked, real);
        DiskMirror mirror = new DiskMirror(fixture.with("mirrorDirectory", linked.toString()).settings(),
                java.time.Clock.systemUTC());
        try (MirrorUpload upload = mirror.openUpload(NODE, "f", 3)) {
            upload.write(0, java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
            upload.finish(3, sha256(new byte[] {1, 2, 3}));
        } finally {
            mirror.close();
        }
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(real.resolve(NODE).resolve("f")));
    }
}
