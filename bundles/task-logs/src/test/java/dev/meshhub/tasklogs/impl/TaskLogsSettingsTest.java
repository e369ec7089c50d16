package dev.meshhub.tasklogs.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.Test;

import dev.meshhub.testing.TypedConfigs;

/** The configuration: defaults, directories resolved as the other bundles do, bad values refused by name. */
public class TaskLogsSettingsTest {

    private static final Path WORK = Path.of("/srv/work");

    private static TaskLogsSettings resolve(Map<String, ?> values, String home) {
        return TaskLogsSettings.resolve(TypedConfigs.of(TaskLogsConfiguration.class, values), home, WORK);
    }

    private static void refused(String key, Object value, String expected) {
        try {
            resolve(Map.of(key, value), null);
            fail(key + " = " + value + " accepted");
        } catch (IllegalArgumentException e) {
            assertEquals("dev.meshhub.tasklogs: " + expected, e.getMessage());
        }
    }

    @Test
    public void defaults() {
        TaskLogsSettings settings = resolve(Map.of(), "/opt/meshhub");
        assertEquals(Path.of("/opt/meshhub/data/logs"), settings.root());
        assertEquals(1L << 30, settings.maxTaskLogBytes());
        assertEquals(8L << 30, settings.maxTotalBytes());
        assertEquals(Duration.ofDays(14), settings.retention());
        assertEquals(256L << 20, settings.diskReserveBytes());
        assertEquals(2, settings.ioThreads());
    }

    @Test
    public void directoriesResolveAgainstMeshhubHomeOrTheWorkingDirectory() {
        assertEquals(WORK.resolve("rel/data/logs"), resolve(Map.of(), "rel").root());
        assertEquals(WORK.resolve("data/logs"), resolve(Map.of(), null).root());
        assertEquals(Path.of("/var/log/meshhub"), resolve(Map.of("directory", " /var/log/meshhub "), "rel").root());
        assertEquals(WORK.resolve("logs"), resolve(Map.of("directory", "data/../logs"), null).root());
    }

    @Test
    public void badValuesAreRefusedNamingTheKeyAndWhatIsAllowed() {
        refused("maxTaskLogBytes", 0L, "maxTaskLogBytes must be at least 1, got 0 (default 1073741824, 1 GiB)");
        refused("maxTotalBytes", -5L, "maxTotalBytes must be at least 1, got -5 (default 8589934592, 8 GiB)");
        refused("diskReserveBytes", -1L, "diskReserveBytes must be 0 or more, got -1 (default 268435456, 256 MiB)");
        refused("retentionDays", 0, "retentionDays must be between 1 and 3660, got 0 (default 14)");
        refused("retentionDays", 100_000, "retentionDays must be between 1 and 3660, got 100000 (default 14)");
        refused("ioThreads", 0, "ioThreads must be between 1 and 64, got 0 (default 2)");
        refused("ioThreads", 65, "ioThreads must be between 1 and 64, got 65 (default 2)");
        refused("directory", " ", "directory must not be empty (default data/logs)");
        refused("directory", "bad\0path", "directory is not a valid path: Nul character not allowed: bad\0path");
    }

    @Test
    public void zeroReserveAndOneThreadAreFine() {
        TaskLogsSettings settings = resolve(Map.of("diskReserveBytes", 0L, "ioThreads", 1, "retentionDays", 3660), null);
        assertEquals(0, settings.diskReserveBytes());
        assertEquals(1, settings.ioThreads());
        assertTrue(settings.retention().toDays() == 3660);
    }
}
