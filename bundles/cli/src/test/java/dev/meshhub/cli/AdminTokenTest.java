package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Token-source precedence: --token-file, MESHHUB_ADMIN_TOKEN, MESHHUB_ADMIN_TOKEN_FILE, MESHHUB_HOME, -Dmeshhub.home. */
public class AdminTokenTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private final Map<String, String> env = new HashMap<>();
    private final Map<String, String> props = new HashMap<>();
    private Path optionFile;
    private Path envFile;
    private Path envHome;
    private Path propHome;

    private Path home(String name, String token) throws IOException {
        Path home = tmp.newFolder(name).toPath();
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve("etc/admin.token"), token + "\n");
        return home;
    }

    @Before
    public void setUp() throws IOException {
        optionFile = tmp.newFile("option.token").toPath();
        Files.writeString(optionFile, "from-option\n");
        envFile = tmp.newFile("env.token").toPath();
        Files.writeString(envFile, "  from-env-file  \n\n");
        envHome = home("env-home", "from-env-home");
        propHome = home("prop-home", "from-prop-home");
        env.put("MESHHUB_ADMIN_TOKEN", "from-env");
        env.put("MESHHUB_ADMIN_TOKEN_FILE", envFile.toString());
        env.put("MESHHUB_HOME", envHome.toString());
        props.put("meshhub.home", propHome.toString());
    }

    private AdminToken resolve(Path option) {
        return AdminToken.resolve(option, env, props::get);
    }

    @Test
    public void precedenceFromOptionDownToSystemProperty() {
        assertEquals("from-option", resolve(optionFile).value());
        assertEquals(optionFile.toString(), resolve(optionFile).origin());

        assertEquals("from-env", resolve(null).value());
        assertEquals("the MESHHUB_ADMIN_TOKEN environment variable", resolve(null).origin());

        env.remove("MESHHUB_ADMIN_TOKEN");
        assertEquals("from-env-file", resolve(null).value());

        env.remove("MESHHUB_ADMIN_TOKEN_FILE");
        assertEquals("from-env-home", resolve(null).value());
        assertEquals(envHome.resolve("etc/admin.token").toString(), resolve(null).origin());

        env.remove("MESHHUB_HOME");
        assertEquals("from-prop-home", resolve(null).value());
    }

    @Test
    public void blankVariablesAreSkipped() {
        env.put("MESHHUB_ADMIN_TOKEN", "  ");
        env.put("MESHHUB_ADMIN_TOKEN_FILE", "");
        assertEquals("from-env-home", resolve(null).value());
    }

    @Test
    public void nothingConfiguredIsAUsageErrorSayingWhatToSet() {
        env.clear();
        props.clear();
        try {
            resolve(null);
            fail("expected a CliException");
        } catch (CliException e) {
            assertEquals(2, e.exitCode());
            assertTrue(e.getMessage(), e.getMessage().contains("--token-file")
                    && e.getMessage().contains("MESHHUB_HOME"));
        }
    }

    @Test
    public void unreadableOrEmptyFilesAreUsageErrorsNamingTheFile() throws IOException {
        Path empty = tmp.newFile("empty.token").toPath();
        Path missing = tmp.getRoot().toPath().resolve("missing.token");
        Path twoWords = tmp.newFile("words.token").toPath();
        Files.writeString(twoWords, "two words\n");
        for (Path p : new Path[] {empty, missing, twoWords}) {
            try {
                resolve(p);
                fail("accepted " + p);
            } catch (CliException e) {
                assertEquals(2, e.exitCode());
                assertTrue(e.getMessage(), e.getMessage().contains(p.toString()));
                assertFalse("never echo file content", e.getMessage().contains("two words"));
            }
        }
    }

    @Test
    public void toStringHidesTheToken() {
        assertFalse(resolve(optionFile).toString().contains("from-option"));
    }
}
