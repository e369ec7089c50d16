package dev.meshhub.tasklogs.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogs;

/** Task ids as log names: the layout, and ids refused before they reach the disk. */
public class TaskLogNamesTest {

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    @Test
    public void logsAreShardedByTheFirstTwoCharactersAfterThePrefix() {
        Path root = Path.of("/logs");
        assertEquals(Path.of("/logs/01/t-0123456789abcdef.log"), TaskLogNames.path(root, "t-0123456789abcdef"));
        assertEquals(Path.of("/logs/ab/t-ABcd.log"), TaskLogNames.path(root, "t-ABcd"));
        assertEquals(Path.of("/logs/jo/job_42.log"), TaskLogNames.path(root, "job_42"));
        assertEquals(Path.of("/logs/x/t-x.log"), TaskLogNames.path(root, "t-x"));
        assertEquals(Path.of("/logs/t-/t-.log"), TaskLogNames.path(root, "t-"));
        assertEquals(Path.of("/logs/a/a.log"), TaskLogNames.path(root, "a"));
        assertEquals("t-ABcd", TaskLogNames.taskIdOf("ab", "t-ABcd.log"));
        assertNull("wrong shard", TaskLogNames.taskIdOf("cd", "t-ABcd.log"));
        assertNull(TaskLogNames.taskIdOf("ab", "t-ABcd.log.tmp"));
        assertNull(TaskLogNames.taskIdOf("..", "...log"));
    }

    @Test
    public void idsThatAreNoUsableFileNameAreRefusedEverywhere() throws Exception {
        TaskLogs logs = fixture.component();
        char[] long129 = new char[129];
        Arrays.fill(long129, 'a');
        for (String bad : new String[] {"", "a/b", "..", "t-0123/../../etc", "t-ü", "a b", "a.log", new String(long129),
                null}) {
            refused(() -> logs.start(bad), bad);
            refused(() -> logs.info(bad), bad);
            refused(() -> logs.read(bad, 0), bad);
            refused(() -> logs.grown(bad, 0), bad);
        }
        TaskLogsFixture.await(logs.start("a".repeat(128)).finish("done"));
        assertTrue(logs.info("a".repeat(128)).isPresent());
    }

    @Test
    public void aTaskWithoutALogHasNoInfoAndCannotBeRead() throws Exception {
        TaskLogs logs = fixture.component();
        assertTrue(logs.info("t-none").isEmpty());
        try {
            logs.read("t-none", 0);
            fail("read a log that is not there");
        } catch (NoSuchFileException expected) {
            // as documented
        }
        try {
            logs.read("t-none", -1);
            fail("read from a negative offset");
        } catch (IllegalArgumentException expected) {
            assertEquals("a log offset must be 0 or more, got -1", expected.getMessage());
        }
    }

    private static void refused(TaskLogsFixtureAction action, String id) {
        try {
            action.run();
            fail("accepted task id " + id);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().endsWith("is not usable as a log name: it must be 1 to 128 letters,"
                    + " digits, '-' or '_'"));
        } catch (Exception e) {
            throw new AssertionError("expected IllegalArgumentException for " + id + ", got " + e, e);
        }
    }

    @FunctionalInterface
    private interface TaskLogsFixtureAction {
        void run() throws Exception;
    }
}
