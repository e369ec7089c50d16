package dev.meshhub.journal.impl;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * The journal as OSGi services: one {@link JournalDatabase} opened on activation (immediate, so a
 * second hub on the same directory is refused at start), with the {@link DerbyEnrollmentStore} and
 * the {@link DerbyTaskJournal} (also the {@link AuditLog}) on it. Deactivation closes the task
 * journal (its queued writes are committed), then the enrollment store, then shuts Derby down, so a
 * bundle update never leaves the database booted by a dead class loader.
 *
 * <p>One component for the three services keeps one database and one lifecycle per hub.
 */
@Component(service = {EnrollmentStore.class, TaskJournal.class, AuditLog.class, ManagementTask.class},
        configurationPid = JournalConfiguration.PID, immediate = true)
@ManagementTask.Schedule(name = "journal-retention", period = 1, unit = java.util.concurrent.TimeUnit.HOURS)
@Designate(ocd = JournalConfiguration.class)
public final class JournalComponent implements EnrollmentStore, TaskJournal, AuditLog, ManagementTask {

    /** Framework property naming meshhub's home directory. */
    static final String HOME_PROPERTY = "meshhub.home";

    private static final Logger LOG = LoggerFactory.getLogger(JournalComponent.class);

    /** What is open for one configuration; closing it gives everything back in order. */
    private record Opened(JournalDatabase database, DerbyEnrollmentStore enrollment, DerbyTaskJournal tasks) {

        static Opened open(JournalSettings settings, TaskJournalSettings taskSettings, Clock clock, String hubInstance) {
            JournalDatabase database = JournalDatabase.open(settings.databaseDirectory(), clock,
                    settings.dbThreads(), settings.queueCapacity(), hubInstance);
            DerbyEnrollmentStore enrollment = null;
            try {
                enrollment = new DerbyEnrollmentStore(database, clock);
                return new Opened(database, enrollment, new DerbyTaskJournal(database, clock, taskSettings));
            } catch (RuntimeException | Error e) {
                if (enrollment != null) {
                    enrollment.close();
                }
                database.close();
                throw e;
            }
        }

        /** Writes first (committed), then enrollment, then the database's own share: Derby shuts down last. */
        void close() {
            try {
                tasks.close();
            } finally {
                try {
                    enrollment.close();
                } finally {
                    database.close();
                }
            }
        }
    }

    private final Object lifecycle = new Object();
    private final Clock clock = Clock.systemUTC();
    private String home;
    private String hubInstance;
    private JournalSettings settings;
    private volatile Opened opened;
    private volatile JournalRetention.Keep keep = new JournalRetention.Keep(java.time.Duration.ofDays(30),
            java.time.Duration.ofDays(365), java.time.Duration.ofDays(30));

    /** The journal-retention management task: deletes old finished tasks, audit rows and invites, in small batches. */
    @Override
    public void run() throws Exception {
        Opened current = opened;
        if (current == null) {
            return;
        }
        new JournalRetention(current.database(), current.tasks().finishedCounts()::deleted).run(keep, clock.instant());
    }

    @Activate
    void activate(BundleContext context, JournalConfiguration config) {
        synchronized (lifecycle) {
            home = context.getProperty(HOME_PROPERTY);
            // New at every start of the framework, the same while it runs: a bundle update is not a restart.
            hubInstance = context.getProperty(Constants.FRAMEWORK_UUID);
            configure(config);
        }
    }

    @Modified
    void modified(JournalConfiguration config) {
        synchronized (lifecycle) {
            configure(config);
        }
    }

    @Deactivate
    void deactivate() {
        synchronized (lifecycle) {
            Opened current = opened;
            if (current != null) {
                current.close();
            }
        }
    }

