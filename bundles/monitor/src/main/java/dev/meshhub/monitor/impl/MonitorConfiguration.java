package dev.meshhub.monitor.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.meshhub.monitor.snapshot.StatusDirectory;

/**
 * Configuration of the mesh monitor (PID {@value #PID}). Its schedule is not here: it is the
 * component's {@code meshhub.management.*} service properties, which the same {@code .cfg} file may
 * override (for example {@code meshhub.management.period = 10}).
 */
@ObjectClassDefinition(id = MonitorConfiguration.PID, name = "meshhub mesh monitor",
        description = "Snapshots connected nodes, task counts, the journal backlog and the IO lock counters on"
                + " the management scheduler, and writes each snapshot atomically to <statusDirectory>/mesh.json.")
public @interface MonitorConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.monitor";
    String DEFAULT_STATUS_DIRECTORY = StatusDirectory.DEFAULT;
    long DEFAULT_JOURNAL_TIMEOUT_MILLIS = 5000;
    long MAX_JOURNAL_TIMEOUT_MILLIS = 600_000;

    @AttributeDefinition(name = "Status directory",
            description = "Where mesh.json is written (created if missing); a relative path is resolved against"
                    + " the framework property meshhub.home, or the working directory if that is not set.")
    String statusDirectory() default DEFAULT_STATUS_DIRECTORY;

    @AttributeDefinition(name = "Journal timeout (ms)", min = "1", max = "600000",
            description = "How long one run waits for the journal's task counts; past it the snapshot says"
                    + " the journal did not answer. Keep it below the run's time limit (one period by default).")
    long journalTimeoutMillis() default DEFAULT_JOURNAL_TIMEOUT_MILLIS;
}
