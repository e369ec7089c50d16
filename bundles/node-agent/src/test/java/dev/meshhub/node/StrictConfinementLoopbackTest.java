package dev.meshhub.node;

import static dev.meshhub.node.TaskHarness.argv;
import static dev.meshhub.node.TaskHarness.strict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.TaskFinished;

/**
 * A STRICT task cannot read the agent's private state through an allowlisted program: under bwrap
 * the private directory is an empty, read-only tmpfs and nothing outside the workspace and the
 * system directories exists; without confinement, arguments that lead into it (directly, through
 * {@code ..}, through a link, as an option's value) are refused before anything runs.
 */
public class StrictConfinementLoopbackTest {

    private static final String SECRET = "meshhub-secret-value-0123456789";

    @Rule
    public final TaskHarness harness = new TaskHarness();

    private final SandboxPolicy readers = strict(1, "cat", "ls", "head", "id");

    /** A secret in the state directory (outside the workspace) and one in the old place inside it, each behind a link. */
    private void plantSecret() throws Exception {
        for (Path directory : List.of(harness.state(), harness.file(CredentialStore.DIRECTORY))) {
            Path secret = directory.resolve("planted-secret");
            Files.createDirectories(secret.getParent());
            Files.writeString(secret, SECRET);
        }
        Files.createSymbolicLink(harness.file("link"), harness.file(CredentialStore.DIRECTORY));
        Files.createSymbolicLink(harness.file("state-link"), harness.state());
    }

    /** Every way an argument can name the private state: relative, absolute, through links, by dot-dot. */
    private List<List<String>> attacks() {
        String state = harness.state().toString();
        return List.of(List.of("cat", ".meshnode/planted-secret"), List.of("cat", "link/planted-secret"),
                List.of("head", "-n", "5", "./sub/../.meshnode/planted-secret"), List.of("ls", "-a", ".meshnode"),
                List.of("cat", state + "/planted-secret"), List.of("cat", "state-link/planted-secret"),
                List.of("cat", state + "/credential"), List.of("ls", "-a", state), List.of("ls", "state-link/"),
                List.of("head", "--lines=3", "../" + harness.state().getFileName() + "/credential"),
                List.of("cat", harness.file(".meshnode/planted-secret").toString()));
    }

    @Test
    public void underBwrapThePrivateDirectoryIsEmptyAndTheRestOfTheMachineAbsent() throws Exception {
        assertTrue("bwrap must confine on a test machine (apt-get install bubblewrap; .ci/run does)", Confinement.detect("auto",
                StrictLaunch.DEFAULT_TRUSTED_DIRECTORIES).confined());
        FakeHub.NodeStream hub = harness.connect(readers);
        plantSecret();
        Files.writeString(harness.file("public.txt"), "workspace file");
        int i = 0;
        String credential = Files.readString(harness.state().resolve(CredentialStore.CREDENTIAL_FILE)).strip();
        List<List<String>> attempts = new java.util.ArrayList<>(attacks());
        attempts.add(List.of("cat", "/proc/1/environ"));
        attempts.add(List.of("ls", System.getProperty("user.home")));
        for (List<String> attempt : attempts) {
            String id = "t-" + i++;
            hub.assign(id, argv(attempt.toArray(new String[0])).build());
            TaskRun run = hub.awaitFinished(id);
            assertFalse(attempt + " printed the secret: " + run.stdout(), run.stdout().contains(SECRET));
            assertFalse(attempt + ": " + run, run.stdout().contains("planted-secret") || run.stdout().contains("node.properties"));
            assertFalse(attempt + " printed the node's credential", run.stdout().contains(credential));
        }
        hub.assign("t-public", argv("cat", "public.txt").build());
        TaskRun ok = hub.awaitFinished("t-public");
        assertEquals(ok.toString(), TaskFinished.Outcome.SUCCEEDED, ok.finished().getOutcome());
        assertEquals("workspace file", ok.stdout());
        assertTrue("the secret is still there for the agent", Files.readString(harness.state().resolve("planted-secret")).equals(SECRET));
    }

    @Test
    public void unconfinedArgumentsLeadingIntoThePrivateDirectoryAreRefused() throws Exception {
        FakeHub.NodeStream hub = harness.connect(readers, config -> config.confinement("none"));
        plantSecret();
        int i = 0;
        List<List<String>> attempts = new java.util.ArrayList<>(attacks());
        attempts.add(List.of("cat", "--", ".MESHNODE/../.meshnode/x"));
        attempts.add(List.of("cat", "--file=" + harness.state() + "/planted-secret"));
        for (List<String> attempt : attempts) {
            String id = "t-" + i++;
            hub.assign(id, argv(attempt.toArray(new String[0])).build());
            TaskRun run = hub.awaitFinished(id);
            assertEquals(attempt + ": " + run, TaskFinished.Outcome.REFUSED, run.finished().getOutcome());
            assertTrue(run.finished().getDiagnostic(), run.finished().getDiagnostic().endsWith("(rule strict.private-path)"));
        }
        hub.assign("t-id", argv("id", "-u").build());
        assertEquals(TaskFinished.Outcome.SUCCEEDED, hub.awaitFinished("t-id").finished().getOutcome());
    }
}
