package dev.meshhub.bench.probe.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** What the stall probe does (PID {@value #PID}): every new {@link #run()} holds one table lock. */
@ObjectClassDefinition(id = StallConfiguration.PID, name = "meshhub benchmark stall",
        description = "Holds an exclusive lock on one journal table for a while, so that the hub's database work on it"
                + " stalls (benchmark 3). Benchmark tooling: never deploy it on a hub in service.")
public @interface StallConfiguration {

    String PID = "dev.meshhub.bench.stall";

    @AttributeDefinition(name = "Run", description = "Id of this stall; a new id starts a new one.")
    String run();

    @AttributeDefinition(name = "Table", description = "The journal table to lock (LOCK TABLE ... IN EXCLUSIVE MODE).")
    String table() default "INVITES";

    @AttributeDefinition(name = "Stall", description = "How long the lock is held, in milliseconds.")
    int stallMs() default 500;

    @AttributeDefinition(name = "Database", description = "The journal's database directory, relative to the hub's home.")
    String database() default "data/journal";

    @AttributeDefinition(name = "Output", description = "Result file (Java properties), relative to the hub's home; a file"
            + " named like it with '.locked' appended appears the moment the lock is held.")
    String output();
}
