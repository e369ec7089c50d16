package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Locale;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The task logs as a health check ({@code hc.name = task-logs}): CRITICAL when the component is not
 * active, when a log could not be written and no write has succeeded since (logs are being truncated),
 * when no file can be made in the directory (one probe file per run, created and deleted), or when the
 * disk is below {@code diskReserveBytes}; WARN below twice the reserve, or when all logs together reached
 * {@code maxTotalBytes} (new output is left out until retention frees space).
 */
@Component(service = HealthCheck.class, property = {HealthCheck.NAME + "=task-logs", HealthCheck.TAGS + "=meshhub"})
public final class TaskLogsHealthCheck implements HealthCheck {

    private static final String CONFIG = "etc/" + TaskLogsConfiguration.PID + ".cfg";

    @Reference(name = "state", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile TaskLogsState state;

    @Override
    public Result execute() {
        TaskLogsState current = state;
        TaskLogsState.Status status = null;
        if (current != null) {
            try {
                status = current.status();
            } catch (IllegalStateException stopping) {
                // deactivated while still bound: reported as not active
            }
        }
        return check(status);
    }

    /** The check of task logs in the given state (null: the component is not active). */
    static Result check(TaskLogsState.Status status) {
        ResultLog log = new ResultLog();
        if (status == null) {
            log.add(new ResultLog.Entry(Result.Status.CRITICAL, "task output is not logged: component "
                    + TaskLogsConfiguration.PID + " is not active (its configuration refused, or its bundle stopped: see"
                    + " the hub's log)"));
            return new Result(log);
        }
        if (status.writeFailure() != null) {
            log.add(new ResultLog.Entry(Result.Status.CRITICAL, "task logs cannot be written: " + status.writeFailure()
                    + " (directory " + status.directory() + "); the logs are marked truncated. Make the directory"
                    + " writable or free space; the check recovers at the next log write that succeeds"));
        }
        try {
            Files.createDirectories(status.directory());
            Files.delete(Files.createTempFile(status.directory(), ".health", ".probe"));
        } catch (IOException | RuntimeException e) {
            log.add(new ResultLog.Entry(Result.Status.CRITICAL, "cannot create a file in " + status.directory() + " (" + e
                    + "): new task logs will be truncated; make it writable, or set directory in " + CONFIG));
        }
        try {
            long free = Files.getFileStore(status.directory()).getUsableSpace();
            long reserve = status.diskReserveBytes();
            String figures = String.format(Locale.ROOT, "%,d MiB usable on the task logs' disk (%s), reserve %,d MiB",
                    free >> 20, status.directory(), reserve >> 20);
            if (free < reserve) {
                log.add(new ResultLog.Entry(Result.Status.CRITICAL, figures + ": task logs are truncated until space is"
                        + " freed (or diskReserveBytes lowered in " + CONFIG + ")"));
            } else {
                log.add(new ResultLog.Entry(free < 2 * reserve ? Result.Status.WARN : Result.Status.OK, figures));
            }
        } catch (IOException | RuntimeException e) {
            log.add(new ResultLog.Entry(Result.Status.CRITICAL, "cannot read the free space of " + status.directory() + ": " + e));
        }
        String usage = status.openLogs() + " log(s) open; " + ByteSizes.format(status.totalBytes()) + " of maxTotalBytes "
                + ByteSizes.format(status.maxTotalBytes()) + " in use";
        if (status.totalBytes() >= status.maxTotalBytes()) {
            log.add(new ResultLog.Entry(Result.Status.WARN, usage + ": new output is left out of the logs until the"
                    + " task-log-retention task frees space (or maxTotalBytes is raised in " + CONFIG + ")"));
        } else {
            log.add(new ResultLog.Entry(Result.Status.OK, usage));
        }
        return new Result(log);
    }
}
