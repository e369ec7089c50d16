package dev.meshhub.shell.impl;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;

/**
 * Gogo commands about the hub's own housekeeping, in scope {@code mesh}: {@code mesh:status} (a
 * snapshot the monitor takes now) here, and {@code mesh:tasks-status} (the scheduler's management tasks)
 * through {@link TasksStatusCommand}, because Gogo cannot map a dashed name onto a method. Both answer
 * from the services' memory.
 */
@Component(service = ManagementCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=status"})
public class ManagementCommands {

    static final String NO_SCHEDULER =
            "no management scheduler is running; install/start the meshhub-scheduler feature (bundle dev.meshhub.scheduler)";
    static final String NO_MONITOR =
            "no mesh monitor is running; start the meshhub-monitor feature (bundle dev.meshhub.monitor) or deploy another monitor";
    static final String NO_SNAPSHOT = "the monitor has not taken its first snapshot yet; retry in a few seconds";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile ManagementScheduler managementScheduler;

    /** Greedy: of several monitors, the highest-ranked one answers (as in the admin API). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile MeshStatus meshStatus;

    private final Clock clock;

    public ManagementCommands() {
        this.clock = Clock.systemUTC();
    }

    ManagementCommands(ManagementScheduler scheduler, MeshStatus meshStatus, Clock clock) {
        this.managementScheduler = scheduler;
        this.meshStatus = meshStatus;
        this.clock = clock;
    }

    @Descriptor("show a snapshot of the mesh the monitor takes now: connected nodes, tasks per state, journal backlog, IO locks")
    public void status() {
        printStatus(System.out);
    }

    /** {@code mesh:tasks-status}: the table of {@code meshctl admin tasks}, then problems and last errors. */
    void printTasks(PrintStream out) {
        ManagementScheduler scheduler = managementScheduler;
        if (scheduler == null) {
            throw new IllegalStateException(NO_SCHEDULER);
        }
        List<ManagementTaskStatus> tasks = scheduler.tasks();
        Instant now = clock.instant();
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "STATE", "PERIOD", "LAST-RUN", "DURATION", "OUTCOME", "FAILURES", "TIMEOUTS",
            "SKIPPED", "NEXT-RUN"});
        for (ManagementTaskStatus t : tasks) {
            rows.add(new String[] {
                TextTable.cell(t.name()), t.state().name(), RelativeTime.span(t.period()),
                RelativeTime.relative(t.lastStart(), now), RelativeTime.span(t.lastDuration()),
                t.lastOutcome() == null ? "-" : t.lastOutcome().name(),
                Long.toString(t.failures()), Long.toString(t.timeouts()), Long.toString(t.skipped()),
                RelativeTime.relative(t.nextRun(), now)});
        }
        StringBuilder b = new StringBuilder(TextTable.render(rows));
        for (ManagementTaskStatus t : tasks) {
            if (t.problem() != null && !t.problem().isEmpty()) {
                b.append(TextTable.cell(t.name())).append(": ignored: ").append(TextTable.cell(t.problem())).append('\n');
            }
            if (t.lastError() != null && !t.lastError().isEmpty()) {
                b.append(TextTable.cell(t.name())).append(": last error: ").append(TextTable.cell(t.lastError())).append('\n');
            }
        }
        if (tasks.isEmpty()) {
            b.append("no management tasks registered\n");
        }
        out.print(b);
        out.flush();
    }

    /** {@code mesh:status}, in the words of {@code meshctl status}: a snapshot taken now, as meshctl's. */
    void printStatus(PrintStream out) {
        MeshStatus monitor = meshStatus;
        if (monitor == null) {
            throw new IllegalStateException(NO_MONITOR);
        }
        Optional<MeshSnapshot> latest;
        try {
            latest = monitor.fresh();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the monitor read the journal", e);
        }
        if (latest.isEmpty()) {
            throw new IllegalStateException(NO_SNAPSHOT);
        }
        MeshSnapshot s = latest.get();
        Instant now = clock.instant();
        StringBuilder b = new StringBuilder();
        b.append("snapshot taken ").append(seconds(s.takenAt())).append(" (").append(RelativeTime.relative(s.takenAt(), now))
                .append(")\n");
        if (s.nodes() == null) {
            b.append("nodes connected: unknown\n");
        } else {
            b.append("nodes connected: ").append(s.nodes().size()).append('\n');
            if (!s.nodes().isEmpty()) {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "ID", "ADDRESS", "CONNECTED-SINCE", "LAST-HEARTBEAT"});
                s.nodes().stream()
                        .sorted(Comparator.comparing(NodeSession::name).thenComparing(NodeSession::nodeId))
                        .forEach(n -> rows.add(new String[] {TextTable.cell(n.name()), TextTable.cell(n.nodeId()),
                            TextTable.cell(n.address()), seconds(n.connectedSince()), RelativeTime.relative(n.lastHeartbeat(), now)}));
                b.append(TextTable.render(rows));
            }
        }
        Map<TaskState, Long> counts = s.tasksByState();
        if (counts == null) {
            b.append("tasks: unknown\n");
        } else {
            List<String> parts = new ArrayList<>();
            for (TaskState state : TaskState.values()) {
                parts.add(state.name() + " " + counts.getOrDefault(state, 0L));
            }
            b.append("tasks: ").append(String.join(", ", parts)).append('\n');
        }
        b.append("journal backlog: ").append(s.journalBacklog() == null ? "unknown" : s.journalBacklog().toString()).append('\n');
        b.append(locksLine(s.locks()));
        for (String line : s.unavailable()) {
            b.append("unavailable: ").append(TextTable.cell(line)).append('\n');
        }
        out.print(b);
        out.flush();
    }

    /**
     * {@code locks: 2 live (oldest 4s), 1 expired by the sweep}, as meshctl prints it: no age when none
     * is live, {@code locks: unknown} when no lock registry was running.
     */
    private static String locksLine(LockStats locks) {
        if (locks == null) {
            return "locks: unknown\n";
        }
        StringBuilder b = new StringBuilder("locks: ").append(locks.live()).append(" live");
        if (locks.live() > 0) {
            b.append(" (oldest ").append(RelativeTime.span(locks.oldestAge())).append(')');
        }
        return b.append(", ").append(locks.expired()).append(" expired by the sweep\n").toString();
    }

    private static String seconds(Instant instant) {
        return instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
