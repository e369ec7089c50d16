package dev.meshhub.mirror.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;

import org.apache.felix.hc.api.Result;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class MirrorReserveCheckTest {

    @Rule
    public final TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void freeSpaceAgainstTheReserve() throws Exception {
        Path root = folder.newFolder("mirror").toPath();
        assertEquals(Result.Status.OK, MirrorReserveCheck.check(root, 0).getStatus());
        Result below = MirrorReserveCheck.check(root, Long.MAX_VALUE / 4);
        assertEquals(Result.Status.CRITICAL, below.getStatus());
        assertTrue(below.toString(), below.toString().contains("uploads are refused"));
    }

    @Test
    public void aMirrorNotMadeYetIsMeasuredOnItsNearestParent() {
        Path missing = folder.getRoot().toPath().resolve("not/made/yet");
        assertEquals(Result.Status.OK, MirrorReserveCheck.check(missing, 0).getStatus());
    }
}
