package dev.meshhub.journal.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the journal (PID {@value #PID}). */
@ObjectClassDefinition(id = JournalConfiguration.PID, name = "meshhub journal",
        description = "Invite tokens, enrolled nodes and their credentials, in an embedded Derby database.")
public @interface JournalConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.journal";
    String DEFAULT_DATABASE_DIRECTORY = "data/journal";
    int DEFAULT_DB_THREADS = 2;
    int DEFAULT_QUEUE_CAPACITY = 1024;

    @AttributeDefinition(name = "Database directory",
            description = "Derby database directory; a relative path is resolved against the framework"
                    + " property meshhub.home, or the working directory if that is not set.")
    String databaseDirectory() default DEFAULT_DATABASE_DIRECTORY;

    @AttributeDefinition(name = "Database threads", min = "1", max = "64",
            description = "Threads doing the journal's database work.")
    int dbThreads() default DEFAULT_DB_THREADS;

    @AttributeDefinition(name = "Queue capacity", min = "1", max = "1000000",
            description = "How much work may wait for a database thread before callers are told to retry.")
    int queueCapacity() default DEFAULT_QUEUE_CAPACITY;
}
