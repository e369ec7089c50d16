package dev.meshhub.bench;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import dev.meshhub.proto.v1.ManagementTaskInfo;

/**
 * Steers a hub's management tasks the only ways the product offers: the {@code meshhub.management.*}
 * keys in the task's component configuration (etc/PID.cfg, watched; the scheduler reschedules at once,
 * and a shorter period takes effect now), and reads their runs with the admin API's
 * {@code ListManagementTasks}. No admin call or console command runs a task on demand.
 *
 * <p>The mesh monitor is the only caller of the journal's {@code countByState} (every period;
 * {@code GetMeshStatus} answers from its last snapshot without counting), so the time of a task count
 * is the monitor's run time as the scheduler reports it (whole milliseconds; the run also writes
 * {@code mesh.json} with an fsync).
 */
final class HubTasks {

    static final String MONITOR = "mesh-monitor";
    static final String RETENTION = "journal-retention";
    static final String MONITOR_PID = "dev.meshhub.monitor";
    static final String JOURNAL_PID = "dev.meshhub.journal";
    /** A period no measurement outlasts: the task runs once when set (a run already due), then not again. */
    private static final String QUIET_SECONDS = "3600";
    /**
     * The monitor's wait for the counts (shipped: 5,000 ms) and its time limit (shipped: one period), raised so
     * that a slow count is timed to its end rather than cut off; whether it passed the shipped wait is reported.
     */
    static final String MONITOR_WAIT_MS = "300000";
    static final long SHIPPED_MONITOR_WAIT_MS = 5000;

    private final HubInstance hub;
    private final Map<String, String> shippedJournal;

    /** Before any edit of the hub's etc/: remembers the journal configuration as shipped. */
    HubTasks(HubInstance hub) throws IOException {
        this.hub = hub;
        Properties shipped = new Properties();
        Path file = hub.home().resolve("etc").resolve(JOURNAL_PID + ".cfg");
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            shipped.load(in);
        }
        Map<String, String> values = new LinkedHashMap<>();
        shipped.stringPropertyNames().stream().sorted().forEach(k -> values.put(k, shipped.getProperty(k).trim()));
        this.shippedJournal = Map.copyOf(values);
    }

    ManagementTaskInfo task(String name) {
        return hub.admin().managementTasks().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("the scheduler lists no management task '" + name + "'"));
    }

    /** The monitor with a period of {@code seconds}, its wait for the journal and its time limit raised. */
    void monitorEvery(String seconds) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("meshhub.management.period", seconds);
        values.put("meshhub.management.unit", "SECONDS");
        values.put("meshhub.management.timeLimit", Long.toString(Long.parseLong(MONITOR_WAIT_MS) / 1000));
        values.put("journalTimeoutMillis", MONITOR_WAIT_MS);
        values.put("statusDirectory", "data/status");
        hub.configure(MONITOR_PID, values);
    }

    /** Waits until the scheduler runs {@code name} every {@code seconds} (FileInstall reads etc/ about once a second). */
    void awaitPeriod(String name, long seconds, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ManagementTaskInfo info;
        while ((info = task(name)).getPeriodMs() != seconds * 1000) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("management task " + name + " was not given a period of " + seconds + " s within "
                        + timeout.toSeconds() + " s: " + info);
            }
            Thread.sleep(50);
        }
    }

    /** Quiets the monitor and waits until no run is going and none is due within ten minutes. */
    void quietMonitor(Duration timeout) throws IOException, InterruptedException {
        monitorEvery(QUIET_SECONDS);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            ManagementTaskInfo monitor = task(MONITOR);
            if (monitor.getPeriodMs() == Long.parseLong(QUIET_SECONDS) * 1000 && !"RUNNING".equals(monitor.getState())
                    && monitor.getNextRunMs() > System.currentTimeMillis() + 600_000) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the monitor did not settle to a period of " + QUIET_SECONDS + " s within "
                        + timeout.toSeconds() + " s: " + monitor);
            }
            Thread.sleep(100);
        }
    }

    /** One monitor run: its duration (ms, as the scheduler reports it) and what its snapshot counted. */
    record MonitorRun(long durationMs, String outcome, long tasksCounted, List<String> unavailable) {
    }

    /**
     * Runs the monitor every second until {@code count} runs (after one unrecorded) have ended, then
     * quiets it again. Each run counts the journal's tasks by state.
     */
    List<MonitorRun> monitorRuns(int count, Duration timeout) throws IOException, InterruptedException {
        long since = System.currentTimeMillis();
        long deadline = System.nanoTime() + timeout.toNanos();
        monitorEvery("1");
        List<MonitorRun> runs = new ArrayList<>();
        long seen = -1;
        while (runs.size() < count + 1) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + Math.max(0, runs.size() - 1) + " of " + count + " monitor runs ended within "
                        + timeout.toSeconds() + " s: " + task(MONITOR));
            }
            ManagementTaskInfo monitor = task(MONITOR);
            if (monitor.getLastStartMs() >= since && monitor.getLastStartMs() != seen && !"RUNNING".equals(monitor.getState())
                    && monitor.getLastDurationMs() >= 0) {
                seen = monitor.getLastStartMs();
                var status = hub.admin().meshStatus();
                long counted = status.getTasksKnown() ? status.getTasksByStateMap().values().stream().mapToLong(Long::longValue).sum() : -1;
                runs.add(new MonitorRun(monitor.getLastDurationMs(), monitor.getLastOutcome(), counted, status.getUnavailableList()));
            }
            Thread.sleep(50);
        }
        quietMonitor(timeout);
        return List.copyOf(runs.subList(1, runs.size()));
    }

    /**
     * Writes the journal's configuration: as shipped, with these retention days, and with a schedule of
     * its own for journal-retention when {@code periodSeconds} is not null (else the hourly one of
     * {@code JournalComponent}). Written whole and moved into place; the journal applies it live (same
     * database settings, so nothing is reopened).
     */
    void journal(int taskDays, int auditDays, int inviteDays, Integer periodSeconds) throws IOException {
        Map<String, String> values = new LinkedHashMap<>(shippedJournal);
        values.put("taskRetentionDays", Integer.toString(taskDays));
        values.put("auditRetentionDays", Integer.toString(auditDays));
        values.put("inviteRetentionDays", Integer.toString(inviteDays));
        if (periodSeconds != null) {
            values.put("meshhub.management.period", periodSeconds.toString());
            values.put("meshhub.management.unit", "SECONDS");
            // One period by default: a run deleting a million rows must not be cut off at two seconds.
            values.put("meshhub.management.timeLimit", "3600");
        }
        hub.configure(JOURNAL_PID, values);
    }

    /** Waits until a task's run started at {@code afterMs} or later, and returns its status then. */
    ManagementTaskInfo awaitStart(String name, long afterMs, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            ManagementTaskInfo info = task(name);
            if (info.getLastStartMs() >= afterMs) {
                return info;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("management task " + name + " did not start within " + timeout.toSeconds() + " s: " + info);
            }
            Thread.sleep(50);
        }
    }
}
