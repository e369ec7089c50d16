package dev.meshhub.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshhub.proto.v1.ManagementTaskInfo;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.TaskState;

/**
 * The third line of row 18, issue 14's "10,000 small tasks (retention keeps the directory bounded)": a hub of its own, as
 * shipped but for its task logs (all of them may hold 2,000,000 bytes, and the {@code task-log-retention} task runs every
 * second), one real node agent (PERMISSIVE), and 10,000 tasks of {@code head -c 2000 /dev/zero} through the admin API's
 * Exec, 8 calls at a time, each read to its end. The hub's {@code data/logs} (its files and their bytes) is read every
 * second from the first task to a few seconds after the last. Goal: within 1.25x of the cap at every reading.
 */
final class SmallTaskLogs {

    static final String GOAL = "data/logs within 1.25x of maxTotalBytes at every sample (retention every second)";
    static final long MAX_TOTAL_BYTES = 2_000_000;
    static final double MAX_SHARE = 1.25;
    static final int TASK_BYTES = 2000;
    static final List<String> ARGV = List.of("head", "-c", Integer.toString(TASK_BYTES), "/dev/zero");
    static final int CONCURRENT_CALLS = 8;
    static final String NODE = "bench-small";
    static final String RETENTION = "task-log-retention";
    static final Map<String, String> ENVIRONMENT = Map.of("MESHHUB_TASKLOGS_MAX_TOTAL_BYTES", Long.toString(MAX_TOTAL_BYTES),
            "MESHHUB_TASKLOGS_MESHHUB__MANAGEMENT__PERIOD", "1", "MESHHUB_TASKLOGS_MESHHUB__MANAGEMENT__UNIT", "SECONDS");
    /** How long data/logs is still read after the last task: a few retention runs. */
    static final Duration SETTLE = Duration.ofSeconds(3);
    /** What the part needs besides its tasks: the hub's start, the node's enrollment, the settling, the stops. */
    static final Duration SETUP = Duration.ofSeconds(90);
    /** The rate the part's budget assumes at the least (about 40 tasks/s were measured on two shared cores). */
    static final int BUDGET_TASKS_PER_SECOND = 25;
    /** The time left no task is started in: the settling and the stops. */
    static final Duration CLOSING = Duration.ofSeconds(30);
    static final long CALL_SECONDS = 60;

    private final BenchMain main;
    private final int count;
    private final List<long[]> samples = new ArrayList<>();
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger succeeded = new AtomicInteger();
    private final AtomicInteger wholeOutput = new AtomicInteger();
    private final AtomicInteger truncatedLogs = new AtomicInteger();
    private final AtomicLong lastEnded = new AtomicLong();
    /** Readings of data/logs that failed (not counted among the samples). */
    private final AtomicInteger unreadable = new AtomicInteger();
    private final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    private volatile String firstFailure;
    private ThreadCpu hubCpu = ThreadCpu.none();
    private ThreadCpu nodeCpu = ThreadCpu.none();
    private long firstStarted;

    SmallTaskLogs(BenchMain main) {
        this.main = main;
        this.count = main.options().smallTasks();
    }

    /** The time the part needs: its setup and its tasks at {@link #BUDGET_TASKS_PER_SECOND}. */
    Duration budget() {
        return SETUP.plusSeconds(count / BUDGET_TASKS_PER_SECOND);
    }

