package dev.meshhub.node;

import static dev.meshhub.node.TaskHarness.argv;
import static dev.meshhub.node.TaskHarness.permissive;
import static dev.meshhub.node.TaskHarness.shell;
import static dev.meshhub.node.TaskHarness.strict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.PolicyRules;
import dev.meshhub.proto.v1.TaskFinished;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.Rule;
import org.junit.Test;

/**
 * What the node refuses before anything runs (RELIABILITY 16, 17): the sandbox policy, checked
 * again on the node, its updates, and the working directory.
 */
public class TaskPolicyLoopbackTest {

    @Rule
    public final TaskHarness harness = new TaskHarness();

    private static void assertRefused(TaskRun run, String rule) {
        TaskFinished f = run.finished();
        assertEquals(run.toString(), TaskFinished.Outcome.REFUSED, f.getOutcome());
        assertTrue(f.getDiagnostic(), f.getDiagnostic().contains("(rule " + rule + ")"));
        assertFalse("a refused task has no exit code", f.hasExitCode());
        assertEquals("nothing may run: " + run, 1, run.messages.size());
    }

    private List<String> workspaceEntries() throws Exception {
        try (Stream<Path> s = Files.list(harness.workspace)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    public void strictRefusesAShellCommandAndStartsNoShell() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "touch"));
        hub.assign("t-shell", shell("touch marker").build());
        TaskRun run = hub.awaitFinished("t-shell");
        assertRefused(run, PolicyRules.NO_SHELL);
        assertTrue(run.finished().getDiagnostic(), run.finished().getDiagnostic().startsWith("node " + FakeHub.NODE_ID));
        assertFalse(Files.exists(harness.file("marker")));
        assertTrue(harness.logged("t-shell REFUSED"));
    }

    @Test
    public void strictRefusesMetacharactersGlobsNewlinesAndCommandOptions() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "touch", "find"));
        List<String> hostile = List.of("m;touch pwned", "m && touch pwned", "m | touch pwned", "`touch pwned`",
                "$(touch pwned)", "m\ntouch pwned", "*", "pwned?", "~/pwned", "m > pwned");
        for (int i = 0; i < hostile.size(); i++) {
            hub.assign("t-meta-" + i, argv("touch", hostile.get(i)).build());
        }
        hub.assign("t-exec", argv("find", ".", "-exec", "touch", "pwned", "+").build());
        hub.assign("t-option-as-program", argv("-rf").build());
        hub.assign("t-not-allowed", argv("rm", "marker").build());
        hub.assign("t-relative-path", argv("./touch", "marker").build());

        for (int i = 0; i < hostile.size(); i++) {
            assertRefused(hub.awaitFinished("t-meta-" + i), PolicyRules.METACHARACTER);
        }
        assertRefused(hub.awaitFinished("t-exec"), PolicyRules.OPTION_INJECTION);
        assertRefused(hub.awaitFinished("t-option-as-program"), PolicyRules.OPTION_INJECTION);
        assertRefused(hub.awaitFinished("t-not-allowed"), PolicyRules.ALLOWLIST);
        assertRefused(hub.awaitFinished("t-relative-path"), PolicyRules.PATH_RULE);
        assertEquals("nothing was created", List.of(), workspaceEntries());

        // The same program with a plain argument does run: the refusals were the policy's doing.
        hub.assign("t-plain", argv("touch", "marker").build());
        TaskRun plain = hub.awaitFinished("t-plain");
        assertEquals(plain.toString(), TaskFinished.Outcome.SUCCEEDED, plain.finished().getOutcome());
        assertTrue(Files.exists(harness.file("marker")));
    }

    @Test
    public void strictRefusesLoaderVariables() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "touch"));
        hub.assign("t-ld", argv("touch", "marker").putEnvironment("LD_PRELOAD", "/tmp/evil.so").build());
        assertRefused(hub.awaitFinished("t-ld"), PolicyRules.ENVIRONMENT);
        hub.assign("t-gconv", argv("touch", "marker").putEnvironment("GCONV_PATH", "/tmp/evil").build());
        assertRefused(hub.awaitFinished("t-gconv"), PolicyRules.ENVIRONMENT);
        hub.assign("t-other", argv("touch", "marker").putEnvironment("APP_SECRET_MODE", "1").build());
        assertRefused(hub.awaitFinished("t-other"), PolicyRules.ENV_ALLOWLIST);
        assertFalse("nothing ran", Files.exists(harness.file("marker")));
        hub.assign("t-lang", argv("touch", "marker").putEnvironment("LC_ALL", "C").build());
        assertEquals(TaskFinished.Outcome.SUCCEEDED, hub.awaitFinished("t-lang").finished().getOutcome());
    }

    @Test
    public void policyUpdateToPermissiveLetsAShellCommandRun() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1));
        hub.assign("t-before", shell("echo made > by-shell").build());
        assertRefused(hub.awaitFinished("t-before"), PolicyRules.NO_SHELL);

        hub.updatePolicy(permissive(2));
        hub.assign("t-after", shell("echo made > by-shell; echo done").build());
        TaskRun run = hub.awaitFinished("t-after");
        assertEquals(run.toString(), TaskFinished.Outcome.SUCCEEDED, run.finished().getOutcome());
        assertEquals("done\n", run.stdout());
        assertEquals("made\n", Files.readString(harness.file("by-shell")));
        assertTrue(harness.logText(), harness.logged("policy now PERMISSIVE (revision 2)"));

        hub.updatePolicy(strict(3));
        hub.assign("t-strict-again", shell("echo again").build());
        assertRefused(hub.awaitFinished("t-strict-again"), PolicyRules.NO_SHELL);
        assertTrue(harness.logText(), harness.logged("policy now STRICT (revision 3)"));
    }

    @Test
    public void staleOrRepeatedPolicyUpdateIsIgnored() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(5));
        hub.updatePolicy(permissive(4));
        hub.updatePolicy(permissive(5));
        hub.assign("t-shell", shell("touch marker").build());
        assertRefused(hub.awaitFinished("t-shell"), PolicyRules.NO_SHELL);
        assertFalse(Files.exists(harness.file("marker")));
        assertTrue(harness.logText(), harness.logged("ignoring a stale policy update PERMISSIVE (revision 4)"));
        assertTrue(harness.logText(), harness.logged("ignoring a stale policy update PERMISSIVE (revision 5)"));
        assertFalse(harness.logText(), harness.logged("policy now PERMISSIVE"));
    }

    @Test
    public void workingDirectoryEscapeThroughDotDotIsRefused() throws Exception {
        Path outside = harness.newFolder("outside");
        FakeHub.NodeStream hub = harness.connect(strict(1, "touch"));
        hub.assign("t-up", argv("touch", "marker").setWorkingDirectory("../outside").build());
        hub.assign("t-down-up", argv("touch", "marker").setWorkingDirectory("sub/../../outside").build());
        hub.assign("t-absolute", argv("touch", "marker").setWorkingDirectory(outside.toString()).build());
        assertRefused(hub.awaitFinished("t-up"), PolicyRules.WORKDIR);
        assertRefused(hub.awaitFinished("t-down-up"), PolicyRules.WORKDIR);
        assertRefused(hub.awaitFinished("t-absolute"), PolicyRules.WORKDIR);
        assertFalse(Files.exists(outside.resolve("marker")));
    }

    @Test
    public void workingDirectoryEscapeThroughASymlinkIsRefused() throws Exception {
        Path outside = harness.newFolder("outside");
        Files.createDirectories(harness.file("inside/deeper"));
        Files.createSymbolicLink(harness.file("out"), outside);
        Files.createSymbolicLink(harness.file("inside/deeper/up"), outside);
        FakeHub.NodeStream hub = harness.connect(strict(1, "touch"));
        hub.assign("t-link", argv("touch", "marker").setWorkingDirectory("out").build());
        hub.assign("t-nested-link", argv("touch", "marker").setWorkingDirectory("inside/deeper/up").build());
        TaskRun link = hub.awaitFinished("t-link");
        assertRefused(link, PolicyRules.WORKDIR);
        assertTrue(link.finished().getDiagnostic(), link.finished().getDiagnostic()
                .contains("working directory 'out' leads outside the node's workspace through a symbolic link"));
        assertRefused(hub.awaitFinished("t-nested-link"), PolicyRules.WORKDIR);
        assertFalse(Files.exists(outside.resolve("marker")));
    }

    @Test
    public void privateMissingOrNonDirectoryWorkingDirectoryIsRefused() throws Exception {
        FakeHub.NodeStream hub = harness.connect(strict(1, "touch"));
        Files.writeString(harness.file("a-file"), "x");
        hub.assign("t-private", argv("touch", "marker").setWorkingDirectory(CredentialStore.DIRECTORY).build());
        hub.assign("t-missing", argv("touch", "marker").setWorkingDirectory("no/such/dir").build());
        hub.assign("t-file", argv("touch", "marker").setWorkingDirectory("a-file").build());
        TaskRun priv = hub.awaitFinished("t-private");
        assertRefused(priv, PolicyRules.WORKDIR);
        assertTrue(priv.finished().getDiagnostic(), priv.finished().getDiagnostic().contains("private directory"));
        assertFalse(Files.exists(harness.file(CredentialStore.DIRECTORY).resolve("marker")));
        TaskRun missing = hub.awaitFinished("t-missing");
        assertRefused(missing, PolicyRules.WORKDIR);
        assertTrue(missing.finished().getDiagnostic(), missing.finished().getDiagnostic().contains("does not exist"));
        TaskRun file = hub.awaitFinished("t-file");
        assertRefused(file, PolicyRules.WORKDIR);
        assertTrue(file.finished().getDiagnostic(), file.finished().getDiagnostic().contains("is not a directory"));
    }

    @Test
    public void aSymlinkThatStaysInsideTheWorkspaceIsAllowed() throws Exception {
        Files.createDirectories(harness.file("real/dir"));
        Files.createSymbolicLink(harness.file("alias"), harness.file("real/dir"));
        FakeHub.NodeStream hub = harness.connect(strict(1, "pwd"));
        hub.assign("t-pwd", argv("pwd", "-P").setWorkingDirectory("alias").build());
        TaskRun run = hub.awaitFinished("t-pwd");
        assertEquals(run.toString(), TaskFinished.Outcome.SUCCEEDED, run.finished().getOutcome());
        assertEquals(harness.file("real/dir").toRealPath() + "\n", run.stdout());
    }
}
