package dev.meshhub.metrics.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of /metrics (PID {@value #PID}). */
@ObjectClassDefinition(id = MetricsConfiguration.PID, name = "meshhub metrics",
        description = "Prometheus metrics at /metrics on the hub's HTTP surface.")
public @interface MetricsConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.metrics";

    @AttributeDefinition(name = "Task count max age (s)", min = "0", max = "3600",
            description = "meshhub_tasks (tasks by state) is counted in the journal at most this often; scrapes in"
                    + " between get the last count, its age in meshhub_tasks_count_age_seconds. 0: every scrape.")
    int taskCountMaxAgeSeconds() default 5;

    @AttributeDefinition(name = "Journal timeout (ms)", min = "1", max = "60000",
            description = "How long a scrape waits for the journal's task count before it serves the last one.")
    long journalTimeoutMillis() default 2000;

    @AttributeDefinition(name = "JVM metrics", description = "Also serve the JVM's metrics (memory, GC, threads,"
            + " classes, process CPU and file descriptors) from client_java's instrumentation.")
    boolean jvm() default true;
}
