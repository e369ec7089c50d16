package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class StateDirectoryTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void theDefaultIsOutsideTheWorkspaceOnePerWorkspaceAndFollowsXdgThenHomeThenRoot() throws Exception {
        Path workspace = tmp.newFolder("build agent").toPath();
        Path other = tmp.newFolder("other").toPath();
        Path xdg = StateDirectory.defaultFor(workspace, Map.of("XDG_STATE_HOME", "/srv/state", "HOME", "/home/u"), "/ignored", false);
        assertEquals(Path.of("/srv/state/meshnode"), xdg.getParent());
        assertTrue(xdg.getFileName().toString(), xdg.getFileName().toString().matches("build_agent-[0-9a-f]{10}"));
        assertEquals(Path.of("/home/u/.local/state/meshnode"),
                StateDirectory.defaultFor(workspace, Map.of("HOME", "/home/u"), "/ignored", false).getParent());
        assertEquals("without HOME the JVM's user.home", Path.of("/home/jvm/.local/state/meshnode"),
                StateDirectory.defaultFor(workspace, Map.of(), "/home/jvm", false).getParent());
        assertEquals(Path.of("/var/lib/meshnode"), StateDirectory.defaultFor(workspace, Map.of("HOME", "/root"), "/root", true).getParent());
        assertEquals("a relative XDG_STATE_HOME is ignored, as the XDG specification says", Path.of("/home/u/.local/state/meshnode"),
                StateDirectory.defaultFor(workspace, Map.of("XDG_STATE_HOME", "rel", "HOME", "/home/u"), "/x", false).getParent());

        assertNotEquals("two workspaces, two identities", xdg,
                StateDirectory.defaultFor(other, Map.of("XDG_STATE_HOME", "/srv/state"), "/x", false));
        Path link = Files.createSymbolicLink(tmp.getRoot().toPath().resolve("link"), workspace);
        assertEquals("the same workspace reached through a link is the same node", xdg,
                StateDirectory.defaultFor(link, Map.of("XDG_STATE_HOME", "/srv/state"), "/x", false));
        assertEquals("a workspace not made yet keeps its state when it is made", StateDirectory.defaultFor(
                        workspace.resolve("later"), Map.of("XDG_STATE_HOME", "/srv/state"), "/x", false),
                defaultAfterCreating(workspace.resolve("later")));
        assertNull(StateDirectory.problem(workspace, StateDirectory.defaultFor(workspace)));
    }

    private static Path defaultAfterCreating(Path directory) throws IOException {
        Files.createDirectories(directory);
        return StateDirectory.defaultFor(directory, Map.of("XDG_STATE_HOME", "/srv/state"), "/x", false);
    }

    @Test
    public void aStateDirectoryTasksCouldReachIsRefusedSayingWhy() throws Exception {
        Path workspace = tmp.newFolder("ws").toPath();
        String inside = StateDirectory.problem(workspace, workspace.resolve("keys"));
        assertNotNull(inside);
        assertTrue(inside, inside.contains("inside the workspace") && inside.contains("choose a directory outside it"));
        assertNotNull("the workspace itself", StateDirectory.problem(workspace, workspace));
        Files.createSymbolicLink(tmp.getRoot().toPath().resolve("sneaky"), workspace.resolve("keys"));
        assertNotNull("inside through a link", StateDirectory.problem(workspace, tmp.getRoot().toPath().resolve("sneaky")));
        assertNotNull("around the workspace", StateDirectory.problem(workspace, tmp.getRoot().toPath()));
        assertNull("the old place is still allowed (hidden by name)", StateDirectory.problem(workspace, workspace.resolve(".meshnode")));
        assertNull(StateDirectory.problem(workspace, tmp.getRoot().toPath().resolve("state")));
        assertThrows(IllegalArgumentException.class, () -> NodeAgentConfig.builder(
                dev.meshhub.proto.v1.HubAddress.parse("127.0.0.1:1", 1), workspace).stateDirectory(workspace.resolve("keys")));
    }

    @Test
    public void anOlderAgentsStateIsMovedOutOfTheWorkspaceWithItsIdentityAndModes() throws Exception {
        Path workspace = tmp.newFolder("ws").toPath();
        CredentialStore old = new CredentialStore(StateDirectory.legacy(workspace));
        old.save(new NodeIdentity("n-00112233aabb", "web-1", "mhc.n-00112233aabb." + "A".repeat(43)));
        Files.createDirectories(old.directory().resolve("downloads"));
        Files.writeString(old.directory().resolve("downloads/marker"), "x");
        Path state = tmp.getRoot().toPath().resolve("state/deep/node");

        assertTrue(StateDirectory.adoptLegacy(workspace, state));
        assertFalse("nothing left for tasks in the workspace", Files.exists(StateDirectory.legacy(workspace)));
        CredentialStore moved = new CredentialStore(state);
        assertEquals("n-00112233aabb", moved.load().orElseThrow().nodeId());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(moved.credentialFile())));
        assertEquals("x", Files.readString(state.resolve("downloads/marker")));
        assertFalse("a second start has nothing to move", StateDirectory.adoptLegacy(workspace, state));
    }

    @Test
    public void anIdentityAlreadyInTheStateDirectoryIsNeverOverwritten() throws Exception {
        Path workspace = tmp.newFolder("ws").toPath();
        new CredentialStore(StateDirectory.legacy(workspace)).save(new NodeIdentity("n-aaaaaaaaaaaa", "old", "mhc.n-aaaaaaaaaaaa." + "A".repeat(43)));
        Path state = tmp.getRoot().toPath().resolve("state");
        new CredentialStore(state).save(new NodeIdentity("n-bbbbbbbbbbbb", "new", "mhc.n-bbbbbbbbbbbb." + "B".repeat(43)));

        assertFalse(StateDirectory.adoptLegacy(workspace, state));
        assertEquals("n-bbbbbbbbbbbb", new CredentialStore(state).load().orElseThrow().nodeId());
        assertTrue("the old one is left for the admin to delete", Files.exists(StateDirectory.legacy(workspace)));

        Path stranger = tmp.newFolder("stranger").toPath();
        Files.writeString(stranger.resolve("notes.txt"), "someone's file");
        IOException e = assertThrows(IOException.class, () -> StateDirectory.adoptLegacy(workspace, stranger));
        assertTrue(e.getMessage(), e.getMessage().contains("is not empty but holds no identity"));
        assertEquals("someone's file", Files.readString(stranger.resolve("notes.txt")));
    }
}
