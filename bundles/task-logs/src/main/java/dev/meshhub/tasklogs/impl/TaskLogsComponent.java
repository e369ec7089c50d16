package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;

/**
 * The task logs as a service, and their {@code task-log-retention} task: one component, because
 * retention must know which logs are open right now and keep the in-memory total in step. It also
 * offers its {@link TaskLogsState} to this bundle's health check.
 *
 * <p>A new configuration with the same directory applies its caps, reserve, retention and thread count
 * at once, to open logs too; a new directory finishes the open logs (their end record says the
 * directory changed) and serves the new one.
 */
@Component(name = TaskLogsConfiguration.PID, configurationPid = TaskLogsConfiguration.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true,
        service = {TaskLogs.class, ManagementTask.class, TaskLogsState.class})
@ManagementTask.Schedule(name = "task-log-retention", period = 10, unit = TimeUnit.MINUTES)
@Designate(ocd = TaskLogsConfiguration.class)
public final class TaskLogsComponent implements TaskLogs, ManagementTask, TaskLogsState {

    private static final Logger LOG = LoggerFactory.getLogger(TaskLogsComponent.class);
    static final String STOPPED = "the hub stopped while the task was running";
    static final String MOVED = "the hub's task-log directory changed while the task was running";

    private final Clock clock;
    private final Object lifecycle = new Object();
    private String home;
    private volatile DiskTaskLogs logs;

    /** The DS constructor. */
    public TaskLogsComponent() {
        this(Clock.systemUTC());
    }

    TaskLogsComponent(Clock clock) {
        this.clock = clock;
    }

    @Activate
    void activate(BundleContext context, TaskLogsConfiguration config) {
        open(context.getProperty(TaskLogsSettings.HOME_PROPERTY), config);
    }

    /**
     * Activation with meshhub's home directory (null: the working directory).
     *
     * @throws IllegalArgumentException if the configuration is invalid; the component does not start
     */
    void open(String meshhubHome, TaskLogsConfiguration config) {
        TaskLogsSettings settings;
        synchronized (lifecycle) {
            home = meshhubHome;
            settings = resolve(config);
            logs = new DiskTaskLogs(settings, clock);
        }
        LOG.info("task logs active: {}", describe(settings));
    }

    /** A new configuration; an invalid one throws and the previous one stays in force. */
    @Modified
    void modified(TaskLogsConfiguration config) {
        TaskLogsSettings settings;
        DiskTaskLogs previous;
        synchronized (lifecycle) {
            settings = resolve(config);
            previous = logs;
            if (previous != null && previous.root().equals(settings.root())) {
                previous.reconfigure(settings);
                previous = null;
            } else {
                logs = new DiskTaskLogs(settings, clock);
            }
        }
        if (previous != null) {
            int open = previous.openLogs();
            previous.close(MOVED);
            LOG.info("task logs moved from {}; {} open log(s) there were finished", previous.root(), open);
        }
        LOG.info("task logs reconfigured: {}", describe(settings));
    }

    @Deactivate
    void deactivate() {
        DiskTaskLogs stopping;
        synchronized (lifecycle) {
            stopping = logs;
            logs = null;
        }
        if (stopping != null) {
            int open = stopping.openLogs();
            stopping.close(STOPPED);
            LOG.info("task logs stopped: {} open log(s) finished", open);
        }
    }

    private TaskLogsSettings resolve(TaskLogsConfiguration config) {
        return TaskLogsSettings.resolve(config, home, Path.of("").toAbsolutePath());
    }

    private static String describe(TaskLogsSettings settings) {
        return settings.root() + ", " + ByteSizes.format(settings.maxTaskLogBytes()) + " per task, "
                + ByteSizes.format(settings.maxTotalBytes()) + " in all, kept " + settings.retention().toDays()
                + " days, disk reserve " + ByteSizes.format(settings.diskReserveBytes()) + ", " + settings.ioThreads()
                + " IO thread(s)";
    }

    /** The logs serving now; for tests. */
    DiskTaskLogs current() {
        DiskTaskLogs current = logs;
        if (current == null) {
            throw new IllegalStateException("task logs " + TaskLogsConfiguration.PID + " are not active");
        }
        return current;
    }

    @Override
    public TaskLogWriter start(String taskId) {
        return current().start(taskId);
    }

    @Override
    public Optional<TaskLogInfo> info(String taskId) throws IOException {
        return current().info(taskId);
    }

    @Override
    public TaskLogReader read(String taskId, long offset) throws IOException {
        return current().read(taskId, offset);
    }

    @Override
    public CompletionStage<Void> grown(String taskId, long outputBytes) {
        return current().grown(taskId, outputBytes);
    }

    /** One retention run; see {@link TaskLogRetention}. */
    @Override
    public void run() throws IOException {
        current().retention();
    }

    @Override
    public Status status() {
        return current().status();
    }
}
