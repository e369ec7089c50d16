package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class DownloadTempsTest {

    @Rule
    public final TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void aKilledAgentsTemporariesAreRemovedAtTheNextStartAndNothingElse() throws Exception {
        Path workspace = folder.newFolder("ws").toPath().toRealPath();
        Path outside = folder.newFile(FileDownloader.TEMP_PREFIX + "0000000000000001" + FileDownloader.TEMP_SUFFIX).toPath();
        Files.createDirectories(workspace.resolve("in"));
        Path left = Files.writeString(workspace.resolve("in").resolve(FileDownloader.TEMP_PREFIX + "00000000000000aa"
                + FileDownloader.TEMP_SUFFIX), "half a file");
        Path precious = Files.writeString(workspace.resolve("in/precious.txt"), "keep me");
        Path state = folder.getRoot().toPath().resolve("state");
        DownloadTemps.register(state, left);
        DownloadTemps.register(state, outside);
        Files.writeString(state.resolve("downloads/forged"), precious.toString());

        assertEquals(1, DownloadTemps.sweep(state, workspace));
        assertFalse("the unfinished temporary is gone", Files.exists(left));
        assertTrue("nothing outside the workspace is touched", Files.exists(outside));
        assertTrue("only files named like temporaries are deleted", Files.exists(precious));
        try (var markers = Files.list(state.resolve("downloads"))) {
            assertEquals("every marker is consumed", 0, markers.count());
        }
        assertEquals(0, DownloadTemps.sweep(state, workspace));
    }

    @Test
    public void aFinishedDownloadLeavesNoMarker() throws Exception {
        Path workspace = folder.newFolder("ws2").toPath().toRealPath();
        Path temp = workspace.resolve(FileDownloader.TEMP_PREFIX + "00000000000000bb" + FileDownloader.TEMP_SUFFIX);
        Path marker = DownloadTemps.register(folder.getRoot().toPath().resolve("state2"), temp);
        assertTrue(Files.exists(marker));
        DownloadTemps.done(marker);
        assertFalse(Files.exists(marker));
        assertEquals(0, DownloadTemps.sweep(Path.of(folder.getRoot().toString(), "missing"), workspace));
    }
}
