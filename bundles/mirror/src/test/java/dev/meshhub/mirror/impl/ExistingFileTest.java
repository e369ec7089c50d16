package dev.meshhub.mirror.impl;

import static dev.meshhub.mirror.impl.MirrorFixture.refused;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;

/**
 * Reading a complete file out of a node's mirror (the source of a push to another node) is confined
 * the way uploads are: by the mirror, not by whoever asks.
 */
public class ExistingFileTest {

    private static final String NODE = "n-1";

    private final TemporaryFolder folder = new TemporaryFolder();
    private final MirrorFixture fixture = MirrorFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    private Path nodeRoot() {
        return fixture.root.resolve(NODE);
    }

    @Test
    public void aCompleteFileIsFoundAtItsPlaceInTheNodesTree() throws Exception {
        Files.createDirectories(nodeRoot().resolve("logs"));
        Files.writeString(nodeRoot().resolve("logs/app.log"), "hello");
        assertEquals(nodeRoot().resolve("logs/app.log"), fixture.mirror().existingFile(NODE, "logs/app.log"));
    }

    @Test
    public void hostilePathsAreRefusedBeforeTheDiskIsTouched() {
        for (String path : new String[] {"../n-2/secret", "/etc/passwd", "logs/%2e%2e/x", "a\0b", ""}) {
            refused(Reason.BAD_PATH, () -> fixture.mirror().existingFile(NODE, path));
        }
        refused(Reason.BAD_PATH, () -> fixture.mirror().existingFile("../n-2", "x"));
    }

    @Test
    public void aSymlinkAnywhereOnTheWayIsNeverFollowed() throws Exception {
        Files.writeString(fixture.outside.resolve("secret"), "outside");
        Files.createDirectories(nodeRoot().resolve("a"));
        Files.createSymbolicLink(nodeRoot().resolve("a/escape"), fixture.outside);
        Files.createSymbolicLink(nodeRoot().resolve("link"), fixture.outside.resolve("secret"));
        MirrorException throughDirectory = refused(Reason.SYMLINK, () -> fixture.mirror().existingFile(NODE, "a/escape/secret"));
        assertTrue(throughDirectory.getMessage(), throughDirectory.getMessage().contains("'a/escape'"));
        MirrorException file = refused(Reason.SYMLINK, () -> fixture.mirror().existingFile(NODE, "link"));
        assertTrue(file.getMessage(), file.getMessage().contains("symlink"));
    }

    @Test
    public void missingFilesDirectoriesAndPartialsAreNotFound() throws Exception {
        MirrorException missing = refused(Reason.NOT_FOUND, () -> fixture.mirror().existingFile(NODE, "nothing/here"));
        assertEquals("no file 'nothing/here' in the mirror of node n-1; pull it from the node first (meshctl sync pull)",
                missing.getMessage());
        Files.createDirectories(nodeRoot().resolve("dir"));
        refused(Reason.NOT_FOUND, () -> fixture.mirror().existingFile(NODE, "dir"));
        // An upload in progress is never readable: its bytes live outside the node's tree.
        fixture.mirror().openUpload(NODE, "half.bin", 10).write(0, java.nio.ByteBuffer.wrap(new byte[5]));
        refused(Reason.NOT_FOUND, () -> fixture.mirror().existingFile(NODE, "half.bin"));
    }
}
