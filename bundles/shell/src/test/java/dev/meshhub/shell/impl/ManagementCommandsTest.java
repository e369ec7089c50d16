package dev.meshhub.shell.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import org.junit.Test;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.RunOutcome;
import dev.meshhub.api.management.TaskScheduleState;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;

public class ManagementCommandsTest {

    private static final Instant NOW = Instant.parse("2026-01-01T00:01:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private static String printed(Consumer<PrintStream> command) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        command.accept(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void tasksStatusIsMeshctlsTableThenProblemsAndLastErrors() {
        ManagementTaskStatus monitor = new ManagementTaskStatus("mesh-monitor", 42, "dev.meshhub.monitor", TaskScheduleState.WAITING,
                null, Duration.ofSeconds(30), Duration.ofSeconds(30), false, 7, 2, 1, 3, 1, NOW.minusSeconds(27),
                Duration.ofMillis(1234), RunOutcome.FAILED, "IOException: cannot write data/status/mesh.json", NOW.plusSeconds(3));
        ManagementTaskStatus broken = new ManagementTaskStatus("broken", 44, "com.example.tasks", TaskScheduleState.IGNORED,
                "meshhub.management.period is missing", null, null, false, 0, 0, 0, 0, 0, null, null, null, null, null);
        ManagementCommands commands = new ManagementCommands(() -> List.of(monitor, broken), null, CLOCK);

        assertEquals(""
                + "NAME          STATE    PERIOD  LAST-RUN  DURATION  OUTCOME  FAILURES  TIMEOUTS  SKIPPED  NEXT-RUN\n"
                + "mesh-monitor  WAITING  30s     27s ago   1.2s      FAILED   2         1         3        in 3s\n"
                + "broken        IGNORED  -       -         -         -        0         0         0        -\n"
                + "mesh-monitor: last error: IOException: cannot write data/status/mesh.json\n"
                + "broken: ignored: meshhub.management.period is missing\n", printed(commands::printTasks));
    }

    @Test
    public void statusShowsTheLatestSnapshotInMeshctlsWords() {
        MeshSnapshot snapshot = new MeshSnapshot(NOW.minusSeconds(4),
                List.of(new NodeSession("n-b", "web-2", "10.0.0.2:4000", Instant.parse("2025-12-31T00:00:00Z"), NOW.minusSeconds(5)),
                        new NodeSession("n-a", "db-1", "10.0.0.1:4000", Instant.parse("2026-01-01T00:00:00.250Z"), NOW.minusSeconds(4))),
                Map.of(TaskState.RUNNING, 1L, TaskState.SUCCEEDED, 10L), 5L,
                new LockStats(2, Duration.ofMillis(4_250), 50, 47, 1, 6), List.of());
        ManagementCommands commands = new ManagementCommands(null, () -> Optional.of(snapshot), CLOCK);

        assertEquals(""
                + "snapshot taken 2026-01-01T00:00:56Z (4s ago)\n"
                + "nodes connected: 2\n"
                + "NAME   ID   ADDRESS        CONNECTED-SINCE       LAST-HEARTBEAT\n"
                + "db-1   n-a  10.0.0.1:4000  2026-01-01T00:00:00Z  4s ago\n"
                + "web-2  n-b  10.0.0.2:4000  2025-12-31T00:00:00Z  5s ago\n"
                + "tasks: QUEUED 0, DISPATCHED 0, RUNNING 1, SUCCEEDED 10, FAILED 0, CANCELLED 0, TIMED_OUT 0\n"
                + "journal backlog: 5\n"
                + "locks: 2 live (oldest 4.2s), 1 expired by the sweep\n", printed(commands::printStatus));
    }

    @Test
    public void statusSaysWhichPartsAreUnknownAndWhy() {
        MeshSnapshot snapshot = new MeshSnapshot(NOW, null, null, null, null,
                List.of("nodes: the transport is not running", "locks: no lock registry running"));
        ManagementCommands commands = new ManagementCommands(null, () -> Optional.of(snapshot), CLOCK);

        assertEquals(""
                + "snapshot taken 2026-01-01T00:01:00Z (now)\n"
                + "nodes connected: unknown\n"
                + "tasks: unknown\n"
                + "journal backlog: unknown\n"
                + "locks: unknown\n"
                + "unavailable: nodes: the transport is not running\n"
                + "unavailable: locks: no lock registry running\n", printed(commands::printStatus));
    }

    @Test
    public void statusShowsNoLockAgeWhenNoneIsLiveAndLongAgesInMinutes() {
        MeshSnapshot idle = new MeshSnapshot(NOW, List.of(), null, 0L, new LockStats(0, Duration.ZERO, 9, 9, 0, 0), List.of());
        assertEquals(""
                + "snapshot taken 2026-01-01T00:01:00Z (now)\n"
                + "nodes connected: 0\n"
                + "tasks: unknown\n"
                + "journal backlog: 0\n"
                + "locks: 0 live, 0 expired by the sweep\n",
                printed(new ManagementCommands(null, () -> Optional.of(idle), CLOCK)::printStatus));

        MeshSnapshot stuck = new MeshSnapshot(NOW, List.of(), null, 0L,
                new LockStats(1, Duration.ofSeconds(305), 20, 7, 12, 3), List.of());
        String printed = printed(new ManagementCommands(null, () -> Optional.of(stuck), CLOCK)::printStatus);
        assertEquals(printed, "locks: 1 live (oldest 5m5s), 12 expired by the sweep",
                printed.lines().reduce((first, second) -> second).orElseThrow());
    }

    @Test
    public void missingServicesAndAMissingSnapshotAreClearMessages() {
        ManagementCommands none = new ManagementCommands(null, null, CLOCK);
        assertEquals("no management scheduler is running; install/start the meshhub-scheduler feature (bundle dev.meshhub.scheduler)",
                assertThrows(IllegalStateException.class, () -> printed(none::printTasks)).getMessage());
        assertEquals("no mesh monitor is running; start the meshhub-monitor feature (bundle dev.meshhub.monitor) or deploy another monitor",
                assertThrows(IllegalStateException.class, () -> printed(none::printStatus)).getMessage());

        ManagementCommands early = new ManagementCommands(null, Optional::empty, CLOCK);
        assertEquals("the monitor has not taken its first snapshot yet; retry in a few seconds",
                assertThrows(IllegalStateException.class, () -> printed(early::printStatus)).getMessage());
    }

    @Test
    public void tasksStatusTakesNoArguments() {
        TasksStatusCommand command = new TasksStatusCommand(new ManagementCommands(List::of, null, CLOCK));
        assertThrows(IllegalArgumentException.class, () -> command.execute(null, List.of("--all")));
    }
}
