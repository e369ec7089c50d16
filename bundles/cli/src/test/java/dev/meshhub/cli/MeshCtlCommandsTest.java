package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;
import picocli.CommandLine.Command;

/** meshctl builds only the command a run names (start-up cost), and still knows every command for help and errors. */
public class MeshCtlCommandsTest {

    private static final List<Class<?>> ALL = new ArrayList<>(MeshCtl.COMMANDS.values());

    @Test
    public void everyCommandIsListedUnderTheNameItsAnnotationGives() {
        MeshCtl.COMMANDS.forEach((name, type) ->
                assertEquals(type.getName(), name, type.getAnnotation(Command.class).name()));
        assertEquals(14, MeshCtl.COMMANDS.size());
    }

    @Test
    public void aRunBuildsOnlyTheCommandItNames() {
        assertEquals(List.of(NodesCommand.class), new ArrayList<>(MeshCtl.commandsFor(new String[] {"nodes", "--all"})));
        assertEquals(List.of(ExecCommand.class),
                new ArrayList<>(MeshCtl.commandsFor(new String[] {"exec", "web-1", "--", "nodes"})));
        assertEquals("a root option's value is not the command", List.of(StatusCommand.class),
                new ArrayList<>(MeshCtl.commandsFor(new String[] {"--token-file", "nodes", "status"})));
        assertEquals(List.of(StatusCommand.class),
                new ArrayList<>(MeshCtl.commandsFor(new String[] {"--hub=127.0.0.1:1", "--verbose", "status"})));
        assertEquals(List.of(PolicyCommand.class),
                new ArrayList<>(MeshCtl.commandsFor(new String[] {"--hub", "h:1", "--ca-pin", "sha256:x", "policy", "get", "n"})));
    }

    @Test
    public void aRunThatNamesNoKnownCommandBuildsThemAll() {
        for (String[] args : new String[][] {{}, {"--help"}, {"-V"}, {"help"}, {"help", "nodes"}, {"frobnicate"},
                {"--hub", "h:1"}, {"--", "nodes"}}) {
            assertEquals(String.join(" ", args), ALL, new ArrayList<>(MeshCtl.commandsFor(args)));
        }
    }

    @Test
    public void helpListsEveryCommandAndHelpOfACommandWorks() {
        String help = run("--help");
        for (String name : MeshCtl.COMMANDS.keySet()) {
            assertTrue(name + " in\n" + help, help.contains("\n  " + name + " "));
        }
        assertTrue(run("help", "sync").contains("pull"));
        assertTrue(run("sync", "--help").contains("push"));
    }

    private static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = MeshCtl.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), Map.of());
        assertEquals(String.join(" ", args), 0, code);
        return out.toString(StandardCharsets.UTF_8);
    }
}
