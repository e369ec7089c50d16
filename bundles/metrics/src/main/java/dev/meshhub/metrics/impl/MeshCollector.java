package dev.meshhub.metrics.impl;

import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.TaskScheduleState;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeLinkStats;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskState;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

/**
 * The mesh as meshhub's services see it at the moment of a scrape: nodes, the journal, IO locks,
 * management tasks. Each service is read through a supplier (null while it is away: its families are
 * then left out, and {@code meshhub_service_up} says which one is missing). Label sets are bounded: no
 * node id or task id, only states, modes and management task names.
 */
final class MeshCollector implements MultiCollector {

    /** The services a scrape reads; each supplier may return null. */
    record Services(Supplier<NodeDirectory> nodes, Supplier<TaskJournal> journal, Supplier<LockRegistry> locks,
                    Supplier<ManagementScheduler> scheduler, Supplier<SandboxPolicy> policy, Supplier<TaskDispatcher> dispatcher,
                    Supplier<dev.meshhub.api.sync.FileTransfers> transfers) {
    }

    /** The reasons NodeDirectory.enrollmentRefusals names, each served from the start (at 0); anything else is "other". */
    static final List<String> REFUSAL_REASONS = List.of("rate_limited", "no_csr", "bad_csr", "credential_rejected", "timeout",
            "internal", "malformed", "unknown", "expired", "used", "revoked", "name_taken", "deadline", "unavailable", "other");

    /** The kinds of task the dispatcher names, each served from the start; any other counts as "other". */
    static final List<String> TASK_KINDS = List.of("command", "push");

    private final Services services;
    private final TaskCounts taskCounts;
    private final Clock clock;

    MeshCollector(Services services, Clock clock, Duration taskCountMaxAge, Duration journalTimeout) {
        this.services = services;
        this.clock = clock;
        this.taskCounts = new TaskCounts(clock, taskCountMaxAge, journalTimeout);
    }

    @Override
    public MetricSnapshots collect() {
        Families families = new Families();
        NodeDirectory nodes = services.nodes().get();
        TaskJournal journal = services.journal().get();
        LockRegistry locks = services.locks().get();
        ManagementScheduler scheduler = services.scheduler().get();
        SandboxPolicy policy = services.policy().get();
        families.gauge("meshhub_service_up", "Whether each meshhub service a scrape reads is registered (1) or away (0)")
                .point(nodes == null ? 0 : 1, "service", "transport")
                .point(journal == null ? 0 : 1, "service", "journal")
                .point(locks == null ? 0 : 1, "service", "locks")
                .point(scheduler == null ? 0 : 1, "service", "scheduler")
                .point(policy == null ? 0 : 1, "service", "policy")
                .done();
        if (nodes != null) {
            nodes(families, nodes, policy);
        }
        if (journal != null) {
            journal(families, journal);
        }
        if (locks != null) {
            locks(families, locks.stats());
        }
        dev.meshhub.api.sync.FileTransfers transfers = services.transfers().get();
        if (transfers != null) {
            List<dev.meshhub.api.sync.TransferProgress> running = transfers.inProgress();
            long pulls = running.stream().filter(t -> t.direction().equals("pull")).count();
            long pushes = running.size() - pulls;
            families.gauge("meshhub_transfers_active", "File transfers running now, by direction (pull: node to the mirror)")
                    .point(pulls, "direction", "pull").point(pushes, "direction", "push").done();
            transfers.stats().ifPresent(stats -> {
                families.counter("meshhub_sync_files", "Files synced since the transport started, by direction")
                        .point(stats.filesPulled(), "direction", "pull").point(stats.filesPushed(), "direction", "push").done();
                families.counter("meshhub_sync_bytes", "Bytes synced since the transport started, by direction (resumed bytes counted once)")
                        .point(stats.bytesPulled(), "direction", "pull").point(stats.bytesPushed(), "direction", "push").done();
            });
        }
        TaskDispatcher dispatcher = services.dispatcher().get();
        if (dispatcher != null) {
            dispatcher.stats().ifPresent(stats -> {
                Families.Counter byKind = families.counter("meshhub_tasks_dispatched",
                        "Tasks the dispatcher accepted for a node since the transport started, by kind (command, push)");
                for (String kind : TASK_KINDS) {
                    byKind.point(stats.byKind().getOrDefault(kind, 0L), "kind", kind);
                }
                byKind.point(stats.byKind().entrySet().stream().filter(e -> !TASK_KINDS.contains(e.getKey()))
                        .mapToLong(Map.Entry::getValue).sum(), "kind", "other");
                byKind.done();
                families.histogram("meshhub_dispatch_start_seconds", "From a dispatch to the node reporting the task started"
                        + " (journal, send, the node's own start), since the transport started", stats.startSeconds());
            });
        }
        if (scheduler != null) {
            management(families, scheduler.tasks());
        }
        return new MetricSnapshots(families.snapshots());
    }

