package dev.meshhub.api.management;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.TimeUnit;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * A periodic piece of hub housekeeping (a status snapshot, a cleanup sweep), run by the scheduler
 * bundle. Register an implementation as an OSGi service with the properties below and the scheduler
 * picks it up at once (whiteboard pattern); unregister it, or stop its bundle, and it stops running.
 * Changing its properties (for example through ConfigAdmin) reschedules it at once.
 *
 * <p>A task never starts a thread or a loop of its own: the scheduler runs each {@link #run()} on its
 * own bounded threads, never on gRPC or Netty threads, so a run may block on disk or the database.
 * A run that throws is logged with the task's name and counted; the next run happens on schedule. A
 * run still going at its time limit is interrupted (so a well-behaved task stops on interrupt); until
 * it returns, the task gets no further runs. Other tasks are never held up by one task's failures.
 *
 * <p>With Declarative Services, declare the schedule in one line:
 *
 * <pre>
 * &#64;Component(service = ManagementTask.class)
 * &#64;ManagementTask.Schedule(name = "mesh-monitor", period = 30)
 * public class MeshMonitor implements ManagementTask { ... }
 * </pre>
 *
 * <p>A service with a missing, non-numeric, zero or negative period, an unknown unit, or a bad time
 * limit is not run: the scheduler logs a warning naming the service and lists it as ignored, with the
 * reason, in its status.
 */
@ConsumerType
public interface ManagementTask {

    /**
     * Service property (String, optional): the task's name in logs, thread names and status. Defaults
     * to the service's {@code component.name}, else its {@code service.pid}, else its class name.
     *
     * @since 1.0
     */
    String NAME = "meshhub.management.name";

    /**
     * Service property (Long, Integer, or a String holding a whole number; required): time between
     * the starts of two runs, in {@link #UNIT}. Must be positive.
     *
     * @since 1.0
     */
    String PERIOD = "meshhub.management.period";

    /**
     * Service property (String, optional): the {@link TimeUnit} name ({@code MILLISECONDS},
     * {@code SECONDS}, {@code MINUTES}, {@code HOURS}, {@code DAYS}) of {@link #PERIOD} and
     * {@link #TIME_LIMIT}, any case. Default {@code SECONDS}.
     *
     * @since 1.0
     */
    String UNIT = "meshhub.management.unit";

    /**
     * Service property (Boolean, or a String {@code true}/{@code false}; optional): whether a run may
     * start while the previous one is still going. Default {@code false}: a period that arrives while
     * a run is going is skipped (and counted as skipped).
     *
     * @since 1.0
     */
    String CONCURRENT = "meshhub.management.concurrent";

    /**
     * Service property (same types as {@link #PERIOD}; optional): how long one run may take, in
     * {@link #UNIT}, before it is counted as timed out and its thread interrupted. Absent or zero:
     * one period. Negative or non-numeric: the service is ignored.
     *
     * @since 1.0
     */
    String TIME_LIMIT = "meshhub.management.timeLimit";

    /**
     * Does one run of the task. Runs on a scheduler thread, which may block; honour interruption,
     * which is how a run past its time limit, or whose service goes away, is asked to stop.
     *
     * @throws Exception anything; it is logged with the task's name and counted as a failed run
     */
    void run() throws Exception;

    /**
     * Declares a Declarative Services component's schedule as the service properties above, in one
     * line. Values from the component's configuration override them, so an admin can change a
     * task's period in its {@code .cfg} file (key {@code meshhub.management.period}).
     */
    @ComponentPropertyType
    @Retention(RetentionPolicy.CLASS)
    @Target(ElementType.TYPE)
    @interface Schedule {

        /** Prefix that maps the members below to the property names above. */
        String PREFIX_ = "meshhub.management.";

        /** See {@link ManagementTask#NAME}. */
        String name();

        /** See {@link ManagementTask#PERIOD}. */
        long period();

        /** See {@link ManagementTask#UNIT}. */
        TimeUnit unit() default TimeUnit.SECONDS;

        /** See {@link ManagementTask#CONCURRENT}. */
        boolean concurrent() default false;

        /** See {@link ManagementTask#TIME_LIMIT}; zero (the default) means one period. */
        long timeLimit() default 0;
    }
}
