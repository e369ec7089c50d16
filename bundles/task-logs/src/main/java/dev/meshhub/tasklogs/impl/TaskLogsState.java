package dev.meshhub.tasklogs.impl;

import java.nio.file.Path;

/**
 * What the task-logs component tells its health check: a service private to this bundle (its package
 * is not exported), so that the check can report the component missing, as Felix joins its own
 * private components by references.
 */
public interface TaskLogsState {

    /**
     * The task logs now.
     *
     * @param directory        the log directory
     * @param writeFailure     the last write failure not followed by a successful write, or null
     * @param totalBytes       bytes all logs hold, as far as the hub knows
     * @param maxTotalBytes    the cap on that
     * @param diskReserveBytes usable disk space the logs leave alone
     * @param openLogs         logs being written
     */
    record Status(Path directory, String writeFailure, long totalBytes, long maxTotalBytes, long diskReserveBytes,
                  int openLogs) {
    }

    Status status();
}
