package dev.meshhub.journal.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the journal (PID {@value #PID}). */
@ObjectClassDefinition(id = JournalConfiguration.PID, name = "meshhub journal",
        description = "Invite tokens, enrolled nodes and their credentials, the task journal and the audit"
                + " trail, in an embedded Derby database.")
public @interface JournalConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.journal";
    String DEFAULT_DATABASE_DIRECTORY = "data/journal";
    int DEFAULT_DB_THREADS = 2;
    int DEFAULT_QUEUE_CAPACITY = 1024;
    int DEFAULT_WRITE_QUEUE_CAPACITY = 8192;
    int DEFAULT_MAX_BATCH = 512;
    int DEFAULT_OUTPUT_TAIL_BYTES = 65536;

    @AttributeDefinition(name = "Database directory",
            description = "Derby database directory; a relative path is resolved against the framework"
                    + " property meshhub.home, or the working directory if that is not set.")
    String databaseDirectory() default DEFAULT_DATABASE_DIRECTORY;

    @AttributeDefinition(name = "Database threads", min = "1", max = "64",
            description = "Threads running enrollment transactions and task reads; task and audit writes have"
                    + " one writer thread of their own.")
    int dbThreads() default DEFAULT_DB_THREADS;

    @AttributeDefinition(name = "Queue capacity", min = "1", max = "1000000",
            description = "How much work may wait for a database thread before callers are told to retry.")
    int queueCapacity() default DEFAULT_QUEUE_CAPACITY;

    @AttributeDefinition(name = "Write queue capacity", min = "1", max = "1000000",
            description = "Task and audit writes that may wait for the journal's writer thread before callers"
                    + " are told the journal is overloaded.")
    int writeQueueCapacity() default DEFAULT_WRITE_QUEUE_CAPACITY;

    @AttributeDefinition(name = "Largest batch", min = "1", max = "100000",
            description = "Most waiting writes the writer applies in one transaction, made durable by one commit.")
    int maxBatch() default DEFAULT_MAX_BATCH;

    @AttributeDefinition(name = "Output tail bytes", min = "1", max = "16777216",
            description = "How many of a task's last output bytes the journal keeps (both streams as they arrived).")
    int outputTailBytes() default DEFAULT_OUTPUT_TAIL_BYTES;

    @AttributeDefinition(name = "Task retention (days)", min = "0", max = "36600",
            description = "Finished tasks (with their environment values and output tails) created longer ago than this are"
                    + " deleted by the journal-retention task (hourly, in small batches); 0 keeps them forever.")
    int taskRetentionDays() default 30;

    @AttributeDefinition(name = "Audit retention (days)", min = "0", max = "36600",
            description = "Audit rows older than this are deleted by the journal-retention task; 0 keeps them forever.")
    int auditRetentionDays() default 365;

    @AttributeDefinition(name = "Invite retention (days)", min = "0", max = "36600",
            description = "Invites spent or expired longer ago than this are deleted by the journal-retention task; 0 keeps"
                    + " them forever.")
    int inviteRetentionDays() default 30;
}
