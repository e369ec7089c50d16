package dev.meshhub.tasklogs.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the task logs (PID {@value #PID}). The retention task's schedule is not here: it is
 * the component's {@code meshhub.management.*} service properties, which the same {@code .cfg} file may
 * override (for example {@code meshhub.management.period = 30}).
 */
@ObjectClassDefinition(id = TaskLogsConfiguration.PID, name = "meshhub task logs",
        description = "Where every task's output is logged (<directory>/<two characters of the task id>/<task id>.log),"
                + " how much one log and all logs together may hold, how long finished logs are kept, and how much"
                + " free disk is left alone.")
public @interface TaskLogsConfiguration {

    /** The configuration PID, also the component's name. */
    String PID = "dev.meshhub.tasklogs";
    String DEFAULT_DIRECTORY = "data/logs";
    long DEFAULT_MAX_TASK_LOG_BYTES = 1L << 30;
    long DEFAULT_MAX_TOTAL_BYTES = 8L << 30;
    int DEFAULT_RETENTION_DAYS = 14;
    /** Ten years: longer than any real use, short enough that the arithmetic never overflows. */
    int MAX_RETENTION_DAYS = 3660;
    long DEFAULT_DISK_RESERVE_BYTES = 256L << 20;
    int DEFAULT_IO_THREADS = 2;
    int MAX_IO_THREADS = 64;

    @AttributeDefinition(name = "Log directory",
            description = "Where task logs are written (created if missing); a relative path is resolved against the"
                    + " framework property meshhub.home, or the working directory if that is not set.")
    String directory() default DEFAULT_DIRECTORY;

    @AttributeDefinition(name = "Most output per task (bytes)", min = "1",
            description = "Output bytes one task's log keeps; past them the log says it was truncated and where, and"
                    + " the rest of the task's output is only counted (live callers still receive it).")
    long maxTaskLogBytes() default DEFAULT_MAX_TASK_LOG_BYTES;

    @AttributeDefinition(name = "Most bytes of all logs (bytes)", min = "1",
            description = "Size of all task logs together; past it new output is left out of the logs (marked"
                    + " truncated) until the task-log-retention task frees space, which it does down to 80% of this.")
    long maxTotalBytes() default DEFAULT_MAX_TOTAL_BYTES;

    @AttributeDefinition(name = "Retention (days)", min = "1", max = "3660",
            description = "Finished logs not written for this many days are removed by the task-log-retention task.")
    int retentionDays() default DEFAULT_RETENTION_DAYS;

    @AttributeDefinition(name = "Free-disk reserve (bytes)", min = "0",
            description = "Logs stop (marked truncated) rather than leave less than this usable on their disk.")
    long diskReserveBytes() default DEFAULT_DISK_RESERVE_BYTES;

    @AttributeDefinition(name = "IO threads", min = "1", max = "64",
            description = "Threads that write and scan the logs; one log is written by one thread at a time.")
    int ioThreads() default DEFAULT_IO_THREADS;
}
