package dev.meshhub.monitor.impl;

import java.nio.file.Path;
import java.time.Duration;

import dev.meshhub.monitor.snapshot.StatusDirectory;

/**
 * The monitor's configuration, checked, with the status file made absolute.
 *
 * @param statusFile     absolute path of {@code mesh.json}
 * @param journalTimeout how long one run waits for the journal's task counts
 */
record MonitorSettings(Path statusFile, Duration journalTimeout) {

    /**
     * Checks the configuration and resolves the status directory against meshhub's home.
     *
     * @param home             the framework property {@code meshhub.home}, or null
     * @param workingDirectory the process's working directory
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    static MonitorSettings resolve(MonitorConfiguration config, String home, Path workingDirectory) {
        long timeout = config.journalTimeoutMillis();
        if (timeout < 1 || timeout > MonitorConfiguration.MAX_JOURNAL_TIMEOUT_MILLIS) {
            throw new IllegalArgumentException("journalTimeoutMillis must be between 1 and "
                    + MonitorConfiguration.MAX_JOURNAL_TIMEOUT_MILLIS + ", got " + timeout);
        }
        Path directory = StatusDirectory.resolve(config.statusDirectory(), home, workingDirectory);
        return new MonitorSettings(directory.resolve(MeshJsonFile.NAME), Duration.ofMillis(timeout));
    }
}
