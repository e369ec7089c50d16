package dev.meshhub.journal.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.nio.file.Path;

import org.junit.Test;

public class JournalSettingsTest {

    private static final Path WORKING = Path.of("/srv/work").toAbsolutePath();

    @Test
    public void relativeDirectoryResolvesAgainstMeshhubHome() {
        JournalSettings settings = JournalSettings.resolve("data/journal", 2, 1024, "/opt/meshhub", WORKING);
        assertEquals(Path.of("/opt/meshhub/data/journal").toAbsolutePath(), settings.databaseDirectory());
        assertEquals(2, settings.dbThreads());
        assertEquals(1024, settings.queueCapacity());
    }

    @Test
    public void relativeHomeResolvesAgainstTheWorkingDirectory() {
        assertEquals(WORKING.resolve("home/data/journal"),
                JournalSettings.resolve("data/journal", 1, 1, "home", WORKING).databaseDirectory());
    }

    @Test
    public void withoutHomeTheWorkingDirectoryIsUsed() {
        assertEquals(WORKING.resolve("data/journal"),
                JournalSettings.resolve("data/journal", 1, 1, null, WORKING).databaseDirectory());
        assertEquals(WORKING.resolve("data/journal"),
                JournalSettings.resolve("data/journal", 1, 1, " ", WORKING).databaseDirectory());
    }

    @Test
    public void absoluteDirectoryIsKeptAndNormalised() {
        assertEquals(Path.of("/var/lib/journal").toAbsolutePath(),
                JournalSettings.resolve("/var/lib/x/../journal", 1, 1, "/opt/meshhub", WORKING).databaseDirectory());
    }

    @Test
    public void invalidValuesAreRefusedNamingTheKey() {
        assertRefused("databaseDirectory must not be empty", "", 2, 1024);
        assertRefused("databaseDirectory must not be empty", null, 2, 1024);
        assertRefused("databaseDirectory must not contain ';'", "data;create=true", 2, 1024);
        assertRefused("dbThreads must be between 1 and 64, got 0", "d", 0, 1024);
        assertRefused("dbThreads must be between 1 and 64, got 65", "d", 65, 1024);
        assertRefused("queueCapacity must be between 1 and 1000000, got 0", "d", 2, 0);
        assertRefused("queueCapacity must be between 1 and 1000000, got -5", "d", 2, -5);
        assertRefused("databaseDirectory is not a valid path", "bad\0path", 2, 1024);
    }

    private static void assertRefused(String expected, String directory, int threads, int queue) {
        try {
            JournalSettings.resolve(directory, threads, queue, null, WORKING);
            fail("accepted " + directory + ", " + threads + ", " + queue);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().startsWith(expected)) {
                throw new AssertionError("message was: " + e.getMessage(), e);
            }
        }
    }
}
