package dev.meshhub.monitor.jsonl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the JSON Lines mesh monitor (PID {@value #PID}). Its schedule is the component's
 * {@code meshhub.management.*} service properties, which the same {@code .cfg} file may override.
 */
@ObjectClassDefinition(id = JsonlMonitorConfiguration.PID, name = "meshhub mesh monitor to JSON Lines (example)",
        description = "Snapshots the mesh on the management scheduler and appends each snapshot as one JSON line"
                + " to <statusDirectory>/mesh.jsonl, rotating it to mesh.jsonl.1 by size.")
public @interface JsonlMonitorConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.monitor.jsonl";
    String DEFAULT_STATUS_DIRECTORY = "data/status";
    long DEFAULT_JOURNAL_TIMEOUT_MILLIS = 5000;
    long MAX_JOURNAL_TIMEOUT_MILLIS = 600_000;
    long DEFAULT_MAX_BYTES = 10L * 1024 * 1024;

    @AttributeDefinition(name = "Status directory",
            description = "Where mesh.jsonl is written (created if missing); a relative path is resolved against"
                    + " the framework property meshhub.home, or the working directory if that is not set.")
    String statusDirectory() default DEFAULT_STATUS_DIRECTORY;

    @AttributeDefinition(name = "Journal timeout (ms)", min = "1", max = "600000",
            description = "How long one run waits for the journal's task counts; past it the line says the"
                    + " journal did not answer. Keep it below the run's time limit (one period by default).")
    long journalTimeoutMillis() default DEFAULT_JOURNAL_TIMEOUT_MILLIS;

    @AttributeDefinition(name = "Largest file (bytes)", min = "1",
            description = "When the next line would take mesh.jsonl past this size, it is renamed to mesh.jsonl.1"
                    + " (replacing an older one) and a new file is started.")
    long maxBytes() default DEFAULT_MAX_BYTES;
}
