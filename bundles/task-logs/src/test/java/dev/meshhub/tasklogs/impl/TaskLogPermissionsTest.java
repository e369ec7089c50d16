package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.bytes;
import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.task.TaskOutput.Stream;

/** Task output may hold secrets: its logs and their directories are readable by the hub's user only. */
public class TaskLogPermissionsTest {

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    @Test
    public void logsAndTheirDirectoriesAreOwnerOnly() throws Exception {
        TaskLogWriter writer = fixture.component().start("t-secretive");
        await(writer.append(Stream.STDOUT, bytes("PASSWORD=hunter2\n")));
        await(writer.finish("SUCCEEDED"));
        Path file = fixture.logFile("t-secretive");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }
}