    Report.Row run() {
        String name = String.format(Locale.ROOT, "task output, %,d small tasks", count);
        List<String> details = new ArrayList<>();
        details.add(String.format(Locale.ROOT, "workload: a hub of its own, as shipped but for its task logs: %s; one node agent"
                + " (bin/meshnode, enrolled, PERMISSIVE by the admin API's SetPolicy); %,d tasks of argv \"%s\" through the admin"
                + " API's Exec, %d calls at a time, each read to its end; data/logs (its files and their bytes) read every second"
                + " from the first task to %d s after the last", String.join(", ", new TreeMap<>(ENVIRONMENT).entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue()).toList()), count, String.join(" ", ARGV), CONCURRENT_CALLS,
                SETTLE.toSeconds()));
        String error = null;
        HubPhase phase = null;
        NodeAgentProcess node = null;
        ScheduledExecutorService sampler = null;
        try {
            phase = main.launchHub("task-logs", null, ENVIRONMENT);
            main.prepareHub(phase, 0);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'task-logs' did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            main.progress("row 18: starting a node agent for the small tasks, enrolling it, setting it PERMISSIVE");
            node = NodeAgentProcess.enroll(main, hub, NODE, main.options().work().resolve("small-tasks").resolve("node"),
                    main.within(Duration.ofSeconds(90)));
            hub.admin().setPolicy(NODE, SandboxPolicy.Mode.PERMISSIVE);
            try (HubAdmin admin = hub.newAdmin()) {
                firstTask(admin);
                Path logs = hub.home().resolve("data/logs");
                sampler = Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "bench-task-logs-sampler");
                    t.setDaemon(true);
                    return t;
                });
                firstStarted = System.nanoTime();
                sampler.scheduleAtFixedRate(() -> sample(logs), 0, 1, TimeUnit.SECONDS);
                main.progress("row 18: %,d small tasks through Exec, %d at a time; data/logs read every second", count, CONCURRENT_CALLS);
                ThreadCpu hubBefore = ThreadCpu.of(hub.pid());
                ThreadCpu nodeBefore = ThreadCpu.of(node.pid());
                runTasks(admin);
                hubCpu = ThreadCpu.of(hub.pid()).since(hubBefore);
                nodeCpu = ThreadCpu.of(node.pid()).since(nodeBefore);
                Thread.sleep(SETTLE.toMillis());
                sampler.shutdown();
                sampler.awaitTermination(10, TimeUnit.SECONDS);
                sample(logs);
            }
            details.addAll(taskLines());
            details.add(retention(hub));
        } catch (Exception e) {
            error = BenchMain.describe(e);
        } finally {
            if (sampler != null) {
                sampler.shutdownNow();
            }
            if (node != null) {
                node.close();
            }
            if (phase != null) {
                main.stop(phase);
                details.add("hub 'task-logs' over its whole life: " + phase.gcPauses);
            }
        }
        return row(name, details, error);
    }

    /** One unrecorded task, tried again until it succeeds (the node may not have its new policy yet): at most 30 s. */
    private void firstTask(HubAdmin admin) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HubAdmin.ExecResult result = admin.exec(NODE, ARGV, CALL_SECONDS);
            if (result.finished() != null && result.finished().getState() == TaskState.SUCCEEDED) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the first small task did not succeed within 30 s: "
                        + (result.finished() == null ? "no final record" : result.finished().getState() + " "
                                + result.finished().getDiagnostic()));
            }
            Thread.sleep(500);
        }
    }

    /** {@link #count} tasks on {@link #CONCURRENT_CALLS} threads; none is started once the time left is {@link #CLOSING}. */
    private void runTasks(HubAdmin admin) throws InterruptedException {
        List<Thread> callers = new ArrayList<>();
        for (int i = 1; i <= CONCURRENT_CALLS; i++) {
            Thread caller = new Thread(() -> {
                while (main.left().compareTo(CLOSING) > 0 && started.getAndIncrement() < count) {
                    call(admin);
                }
            }, "bench-small-tasks-" + i);
            caller.setDaemon(true);
            caller.start();
            callers.add(caller);
        }
        for (Thread caller : callers) {
            caller.join();
        }
    }

    private void call(HubAdmin admin) {
        String outcome;
        try {
            HubAdmin.ExecResult result = admin.exec(NODE, ARGV, CALL_SECONDS);
            outcome = result.finished() == null ? "no final record" : result.finished().getState().name();
            if (result.finished() != null && result.finished().getState() == TaskState.SUCCEEDED) {
                succeeded.incrementAndGet();
            } else if (firstFailure == null) {
                firstFailure = result.finished() == null ? outcome : outcome + " " + result.finished().getDiagnostic();
            }
            if (result.outputBytes() == TASK_BYTES) {
                wholeOutput.incrementAndGet();
            }
            if (result.finished() != null && !result.finished().getOutputTruncation().isEmpty()) {
                truncatedLogs.incrementAndGet();
            }
        } catch (RuntimeException e) {
            outcome = io.grpc.Status.fromThrowable(e).getCode().name();
            if (firstFailure == null) {
                firstFailure = BenchMain.describe(e);
            }
        }
        outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
        lastEnded.accumulateAndGet(System.nanoTime(), Math::max);
    }

    /** One reading of data/logs: milliseconds since the first task, files, bytes. */
    private void sample(Path logs) {
        TaskLogsDirectory.Reading reading;
        try {
            reading = TaskLogsDirectory.read(logs);
        } catch (RuntimeException e) {
            unreadable.incrementAndGet();
            return;
        }
        synchronized (samples) {
            samples.add(new long[] {TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - firstStarted), reading.files(), reading.bytes()});
        }
    }

    private int ran() {
        return outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private double seconds() {
        return (lastEnded.get() - firstStarted) / 1e9;
    }

    private List<String> taskLines() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "tasks: %,d of %,d ran in %.1f s (%.0f tasks/s): %s; %,d calls got all %,d bytes of"
                + " their output; %,d logs marked truncated (all logs at the cap before retention freed space)%s", ran(), count,
                seconds(), ran() / seconds(), new TreeMap<>(outcomes), wholeOutput.get(), TASK_BYTES, truncatedLogs.get(),
                firstFailure == null ? "" : "; first failure: " + firstFailure));
        StringBuilder trace = new StringBuilder("data/logs by the second (every 10th reading; KB = 1,000 bytes):");
        synchronized (samples) {
            for (int i = 0; i < samples.size(); i++) {
                if (i % 10 == 0 || i == samples.size() - 1) {
                    long[] s = samples.get(i);
                    trace.append(String.format(Locale.ROOT, " %.0f s %,.0f KB (%,d files)%s", s[0] / 1000.0, s[2] / 1000.0, s[1],
                            i == samples.size() - 1 ? "" : ","));
                }
            }
            long over = samples.stream().filter(s -> s[2] > MAX_TOTAL_BYTES).count();
            long farOver = samples.stream().filter(s -> s[2] > MAX_TOTAL_BYTES * MAX_SHARE).count();
            lines.add(String.format(Locale.ROOT, "%d readings of data/logs: %d over the cap, %d over %.2fx of it%s", samples.size(),
                    over, farOver, MAX_SHARE, unreadable.get() == 0 ? "" : "; " + unreadable.get() + " more could not be read"));
        }
        lines.add(trace.toString());
        lines.add("CPU by thread group (/proc) while the tasks ran, the hub: " + hubCpu.per(ran(), "task", 6) + "; the node agent: "
                + nodeCpu.per(ran(), "task", 4));
        return lines;
    }

    /** What the retention task did, as the scheduler and the hub's log say. */
    private String retention(HubInstance hub) throws java.io.IOException {
        ManagementTaskInfo task = hub.admin().managementTasks().stream().filter(t -> t.getName().equals(RETENTION)).findFirst()
                .orElse(null);
        long removals = hub.countLogLines("task-log retention removed");
        if (task == null) {
            return "retention: no " + RETENTION + " task listed; the hub's log has " + removals + " removal lines";
        }
        return String.format(Locale.ROOT, "retention (%s, period %d ms): %d runs, %d failures, %d timeouts, %d skipped, last run %d ms"
                + " (%s); the hub's log says it removed logs in %d of them", RETENTION, task.getPeriodMs(), task.getRuns(),
                task.getFailures(), task.getTimeouts(), task.getSkipped(), task.getLastDurationMs(), task.getLastOutcome(), removals);
    }

    private Report.Row row(String name, List<String> details, String error) {
        long[] largest;
        long[] end;
        synchronized (samples) {
            if (samples.isEmpty() || ran() == 0) {
                return Report.Row.notMeasurable(TaskOutputRow.NUMBER, name, GOAL, error != null ? error : "no task ran", details);
            }
            largest = samples.stream().max((a, b) -> Long.compare(a[2], b[2])).orElseThrow();
            end = samples.get(samples.size() - 1);
        }
        if (error != null) {
            details.add("ended early: " + error);
        }
        double share = (double) largest[2] / MAX_TOTAL_BYTES;
        details.add(String.format(Locale.ROOT, "data/logs at most %,d bytes (%.2fx of the cap), %.0f s after the first task; at the"
                + " end (%d s after the last) %,d bytes in %,d files", largest[2], share, largest[0] / 1000.0, SETTLE.toSeconds(),
                end[2], end[1]));
        List<String> missed = new ArrayList<>();
        if (share > MAX_SHARE) {
            missed.add(String.format(Locale.ROOT, "data/logs reached %.2fx of its cap", share));
        }
        if (ran() < count) {
            missed.add(String.format(Locale.ROOT, "only %,d of %,d tasks ran", ran(), count));
        }
        if (succeeded.get() < ran()) {
            missed.add(String.format(Locale.ROOT, "%,d tasks did not succeed", ran() - succeeded.get()));
        }
        if (wholeOutput.get() < ran()) {
            missed.add(String.format(Locale.ROOT, "%,d calls did not get all their output", ran() - wholeOutput.get()));
        }
        if (error != null) {
            missed.add("the row ended early");
        }
        return new Report.Row(TaskOutputRow.NUMBER, name, String.format(Locale.ROOT, "data/logs at most %,d bytes (%,d at the end, %,d"
                + " files) while %,d tasks ran at %,.0f tasks/s", largest[2], end[2], end[1], ran(), ran() / seconds()),
                String.format(Locale.ROOT, "cap %,d bytes (maxTotalBytes)", MAX_TOTAL_BYTES), Report.ratio(share) + " of the cap", GOAL,
                Report.verdict(missed), details);
    }
}
