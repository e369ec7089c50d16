package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import dev.meshhub.proto.v1.PolicyRules;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class WorkingDirectoryTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private Path workspace;
    private Path outside;

    @Before
    public void setUp() throws Exception {
        workspace = tmp.newFolder("ws").toPath();
        outside = tmp.newFolder("outside").toPath();
        Files.createDirectories(workspace.resolve("a/b"));
        Files.createDirectories(workspace.resolve(CredentialStore.DIRECTORY).resolve("inner"));
        Files.writeString(workspace.resolve("file"), "x");
        Files.createSymbolicLink(workspace.resolve("out"), outside);
        Files.createSymbolicLink(workspace.resolve("a/up"), workspace.getParent());
        Files.createSymbolicLink(workspace.resolve("in"), workspace.resolve("a/b"));
        Files.createSymbolicLink(workspace.resolve("secret"), workspace.resolve(CredentialStore.DIRECTORY));
    }

    private Path resolve(String requested) throws Exception {
        return WorkingDirectory.resolve(workspace, requested, "n-1");
    }

    private void assertRefused(String requested, String because) throws Exception {
        try {
            Path p = resolve(requested);
            fail("'" + requested + "' should be refused, resolved to " + p);
        } catch (WorkingDirectory.Refused e) {
            String shown = requested.replace('\0', '?'); // diagnostics show control characters as '?'
            assertTrue(e.getMessage(), e.getMessage().startsWith("node n-1: working directory '" + shown + "' "));
            assertTrue(e.getMessage(), e.getMessage().contains(because));
            assertTrue(e.getMessage(), e.getMessage().endsWith("(rule " + PolicyRules.WORKDIR + ")"));
        }
    }

    @Test
    public void insideTheWorkspaceResolvesToTheRealPath() throws Exception {
        assertEquals(workspace.toRealPath(), resolve(""));
        assertEquals(workspace.resolve("a/b").toRealPath(), resolve("a/b"));
        assertEquals(workspace.resolve("a/b").toRealPath(), resolve("./a//b/"));
        assertEquals("a link that stays inside is fine", workspace.resolve("a/b").toRealPath(), resolve("in"));
    }

    @Test
    public void escapesAreRefused() throws Exception {
        assertRefused("..", "is not a relative path inside the node's workspace");
        assertRefused("a/../..", "is not a relative path inside the node's workspace");
        assertRefused(outside.toString(), "is not a relative path inside the node's workspace");
        assertRefused("out", "leads outside the node's workspace through a symbolic link");
        assertRefused("a/up", "leads outside the node's workspace through a symbolic link");
        assertRefused("a/up/outside", "leads outside the node's workspace through a symbolic link");
    }

    @Test
    public void theAgentsPrivateDirectoryIsRefusedHoweverItIsReached() throws Exception {
        assertRefused(CredentialStore.DIRECTORY, "private directory");
        assertRefused(CredentialStore.DIRECTORY + "/inner", "private directory");
        assertRefused("secret", "private directory");
        assertRefused("a/../" + CredentialStore.DIRECTORY, "private directory");
    }

    @Test
    public void missingOrNonDirectoryTargetsAreRefused() throws Exception {
        assertRefused("nope", "does not exist");
        assertRefused("file", "is not a directory");
        assertRefused("bad\0name", "is not a valid path");
    }

    // ---- destinations of files the hub pushes ----

    private Path destination(String requested) throws Exception {
        return WorkingDirectory.resolveDestination(workspace, requested, "n-1");
    }

    private void assertDestinationRefused(String requested, String because) throws Exception {
        try {
            Path p = destination(requested);
            fail("'" + requested + "' should be refused, resolved to " + p);
        } catch (WorkingDirectory.Refused e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("node n-1: destination '"));
            assertTrue(e.getMessage(), e.getMessage().contains(because));
            assertTrue(e.getMessage(), e.getMessage().endsWith("(rule " + PolicyRules.WORKDIR + ")"));
        }
    }

    @Test
    public void destinationsInsideResolveUnderRealParentsWhichAreCreated() throws Exception {
        Path real = workspace.toRealPath();
        assertEquals(real.resolve("new.txt"), destination("new.txt"));
        assertEquals(real.resolve("file"), destination("file"));
        assertEquals(real.resolve("a/b/x"), destination("./a//b/x"));
        assertEquals("a link to a directory inside is followed", real.resolve("a/b/x"), destination("in/x"));
        assertEquals(real.resolve("c/d/e/x"), destination("c/d/e/x"));
        assertTrue(Files.isDirectory(workspace.resolve("c/d/e")));
        assertEquals(real.resolve("%2e%2e"), destination("%2e%2e")); // a plain name: nothing is decoded
    }

    @Test
    public void hostileDestinationsAreRefusedAndNothingIsCreated() throws Exception {
        Files.writeString(outside.resolve("target"), "x");
        Files.createSymbolicLink(workspace.resolve("file-link"), outside.resolve("target"));
        Files.createSymbolicLink(workspace.resolve("dangling"), workspace.resolve("nowhere"));
        assertDestinationRefused("", "is not a relative path inside the node's workspace");
        assertDestinationRefused(".", "is not a relative path inside the node's workspace");
        assertDestinationRefused("../x", "is not a relative path inside the node's workspace");
        assertDestinationRefused("a/../../x", "is not a relative path inside the node's workspace");
        assertDestinationRefused(outside.resolve("x").toString(), "is not a relative path inside the node's workspace");
        assertDestinationRefused("out/x", "leads outside the node's workspace through a symbolic link");
        assertDestinationRefused("out/new/x", "leads outside the node's workspace through a symbolic link");
        assertDestinationRefused("a/up/x", "leads outside the node's workspace through a symbolic link");
        assertDestinationRefused(CredentialStore.DIRECTORY + "/x", "private directory");
        assertDestinationRefused(CredentialStore.DIRECTORY, "private directory");
        assertDestinationRefused("secret/x", "private directory");
        assertDestinationRefused("secret/new/x", "private directory");
        assertDestinationRefused("file-link", "is a symbolic link");
        assertDestinationRefused("out", "is a symbolic link");
        assertDestinationRefused("a", "is a directory");
        assertDestinationRefused("file/x", "has a parent that is not a directory");
        assertDestinationRefused("dangling/x", "cannot be resolved");
        assertDestinationRefused("bad\0name", "is not a valid path");
        assertDestinationRefused("n".repeat(256), "has a name longer than 255 bytes");
        assertDestinationRefused("a/".repeat(2100) + "x", "is longer than 4096 bytes");
        try (java.util.stream.Stream<Path> s = Files.list(outside)) {
            assertEquals(1, s.count());
        }
        assertFalse(Files.exists(workspace.resolve("nowhere")));
        try (java.util.stream.Stream<Path> s = Files.list(workspace.resolve(CredentialStore.DIRECTORY))) {
            assertEquals(1, s.count());
        }
    }
}
