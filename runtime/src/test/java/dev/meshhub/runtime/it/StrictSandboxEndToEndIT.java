package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import org.junit.Rule;
import org.junit.Test;

/**
 * A real node under STRICT, attacked as an admin-API user would: no allowlisted program reads the
 * node's private state (its key, certificate and the hub's CA), through any path or link; a
 * program placed early on the agent's PATH under an allowlisted name never runs; the hub refuses
 * to pull the private state; and {@code meshctl nodes} shows the node confined.
 */
public class StrictSandboxEndToEndIT {

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    @Test
    public void aStrictNodeCannotBeMadeToGiveUpItsPrivateState() throws Exception {
        // An attacker-writable directory first on the agent's PATH, holding an 'ls' and a 'cat'.
        Path evil = Files.createDirectories(runtime.home.resolve("evil-bin"));
        for (String name : List.of("ls", "cat")) {
            Path fake = evil.resolve(name);
            Files.writeString(fake, "#!/bin/sh\necho SHADOWED-" + name + "\n");
            Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        String token = runtime.meshctl("invite", "create").assertExit(0).stdout().strip();
        Path workspace = runtime.home.resolve("strict-workspace");
        Process node = runtime.start(runtime.home.resolve("strict-workspace.log"),
                Map.of("PATH", evil + ":" + System.getenv("PATH"), "XDG_STATE_HOME", runtime.home.resolve("node-state").toString()),
                runtime.home.resolve("bin/meshnode").toString(), "--hub", "127.0.0.1:" + runtime.nodePort, "--workspace",
                workspace.toString(), "--token", token, "--ca-pin", runtime.caPin(), "--name", "strict");
        Poll.until("strict listed", RuntimeUnderTest.PATIENCE, () -> String.valueOf(runtime.listNodes()).contains("\"strict\""));
        Path state = runtime.nodeState(workspace);
        assertFalse("the private state is outside the workspace", Files.exists(workspace.resolve(".meshnode")));
        String key = Files.readString(state.resolve("node.key"));
        assertTrue(key.contains("PRIVATE KEY"));
        Files.createSymbolicLink(workspace.resolve("innocent"), state);

        RuntimeUnderTest.Result nodes = runtime.meshctl("nodes");
        assertTrue(nodes.stdout(), nodes.stdout().contains("CONFINEMENT") && nodes.stdout().contains(" bwrap"));

        for (List<String> attempt : List.of(List.of("cat", "innocent/node.key"), List.of("cat", state.resolve("node.key").toString()),
                List.of("head", "-n", "3", "../node-state/meshnode/" + state.getFileName() + "/node.key"), List.of("ls", "-a", state.toString()),
                List.of("ls", "-a", "innocent/"), List.of("cat", ".meshnode/node.key"), List.of("cat", "/proc/self/environ"))) {
            List<String> args = new java.util.ArrayList<>(List.of("exec", "strict", "--"));
            args.addAll(attempt);
            RuntimeUnderTest.Result result = runtime.meshctl(args.toArray(new String[0]));
            String all = result.stdout() + result.stderr();
            assertFalse(attempt + " gave up the key: " + all, all.contains("PRIVATE KEY") || all.contains(key.substring(30, 60)));
            assertFalse(attempt + " ran the shadowing program: " + all, all.contains("SHADOWED"));
            assertFalse(attempt + " listed the private files: " + all, all.contains("node.crt"));
        }
        RuntimeUnderTest.Result ls = runtime.meshctl("exec", "strict", "--", "ls");
        ls.assertExit(0);
        assertTrue("the real ls ran: " + ls.stdout(), ls.stdout().contains("innocent"));

        RuntimeUnderTest.Result pull = runtime.meshctl("sync", "pull", "strict", ".meshnode/node.key");
        assertNotEquals(pull.toString(), 0, pull.exit());
        assertTrue(pull.stderr(), pull.stderr().contains("rule path.private"));
        for (String path : List.of("innocent/node.key", "innocent")) {
            RuntimeUnderTest.Result linked = runtime.meshctl("sync", "pull", "strict", path);
            assertNotEquals(linked.toString(), 0, linked.exit());
            assertFalse(linked.toString(), (linked.stdout() + linked.stderr()).contains(key.substring(30, 60)));
        }
        assertEquals("the node still holds its key", key, Files.readString(state.resolve("node.key")));
        node.destroy();
    }
}
