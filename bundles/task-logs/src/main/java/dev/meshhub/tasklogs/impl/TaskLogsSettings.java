package dev.meshhub.tasklogs.impl;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The task logs' configuration, checked, with the directory made absolute.
 *
 * @param root             absolute, normalised log directory
 * @param maxTaskLogBytes  most output bytes one log keeps
 * @param maxTotalBytes    most bytes all log files together hold
 * @param retention        how long a finished log is kept after its last write
 * @param diskReserveBytes usable disk space the logs leave alone
 * @param ioThreads        size of the IO pool
 */
record TaskLogsSettings(Path root, long maxTaskLogBytes, long maxTotalBytes, Duration retention, long diskReserveBytes,
                        int ioThreads) {

    /** Framework property naming meshhub's home directory. */
    static final String HOME_PROPERTY = "meshhub.home";

    /**
     * Checks the configuration and resolves the directory against meshhub's home.
     *
     * @param home             the framework property {@value #HOME_PROPERTY}, or null
     * @param workingDirectory the process's working directory
     * @throws IllegalArgumentException naming the key, the value and what is accepted
     */
    static TaskLogsSettings resolve(TaskLogsConfiguration config, String home, Path workingDirectory) {
        long perTask = atLeast("maxTaskLogBytes", config.maxTaskLogBytes(), 1,
                TaskLogsConfiguration.DEFAULT_MAX_TASK_LOG_BYTES + ", 1 GiB");
        long total = atLeast("maxTotalBytes", config.maxTotalBytes(), 1, TaskLogsConfiguration.DEFAULT_MAX_TOTAL_BYTES + ", 8 GiB");
        long reserve = atLeast("diskReserveBytes", config.diskReserveBytes(), 0,
                TaskLogsConfiguration.DEFAULT_DISK_RESERVE_BYTES + ", 256 MiB");
        int days = config.retentionDays();
        if (days < 1 || days > TaskLogsConfiguration.MAX_RETENTION_DAYS) {
            throw new IllegalArgumentException(TaskLogsConfiguration.PID + ": retentionDays must be between 1 and "
                    + TaskLogsConfiguration.MAX_RETENTION_DAYS + ", got " + days + " (default "
                    + TaskLogsConfiguration.DEFAULT_RETENTION_DAYS + ")");
        }
        int threads = config.ioThreads();
        if (threads < 1 || threads > TaskLogsConfiguration.MAX_IO_THREADS) {
            throw new IllegalArgumentException(TaskLogsConfiguration.PID + ": ioThreads must be between 1 and "
                    + TaskLogsConfiguration.MAX_IO_THREADS + ", got " + threads + " (default "
                    + TaskLogsConfiguration.DEFAULT_IO_THREADS + ")");
        }
        return new TaskLogsSettings(directory(config.directory(), home, workingDirectory), perTask, total,
                Duration.ofDays(days), reserve, threads);
    }

    private static long atLeast(String key, long value, long least, String defaultValue) {
        if (value < least) {
            throw new IllegalArgumentException(TaskLogsConfiguration.PID + ": " + key + " must be "
                    + (least == 0 ? "0 or more" : "at least " + least) + ", got " + value + " (default " + defaultValue + ")");
        }
        return value;
    }

    /** Resolved the way the journal and the mirror resolve their directories. */
    private static Path directory(String configured, String home, Path workingDirectory) {
        if (configured == null || configured.isBlank()) {
            throw new IllegalArgumentException(TaskLogsConfiguration.PID + ": directory must not be empty (default "
                    + TaskLogsConfiguration.DEFAULT_DIRECTORY + ")");
        }
        try {
            Path base = home == null || home.isBlank() ? workingDirectory : workingDirectory.resolve(home.strip());
            return base.resolve(Path.of(configured.strip())).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(TaskLogsConfiguration.PID + ": directory is not a valid path: "
                    + e.getMessage(), e);
        }
    }
}
