package dev.meshhub.monitor.jsonl;

import java.nio.file.Path;
import java.time.Duration;

import dev.meshhub.monitor.snapshot.StatusDirectory;

/**
 * The JSON Lines monitor's configuration, checked, with the file made absolute.
 *
 * @param file           absolute path of {@code mesh.jsonl}
 * @param journalTimeout how long one run waits for the journal's task counts
 * @param maxBytes       the size past which the file is rotated
 */
record JsonlSettings(Path file, Duration journalTimeout, long maxBytes) {

    /**
     * Checks the configuration and resolves the status directory against meshhub's home.
     *
     * @param home             the framework property {@code meshhub.home}, or null
     * @param workingDirectory the process's working directory
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    static JsonlSettings resolve(JsonlMonitorConfiguration config, String home, Path workingDirectory) {
        long timeout = config.journalTimeoutMillis();
        if (timeout < 1 || timeout > JsonlMonitorConfiguration.MAX_JOURNAL_TIMEOUT_MILLIS) {
            throw new IllegalArgumentException("journalTimeoutMillis must be between 1 and "
                    + JsonlMonitorConfiguration.MAX_JOURNAL_TIMEOUT_MILLIS + ", got " + timeout);
        }
        if (config.maxBytes() < 1) {
            throw new IllegalArgumentException("maxBytes must be positive (default "
                    + JsonlMonitorConfiguration.DEFAULT_MAX_BYTES + "), got " + config.maxBytes());
        }
        Path directory = StatusDirectory.resolve(config.statusDirectory(), home, workingDirectory);
        return new JsonlSettings(directory.resolve(MeshJsonlFile.NAME), Duration.ofMillis(timeout), config.maxBytes());
    }
}
