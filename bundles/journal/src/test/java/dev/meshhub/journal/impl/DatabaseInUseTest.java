package dev.meshhub.journal.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;

/** A second JVM on the same database directory is refused with a message that says what to do. */
public class DatabaseInUseTest {

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void secondProcessOnTheSameDirectoryIsRefused() throws Exception {
        DerbyEnrollmentStore store = journal.open();
        journal.invite(store);

        Result held = runSecondHub();
        assertEquals(held.output, SecondHubProcess.REFUSED, held.exitCode);
        assertTrue(held.output, held.output.contains("REFUSED: database directory " + store.databaseDirectory()
                + " is in use by another meshhub (or Derby) process; stop it or point databaseDirectory elsewhere"));

        // Once the first hub has stopped, the directory is free again.
        store.close();
        Result free = runSecondHub();
        assertEquals(free.output, SecondHubProcess.OPENED, free.exitCode);
    }

    private record Result(int exitCode, String output) {
    }

    private Result runSecondHub() throws Exception {
        Path output = journal.root().resolve("second-hub-" + System.nanoTime() + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java,
                "-cp", System.getProperty("java.class.path"),
                "-Dderby.stream.error.file=" + journal.root().resolve("second-hub-derby.log"),
                SecondHubProcess.class.getName(),
                journal.directory.toString()))
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS);
            fail("the second hub did not finish: " + Files.readString(output, StandardCharsets.UTF_8));
        }
        return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }

}
