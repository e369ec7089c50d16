package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class CredentialStoreTest {

    private static final String CREDENTIAL = "mhc.n-00112233aabb." + "k".repeat(43);

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    public void emptyWorkspaceHasNoIdentity() throws IOException {
        assertFalse(new CredentialStore(tmp.getRoot().toPath().resolve("missing")).load().isPresent());
    }

    @Test
    public void saveCreatesOwnerOnlyDirectoryAndFilesAndLeavesNoTempFiles() throws IOException {
        Path state = tmp.getRoot().toPath().resolve("new/state");
        CredentialStore store = new CredentialStore(state);
        store.save(new NodeIdentity("n-00112233aabb", "web-1", CREDENTIAL));

        assertEquals(state.toAbsolutePath(), store.directory());
        assertEquals("rwx------", mode(store.directory()));
        assertEquals("rw-------", mode(store.credentialFile()));
        assertEquals("rw-------", mode(store.propertiesFile()));
        assertEquals(List.of("credential", "node.properties"), names(store.directory()));
        assertEquals(CREDENTIAL + "\n", Files.readString(store.credentialFile(), StandardCharsets.US_ASCII));
        String props = Files.readString(store.propertiesFile());
        assertFalse("the properties file must not hold the secret", props.contains(CREDENTIAL));

        NodeIdentity loaded = store.load().orElseThrow();
        assertEquals("n-00112233aabb", loaded.nodeId());
        assertEquals("web-1", loaded.name());
        assertEquals(CREDENTIAL, loaded.credential());
        assertFalse("toString must not show the secret", loaded.toString().contains(CREDENTIAL));
    }

    @Test
    public void saveReplacesAnExistingWorldReadableFileWithAnOwnerOnlyOne() throws IOException {
        CredentialStore store = new CredentialStore(tmp.getRoot().toPath());
        Files.createDirectories(store.directory());
        Files.setPosixFilePermissions(store.directory(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(store.credentialFile(), "old");
        Files.setPosixFilePermissions(store.credentialFile(), PosixFilePermissions.fromString("rw-r--r--"));

        store.save(new NodeIdentity("n-00112233aabb", "", CREDENTIAL));

        assertEquals("rwx------", mode(store.directory()));
        assertEquals("rw-------", mode(store.credentialFile()));
        assertEquals(CREDENTIAL, store.load().orElseThrow().credential());
    }

    @Test
    public void failedMoveLeavesNoTempFileBehind() throws IOException {
        CredentialStore store = new CredentialStore(tmp.getRoot().toPath());
        store.save(new NodeIdentity("n-00112233aabb", "", CREDENTIAL));
        // A non-empty directory in the target's place makes the final move fail.
        Path target = store.directory().resolve("blocked");
        Files.createDirectories(target.resolve("child"));
        try {
            store.writeAtomically(target, "x".getBytes(StandardCharsets.US_ASCII));
            fail("the move over a non-empty directory should fail");
        } catch (IOException expected) {
            // expected
        }
        assertEquals(List.of("blocked", "credential", "node.properties"), names(store.directory()));
    }

    @Test
    public void loadTightensALooseCredentialFile() throws IOException {
        CredentialStore store = new CredentialStore(tmp.getRoot().toPath());
        store.save(new NodeIdentity("n-00112233aabb", "", CREDENTIAL));
        Files.setPosixFilePermissions(store.credentialFile(), PosixFilePermissions.fromString("rw-r--r--"));
        store.load();
        assertEquals("rw-------", mode(store.credentialFile()));
    }

    @Test
    public void nodeIdIsRecoveredFromTheCredentialWhenPropertiesAreLost() throws IOException {
        CredentialStore store = new CredentialStore(tmp.getRoot().toPath());
        store.save(new NodeIdentity("n-00112233aabb", "web-1", CREDENTIAL));
        Files.delete(store.propertiesFile());
        assertEquals("n-00112233aabb", store.load().orElseThrow().nodeId());
    }

    @Test
    public void garbageCredentialFileIsReportedWithWhatToDo() throws IOException {
        CredentialStore store = new CredentialStore(tmp.getRoot().toPath());
        store.save(new NodeIdentity("n-00112233aabb", "", CREDENTIAL));
        Files.writeString(store.credentialFile(), "not a credential\n");
        try {
            store.load();
            fail("expected an IOException");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("delete " + store.directory()));
        }
    }

    @Test
    public void emptyOrMultiWordCredentialIsNotStored() {
        CredentialStore store = new CredentialStore(tmp.getRoot().toPath());
        for (String bad : new String[] {"", "two words", "tab\there", "\u00e9t\u00e9"}) {
            try {
                store.save(new NodeIdentity("n-1", "", bad));
                fail("stored " + bad);
            } catch (IOException expected) {
                assertFalse(Files.exists(store.credentialFile()));
            }
        }
    }
}
