package dev.meshhub.node;

import static org.junit.Assert.assertEquals;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class MeshNodeTest {

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void maxTasksOutOfRangeIsAUsageError() throws Exception {
        String workspace = tmp.newFolder("ws").toString();
        for (String value : new String[] {"0", "-1", "1025"}) {
            assertEquals("--max-tasks " + value, AgentExit.USAGE_OR_ENROLLMENT_REFUSED,
                    MeshNode.run(new String[] {"--hub", "127.0.0.1:1", "--workspace", workspace, "--max-tasks", value}));
        }
    }

    @Test
    public void aMalformedPinOrTwoWaysOfVerifyingTheHubAreUsageErrorsAndNothingIsStored() throws Exception {
        java.nio.file.Path workspace = tmp.newFolder("pin").toPath();
        String[][] bad = {
            {"--ca-pin", "sha1:abcd"},
            {"--ca-pin", "sha256:" + "0".repeat(63)},
            {"--ca-pin", "sha256:" + "0".repeat(64), "--insecure-skip-hub-verification"},
            {"--ca-file", "/nonexistent.pem", "--plaintext"},
            {"--confinement", "sometimes"}};
        for (String[] flags : bad) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--hub", "127.0.0.1:1", "--workspace",
                    workspace.toString()));
            args.addAll(java.util.List.of(flags));
            args.addAll(java.util.List.of("--state", tmp.getRoot().toPath().resolve("state").toString()));
            assertEquals(String.join(" ", flags), AgentExit.USAGE_OR_ENROLLMENT_REFUSED, MeshNode.run(args.toArray(new String[0])));
        }
        org.junit.Assert.assertFalse("no .meshnode directory was made", java.nio.file.Files.exists(workspace.resolve(".meshnode")));
        org.junit.Assert.assertFalse("no state directory was made", java.nio.file.Files.exists(tmp.getRoot().toPath().resolve("state")));
    }

    @Test
    public void aStateDirectoryInsideTheWorkspaceIsAUsageErrorAndNothingIsStored() throws Exception {
        java.nio.file.Path workspace = tmp.newFolder("inside").toPath();
        for (String state : new String[] {workspace.resolve("keys").toString(), workspace.toString(), tmp.getRoot().toString()}) {
            assertEquals(state, AgentExit.USAGE_OR_ENROLLMENT_REFUSED, MeshNode.run(new String[] {"--hub", "127.0.0.1:1",
                "--workspace", workspace.toString(), "--state", state, "--token", "mhi.x"}));
        }
        try (java.util.stream.Stream<java.nio.file.Path> entries = java.nio.file.Files.list(workspace)) {
            assertEquals("nothing was written in the workspace", 0, entries.count());
        }
    }
}
