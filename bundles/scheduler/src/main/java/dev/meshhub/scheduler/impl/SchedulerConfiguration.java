package dev.meshhub.scheduler.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the management-task scheduler (PID {@value #PID}). */
@ObjectClassDefinition(id = SchedulerConfiguration.PID, name = "meshhub management scheduler",
        description = "Runs every ManagementTask service on these threads, never on network threads.")
public @interface SchedulerConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.scheduler";
    int DEFAULT_THREADS = 2;
    int DEFAULT_HUNG_THREAD_ALLOWANCE = 4;
    int DEFAULT_SHUTDOWN_WAIT_SECONDS = 5;
    int MAX_THREADS = 64;

    @AttributeDefinition(name = "Threads", min = "1", max = "64",
            description = "Threads that run management tasks (1 to 64).")
    int threads() default DEFAULT_THREADS;

    @AttributeDefinition(name = "Hung-thread allowance", min = "0", max = "64",
            description = "Extra threads lent while runs are past their time limit and have not returned, so a"
                    + " hung task does not take a thread from the others (0 to 64).")
    int hungThreadAllowance() default DEFAULT_HUNG_THREAD_ALLOWANCE;

    @AttributeDefinition(name = "Shutdown wait (seconds)", min = "0",
            description = "How long stopping the scheduler waits for interrupted runs to return.")
    int shutdownWaitSeconds() default DEFAULT_SHUTDOWN_WAIT_SECONDS;
}