    /**
     * Checks the configuration, then opens what it changes. An invalid configuration throws before
     * anything is touched, so the running journal stays. A change of only the task journal's sizes
     * replaces just the task journal: the database stays booted, and tasks in flight are not
     * treated as a restart.
     */
    private void configure(JournalConfiguration config) {
        keep = new JournalRetention.Keep(java.time.Duration.ofDays(config.taskRetentionDays()),
                java.time.Duration.ofDays(config.auditRetentionDays()), java.time.Duration.ofDays(config.inviteRetentionDays()));
        JournalSettings next = JournalSettings.resolve(config.databaseDirectory(), config.dbThreads(),
                config.queueCapacity(), home, Path.of("").toAbsolutePath());
        TaskJournalSettings nextTasks = new TaskJournalSettings(config.writeQueueCapacity(), config.maxBatch(),
                config.outputTailBytes());
        Opened previous = opened;
        if (previous != null && next.equals(settings)) {
            if (!nextTasks.equals(previous.tasks().settings())) {
                // Close first: its queued writes commit before the new writer starts, so order holds.
                previous.tasks().close();
                opened = new Opened(previous.database(), previous.enrollment(),
                        new DerbyTaskJournal(previous.database(), clock, nextTasks));
                LOG.info("task journal reconfigured: write queue of {}, batches of at most {}, output tail of {} bytes",
                        nextTasks.writeQueueCapacity(), nextTasks.maxBatch(), nextTasks.outputTailBytes());
            }
            return;
        }
        boolean sameDirectory = previous != null
                && previous.database().directory().equals(next.databaseDirectory());
        if (sameDirectory) {
            // One database, one owner: close before reopening with new pool sizes.
            previous.close();
        }
        opened = Opened.open(next, nextTasks, clock, hubInstance);
        settings = next;
        if (previous != null && !sameDirectory) {
            previous.close();
        }
        LOG.info("journal configured: {} ({} thread(s), queue of {}; write queue of {}, batches of at most {},"
                        + " output tail of {} bytes)", next.databaseDirectory(), next.dbThreads(), next.queueCapacity(),
                nextTasks.writeQueueCapacity(), nextTasks.maxBatch(), nextTasks.outputTailBytes());
    }

    // ---- EnrollmentStore ----

    @Override
    public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
        return opened.enrollment().createInvite(ttl, note);
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline) {
        return opened.enrollment().enroll(inviteToken, requestedName, address, deadline);
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address, Instant deadline,
            String requestId) {
        return opened.enrollment().enroll(inviteToken, requestedName, address, deadline, requestId);
    }

    @Override
    public Optional<EnrolledNode> authenticate(String credential) {
        return opened.enrollment().authenticate(credential);
    }

    @Override
    public List<EnrolledNode> nodes() {
        return opened.enrollment().nodes();
    }

    @Override
    public Optional<EnrolledNode> find(String idOrName) {
        return opened.enrollment().find(idOrName);
    }

    @Override
    public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
        return opened.enrollment().revokeNode(idOrName);
    }

    @Override
    public CompletionStage<EnrolledNode> removeNode(String idOrName) {
        return opened.enrollment().removeNode(idOrName);
    }

    @Override
    public CompletionStage<Void> retireCredential(String nodeId) {
        return opened.enrollment().retireCredential(nodeId);
    }

    // ---- TaskJournal ----

    @Override
    public CompletionStage<TaskRecord> create(NewTask task) {
        return opened.tasks().create(task);
    }

    @Override
    public CompletionStage<TaskRecord> createDispatched(NewTask task) {
        return opened.tasks().createDispatched(task);
    }

    @Override
    public CompletionStage<Boolean> transition(String taskId, TaskState state, Integer exitCode, String diagnostic) {
        return opened.tasks().transition(taskId, state, exitCode, diagnostic);
    }

    @Override
    public CompletionStage<Void> appendOutput(String taskId, byte[] data) {
        return opened.tasks().appendOutput(taskId, data);
    }

    @Override
    public CompletionStage<Void> recordOutput(String taskId, long outputBytes, String truncation) {
        return opened.tasks().recordOutput(taskId, outputBytes, truncation);
    }

    @Override
    public int outputTailBytes() {
        return opened.tasks().outputTailBytes();
    }

    @Override
    public CompletionStage<List<String>> failNodeTasks(String nodeId, String diagnostic) {
        return opened.tasks().failNodeTasks(nodeId, diagnostic);
    }

    @Override
    public CompletionStage<Optional<TaskRecord>> get(String taskId) {
        return opened.tasks().get(taskId);
    }

    @Override
    public CompletionStage<List<TaskRecord>> list(TaskQuery query) {
        return opened.tasks().list(query);
    }

    @Override
    public CompletionStage<Map<TaskState, Long>> countByState() {
        return opened.tasks().countByState();
    }

    @Override
    public java.util.Optional<dev.meshhub.api.stats.JournalStats> stats() {
        Opened current = opened;
        return current == null ? java.util.Optional.empty() : java.util.Optional.of(current.tasks().writerStats());
    }

    @Override
    public long writeBacklog() {
        return opened.tasks().writeBacklog();
    }

    // ---- AuditLog ----

    @Override
    public CompletionStage<Void> record(String actor, String action, String subject, String detail) {
        return opened.tasks().record(actor, action, subject, detail);
    }

    @Override
    public CompletionStage<List<dev.meshhub.api.audit.AuditEntry>> recent(int limit) {
        return opened.tasks().recentAudit(limit);
    }
}