    private static void nodes(Families families, NodeDirectory directory, SandboxPolicy policy) {
        List<NodeSession> connected = directory.connected();
        families.gauge("meshhub_nodes_connected", "Nodes holding a session with this hub now", connected.size());
        Map<String, Integer> confinement = new TreeMap<>(Map.of("bwrap", 0, "unconfined", 0, "unreported", 0, "other", 0));
        Map<SandboxMode, Integer> modes = new EnumMap<>(SandboxMode.class);
        for (SandboxMode mode : SandboxMode.values()) {
            modes.put(mode, 0);
        }
        for (NodeSession session : connected) {
            confinement.merge(confinementClass(session.confinement()), 1, Integer::sum);
            if (policy != null) {
                try {
                    modes.merge(policy.policyFor(session.nodeId(), session.name()).mode(), 1, Integer::sum);
                } catch (RuntimeException e) {
                    // a policy that fails for one node: that node is not counted under any mode
                }
            }
        }
        Families.Gauge byConfinement = families.gauge("meshhub_nodes_by_confinement",
                "Connected nodes by how they confine STRICT tasks, as their Hello said");
        confinement.forEach((kind, count) -> byConfinement.point(count, "confinement", kind));
        byConfinement.done();
        if (policy != null) {
            Families.Gauge byMode = families.gauge("meshhub_nodes_by_policy_mode", "Connected nodes by the sandbox mode in force for them");
            modes.forEach((mode, count) -> byMode.point(count, "mode", mode.name()));
            byMode.done();
        }
        NodeLinkStats links = directory.linkStats();
        families.counter("meshhub_enrollment_attempts", "Enrollment attempts the node port received (accepted or refused)",
                links.enrollmentAttempts());
        Map<String, Long> refused = new TreeMap<>();
        for (String reason : REFUSAL_REASONS) {
            refused.put(reason, 0L);
        }
        directory.enrollmentRefusals().forEach((reason, count) -> refused.merge(REFUSAL_REASONS.contains(reason) ? reason : "other",
                count, Long::sum));
        Families.Counter refusals = families.counter("meshhub_enrollment_refusals",
                "Enrollments and handshakes the node port refused since it started, by reason");
        refused.forEach((reason, count) -> refusals.point(count, "reason", reason));
        refusals.done();
        families.counter("meshhub_session_takeovers", "Sessions opened for a node identity that already had one, by outcome")
                .point(links.takeoversRefused(), "outcome", "refused")
                .point(links.takeoversReplaced(), "outcome", "replaced")
                .done();
    }

    /** A bounded class of a node's free-text confinement ("bwrap", "unconfined: why", "" from an older agent). */
    static String confinementClass(String confinement) {
        String value = confinement == null ? "" : confinement.strip().toLowerCase(Locale.ROOT);
        if (value.isEmpty()) {
            return "unreported";
        }
        if (value.startsWith("bwrap")) {
            return "bwrap";
        }
        return value.startsWith("unconfined") ? "unconfined" : "other";
    }

    private void journal(Families families, TaskJournal journal) {
        families.gauge("meshhub_journal_write_backlog", "Journal writes accepted and not yet committed", journal.writeBacklog());
        journal.stats().ifPresent(stats -> {
            families.histogram("meshhub_journal_commit_seconds", "How long each journal commit took (the log force: the disk"
                    + " sync), since the journal opened", stats.commitSeconds());
            families.histogram("meshhub_journal_writes_per_commit", "Writes per journal commit (group commit's batch sizes),"
                    + " since the journal opened", stats.writesPerCommit());
        });
        TaskCounts.Counted counted;
        try {
            counted = taskCounts.read(journal);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (counted == null) {
            return;
        }
        Families.Gauge byState = families.gauge("meshhub_tasks", "Tasks in the journal by state (counted at most every few"
                + " seconds; see meshhub_tasks_count_age_seconds)");
        for (TaskState state : TaskState.values()) {
            byState.point(counted.byState().get(state), "state", state.name());
        }
        byState.done();
        families.gauge("meshhub_tasks_count_age_seconds", "Age of the task count in meshhub_tasks",
                Math.max(0, Duration.between(counted.at(), clock.instant()).toMillis() / 1000.0));
    }

    private static void locks(Families families, LockStats stats) {
        families.gauge("meshhub_locks_live", "IO locks held now", stats.live());
        families.gauge("meshhub_locks_oldest_age_seconds", "Age of the oldest live IO lock (0 with none)",
                stats.oldestAge() == null ? 0 : stats.oldestAge().toMillis() / 1000.0);
        families.counter("meshhub_lock_events", "IO lock events since the lock registry started, by kind")
                .point(stats.acquired(), "event", "acquired")
                .point(stats.released(), "event", "released")
                .point(stats.expired(), "event", "expired")
                .point(stats.refused(), "event", "refused")
                .done();
    }

    private static void management(Families families, List<ManagementTaskStatus> tasks) {
        Families.Counter started = families.counter("meshhub_management_runs_started", "Runs each management task started");
        Families.Counter failures = families.counter("meshhub_management_run_failures", "Runs of each management task that threw");
        Families.Counter timeouts = families.counter("meshhub_management_run_timeouts",
                "Runs of each management task that passed their time limit");
        Families.Counter skipped = families.counter("meshhub_management_periods_skipped",
                "Periods each management task skipped because its previous run was still going");
        Families.Gauge state = families.gauge("meshhub_management_task_state", "1 for the state each management task is in");
        Families.Gauge consecutive = families.gauge("meshhub_management_consecutive_failures",
                "Failed or timed-out runs in a row of each management task");
        Families.Gauge lastDuration = families.gauge("meshhub_management_last_run_seconds", "How long each task's last run took");
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (ManagementTaskStatus task : tasks) {
            // two services may share a name; the label set of each series must stay unique
            String name = seen.add(task.name()) ? task.name() : task.name() + "#" + task.serviceId();
            started.point(task.runs(), "task", name);
            failures.point(task.failures(), "task", name);
            timeouts.point(task.timeouts(), "task", name);
            skipped.point(task.skipped(), "task", name);
            for (TaskScheduleState each : TaskScheduleState.values()) {
                state.point(each == task.state() ? 1 : 0, "task", name, "state", each.name());
            }
            consecutive.point(task.consecutiveFailures(), "task", name);
            lastDuration.point(task.lastDuration() == null ? 0 : task.lastDuration().toMillis() / 1000.0, "task", name);
        }
        started.done();
        failures.done();
        timeouts.done();
        skipped.done();
        state.done();
        consecutive.done();
        lastDuration.done();
    }
}
