package dev.meshhub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import dev.meshhub.proto.v1.ManagementTaskInfo;

/**
 * Extra row 14 (issue 11): the journal at scale. One hub: measured first with an empty journal (the
 * baseline: row 1's dispatch round trip, one task at a time to one simulated node, in windows; and the
 * mesh monitor's run, which is what counts the journal's tasks by state); then stopped, 1,000,000
 * finished tasks (60 to 90 days old) and 100,000 audit rows (over 400 days old) written into its Derby
 * journal ({@link JournalFill}); started again on it and measured before retention, while the
 * {@code journal-retention} task deletes them (dispatch only), and after. Retention is started by
 * giving that task a 2 s period in etc/dev.meshhub.journal.cfg (until then its retention days are 0,
 * so its first run at start deletes nothing), then the hourly schedule is written back at once.
 */
final class JournalScaleRow {

    static final int NUMBER = 14;
    static final String NAME = "journal at scale / retention";
    static final double DISPATCH_LIMIT = 1.5;
    static final double MONITOR_LIMIT = 2.0;
    /** Nodes enrolled (real enrollments) that the old tasks ran on; bench-n01, the one dispatched to, is one of them. */
    static final int HISTORY_NODES = 8;
    static final int MONITOR_RUNS = 5;
    static final Duration TASKS_NEWEST = Duration.ofDays(60);
    static final Duration TASKS_OLDEST = Duration.ofDays(90);
    static final Duration AUDIT_NEWEST = Duration.ofDays(400);
    static final int RETENTION_PERIOD_SECONDS = 2;
    /** What the after-retention phase needs of the budget; retention running longer is reported as such. */
    private static final Duration AFTER_NEEDS = Duration.ofSeconds(100);
    private static final Pattern DELETED = Pattern.compile(
            "journal retention deleted (\\d+) finished task\\(s\\), (\\d+) audit row\\(s\\), (\\d+) spent or expired invite");

    private final BenchMain main;
    private final BenchOptions options;
    private final List<String> details = new ArrayList<>();
    private int runs;
    /** The empty journal's dispatch p99 once measured (ns), else 0. */
    private double baseP99;

    JournalScaleRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    /** One probe run (row 1's round trip) and its wall-clock span in ms, widened by the driver's 100 ms polling. */
    record Window(Properties figures, long startMs, long endMs) {
        double p50() {
            return Double.parseDouble(figures.getProperty("latency.p50Ns"));
        }

        double p99() {
            return Double.parseDouble(figures.getProperty("latency.p99Ns"));
        }

        double max() {
            return Double.parseDouble(figures.getProperty("latency.maxNs"));
        }

        /** The journal's part: dispatch() until the task is journaled and handed to the node's stream. */
        double journaledP99() {
            return Double.parseDouble(figures.getProperty("dispatched.p99Ns"));
        }

        boolean within(long fromMs, long toMs) {
            return startMs >= fromMs && endMs <= toMs;
        }
    }

    /** What one phase measured. */
    record Phase(String label, List<Window> windows, List<HubTasks.MonitorRun> monitor) {
        double p99() {
            return median(windows, Window::p99);
        }

        double monitorMs() {
            return Spread.of(monitor.stream().map(HubTasks.MonitorRun::durationMs).toList()).median();
        }
    }

    static double median(List<Window> windows, ToDoubleFunction<Window> figure) {
        return Spread.of(windows.stream().map(w -> figure.applyAsDouble(w)).toList()).median();
    }

    String goal() {
        return String.format(Locale.ROOT, "dispatch p99 before, during and after retention <= %.1fx baseline; monitor run"
                + " (tasks by state) with %,d tasks <= %.0fx baseline", DISPATCH_LIMIT, options.journalTasks(), MONITOR_LIMIT);
    }

    Report.Row run() {
        HubPhase phase = null;
        int tasks = options.journalTasks();
        int auditRows = Math.max(1, tasks / 10);
        try {
            details.add(String.format(Locale.ROOT, "workload: one hub as shipped (the probe deployed), %d enrolled simulated nodes, 1"
                    + " connected (bench-n01); dispatch = row 1's round trip (probe: TaskDispatcher.dispatch() to result(), 'echo'"
                    + " + 64 B, one at a time), in windows of %d tasks, each phase after one unrecorded window (%d warm-up tasks"
                    + " and a window's worth; none during retention, the JVM is warm by then); the monitor"
                    + " (the only caller of the journal's countByState; GetMeshStatus answers from its last snapshot) run every"
                    + " second for %d runs after one unrecorded, its time from ListManagementTasks (whole ms; includes writing"
                    + " mesh.json), otherwise quiet (period 3600 s) so that it never runs during a dispatch window",
                    HISTORY_NODES, options.roundTripCount(), options.roundTripWarmup(), MONITOR_RUNS));
            phase = main.launchHub("journal-scale", null, Map.of());
            main.prepareHub(phase, HISTORY_NODES);
            if (!phase.usable()) {
                throw new IllegalStateException("hub did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            HubTasks control = new HubTasks(hub);
            phase.fleet.connect(1, main.within(Duration.ofSeconds(30)));
            // Its shipped 30 s period: a run due soon, brought forward so that quieting does not wait for it.
            control.monitorEvery("1");
            control.awaitPeriod(HubTasks.MONITOR, 1, main.within(Duration.ofSeconds(30)));
            control.quietMonitor(main.within(Duration.ofSeconds(60)));
            Phase empty = measure(hub, control, "empty journal");
            details.add("hub 'journal-scale' on the empty journal: " + hub.gcPauses());

            SimulatedFleet fleet = phase.fleet;
            List<JournalFill.Node> nodes = IntStream.range(0, HISTORY_NODES)
                    .mapToObj(i -> new JournalFill.Node(fleet.node(i).nodeId(), fleet.node(i).name())).toList();
            String dispatching = nodes.get(0).id();
            long sortsBefore = nodes.stream().filter(n -> n.id().compareTo(dispatching) < 0).count();
            details.add(String.format(Locale.ROOT, "node ids (hub-assigned, random): bench-n01 (%s), the node dispatched to, sorts %d of"
                    + " the %d nodes with old tasks; %d sort before it (before schema 6 the node/state index put its entries after theirs)", dispatching,
                    sortsBefore + 1, HISTORY_NODES, sortsBefore));
            main.progress("row 14: hub stopped; writing %,d finished tasks and %,d audit rows into its journal (Derby, in the driver)",
                    tasks, auditRows);
            hub.close();
            // Written while it is stopped: journal-retention's first run at the next start (at once) deletes nothing.
            control.journal(0, 0, 0, null);
            if (System.getProperty("derby.stream.error.file") == null) {
                System.setProperty("derby.stream.error.file", options.work().resolve("journal-fill-derby.log").toString());
            }
            JournalFill fill = new JournalFill(hub.home().resolve("data/journal"));
            Instant now = Instant.now();
            JournalFill.Filled filled = fill.fill(nodes, tasks, now.minus(TASKS_OLDEST), now.minus(TASKS_NEWEST), auditRows,
                    now.minus(AUDIT_NEWEST), done -> {
                        if (done % 200_000 == 0) {
                            main.progress("row 14: %,d of %,d tasks written", done, tasks);
                        }
                    });
            details.add(String.format(Locale.ROOT, "fill (hub stopped; embedded Derby in the driver, %,d rows per transaction under a"
                    + " table lock): %,d tasks (SUCCEEDED 9 in 10, else FAILED; created %d to %d days ago, on %d enrolled nodes; spec"
                    + " %.0f B and output tail %.0f B on average) and %,d audit rows (%d days old and older) in %.1f s (%,.0f rows/s);"
                    + " the journal then held %,d tasks and %,d audit rows", JournalFill.BATCH, filled.tasks(), TASKS_OLDEST.toDays(),
                    TASKS_NEWEST.toDays(), HISTORY_NODES, (double) filled.specBytes() / filled.tasks(),
                    (double) filled.outputBytes() / filled.tasks(), filled.auditRows(), AUDIT_NEWEST.toDays(), filled.nanos() / 1e9,
                    (filled.tasks() + filled.auditRows()) / (filled.nanos() / 1e9), filled.tasksInTable(), filled.auditInTable()));

            main.progress("row 14: starting the hub on the filled journal");
            long starting = System.nanoTime();
            hub.start(options.javaOpts(), Map.of());
            hub.awaitReady(main.within(Duration.ofSeconds(300)));
            double startSeconds = (System.nanoTime() - starting) / 1e9;
            fleet.reconnect(main.within(Duration.ofSeconds(60)));
            control.quietMonitor(main.within(Duration.ofSeconds(300)));
            details.add(String.format(Locale.ROOT, "hub start on the filled journal (bin/meshhub to the admin API answering): %.1f s;"
                    + " bench-n01 reconnected (same certificate, same port)", startSeconds));
            Phase before = measure(hub, control, "filled journal, before retention");

            Retention retention = retention(hub, control);
            Phase after = measure(hub, control, "after retention");
            details.add("hub 'journal-scale' on the filled journal (from its second start): " + hub.gcPauses());
            main.stop(phase);
            long[] left = fill.count(Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(365)));
            details.add(String.format(Locale.ROOT, "left in the journal (read after the hub stopped): %,d tasks, of them %,d created more"
                    + " than 30 days ago; %,d audit rows, of them %,d older than 365 days", left[0], left[1], left[2], left[3]));
            return row(empty, before, retention, after, left);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, NAME, goal(), BenchMain.describe(e), details);
        } finally {
            if (phase != null && phase.hub != null) {
                main.stop(phase);
            }
        }
    }

    /** The retention run: when it ran (hub clock, ms), what it deleted, and the dispatch windows that ran wholly inside it. */
    record Retention(long startMs, long durationMs, String outcome, long tasks, long audit, long invites, List<Window> during,
            int windowsRun) {
    }

    private Retention retention(HubInstance hub, HubTasks control) throws IOException, InterruptedException {
        main.progress("row 14: journal-retention given a %d s period (retention days 30 / 365 / 30); dispatching while it runs",
                RETENTION_PERIOD_SECONDS);
        long trigger = System.currentTimeMillis();
        control.journal(30, 365, 30, RETENTION_PERIOD_SECONDS);
        ManagementTaskInfo started = control.awaitStart(HubTasks.RETENTION, trigger, main.within(Duration.ofSeconds(60)));
        long number = started.getRuns();
        // Back to hourly at once: the run going on is not touched, and no second run follows it.
        control.journal(30, 365, 30, null);
        List<Window> windows = new ArrayList<>();
        ManagementTaskInfo info = control.task(HubTasks.RETENTION);
        while ("RUNNING".equals(info.getState()) && info.getRuns() == number) {
            if (main.left().compareTo(AFTER_NEEDS) < 0) {
                throw new IllegalStateException(String.format(Locale.ROOT, "journal-retention was still running %.0f s after it started"
                        + " (time budget); %d dispatch windows ran meanwhile, median p99 %s", (System.currentTimeMillis()
                        - started.getLastStartMs()) / 1e3, windows.size(), windows.isEmpty() ? "-" : Report.millis(median(windows, Window::p99))));
            }
            windows.add(window(hub, false));
            info = control.task(HubTasks.RETENTION);
        }
        if (info.getRuns() != number) {
            throw new IllegalStateException("journal-retention ran again before its run could be read (" + info + ")");
        }
        long begin = info.getLastStartMs();
        long end = begin + info.getLastDurationMs();
        List<Window> during = windows.stream().filter(w -> w.within(begin, end)).toList();
        Matcher deleted = DELETED.matcher(Files.readString(hub.log(), StandardCharsets.UTF_8));
        long[] counts = {-1, -1, -1};
        while (deleted.find()) {
            counts = new long[] {Long.parseLong(deleted.group(1)), Long.parseLong(deleted.group(2)), Long.parseLong(deleted.group(3))};
        }
        Retention retention = new Retention(info.getLastStartMs(), info.getLastDurationMs(), info.getLastOutcome(), counts[0], counts[1],
                counts[2], during, windows.size());
        details.add(String.format(Locale.ROOT, "retention: journal-retention started %.1f s after the period was set, ran %.1f s (%s),"
                + " deleted %,d tasks, %,d audit rows, %,d invites (hub log) = %,.0f rows/s; batches of 500 per transaction",
                (retention.startMs() - trigger) / 1e3, retention.durationMs() / 1e3, retention.outcome(), retention.tasks(),
                retention.audit(), retention.invites(), (retention.tasks() + retention.audit()) / Math.max(0.001, retention.durationMs() / 1e3)));
        if (!during.isEmpty()) {
            details.add(phaseLine("during retention", during, baseP99) + String.format(Locale.ROOT, "; %d of the %d windows run while it"
                    + " ran lay wholly inside it (the others straddled its end)", during.size(), windows.size()));
        }
        return retention;
    }

    private Phase measure(HubInstance hub, HubTasks control, String label) throws IOException, InterruptedException {
        main.progress("row 14 (%s): %d monitor runs, then %d windows of %d tasks one at a time to bench-n01", label, MONITOR_RUNS,
                options.rounds(), options.roundTripCount());
        List<HubTasks.MonitorRun> monitor = control.monitorRuns(MONITOR_RUNS, main.within(Duration.ofSeconds(400)));
        window(hub, true);
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < options.rounds(); i++) {
            windows.add(window(hub, false));
        }
        Phase phase = new Phase(label, windows, monitor);
        details.add(phaseLine(label, windows, baseP99));
        if (baseP99 == 0) {
            baseP99 = phase.p99();
        }
        HubTasks.MonitorRun last = monitor.get(monitor.size() - 1);
        details.add(String.format(Locale.ROOT, "  monitor runs (counting %,d tasks): median %d ms; %s ms; outcomes %s%s", last.tasksCounted(),
                (long) phase.monitorMs(), monitor.stream().map(r -> Long.toString(r.durationMs())).toList(),
                monitor.stream().map(HubTasks.MonitorRun::outcome).distinct().toList(),
                last.unavailable().isEmpty() ? "" : "; snapshot says " + last.unavailable()));
        if (monitor.stream().anyMatch(r -> r.durationMs() > HubTasks.SHIPPED_MONITOR_WAIT_MS)) {
            details.add("  a run took longer than the monitor's shipped journalTimeoutMillis (" + HubTasks.SHIPPED_MONITOR_WAIT_MS
                    + " ms; raised here to " + HubTasks.MONITOR_WAIT_MS + "): as shipped its snapshot would have said the journal did"
                    + " not answer");
        }
        return phase;
    }

    private static String phaseLine(String label, List<Window> windows, double baseP99) {
        long over = windows.stream().filter(w -> w.p99() > DISPATCH_LIMIT * baseP99).count();
        return String.format(Locale.ROOT, "%s: dispatch p50 %s, p99 %s (medians of %d windows; window p99 %s to %s%s), longest"
                + " single round trip %s; of it dispatch() to dispatched() (journaled, handed to the stream) p99 %s",
                label, Report.millis(median(windows, Window::p50)), Report.millis(median(windows, Window::p99)),
                windows.size(), Report.millis(windows.stream().mapToDouble(Window::p99).min().orElse(0)),
                Report.millis(windows.stream().mapToDouble(Window::p99).max().orElse(0)),
                baseP99 > 0 ? String.format(Locale.ROOT, "; %d over %.1fx the baseline p99", over, DISPATCH_LIMIT) : "",
                Report.millis(windows.stream().mapToDouble(Window::max).max().orElse(0)), Report.millis(median(windows, Window::journaledP99)));
    }

    /** One probe run of row 1's round trip to bench-n01: with its warm-up (200 unrecorded tasks) when asked, else all recorded. */
    private Window window(HubInstance hub, boolean warmUp) throws IOException, InterruptedException {
        return window(main, hub, "r14-" + (++runs), warmUp);
    }

    /** One probe run of row 1's round trip (to bench-n01), for any row that measures dispatch in windows. */
    static Window window(BenchMain main, HubInstance hub, String label, boolean warmUp) throws IOException, InterruptedException {
        Map<String, String> config = main.roundTripConfiguration(label);
        if (!warmUp) {
            config.put("warmup", "0");
        }
        long sent = System.currentTimeMillis();
        Properties figures = main.probe(hub, config, Duration.ofSeconds(180));
        long seen = System.currentTimeMillis();
        long elapsed = Long.parseLong(figures.getProperty("elapsedMs", "0"));
        return new Window(figures, Math.max(sent, seen - elapsed - 100), seen);
    }

    private Report.Row row(Phase empty, Phase before, Retention retention, Phase after, long[] left) {
        if (retention.tasks() < 0) {
            return Report.Row.notMeasurable(NUMBER, NAME, goal(), "the hub log has no line of what journal-retention deleted", details);
        }
        if (retention.during().isEmpty()) {
            return Report.Row.notMeasurable(NUMBER, NAME, goal(), "no dispatch window ran wholly inside the retention run ("
                    + retention.windowsRun() + " ran while it ran, " + retention.durationMs() + " ms)", details);
        }
        double base = empty.p99();
        double during = median(retention.during(), Window::p99);
        double[] ratios = {before.p99() / base, during / base, after.p99() / base};
        // The scheduler reports whole milliseconds: a baseline under 1 ms is taken as 1 ms, and the ratio is then a lower bound.
        boolean baseUnder1 = empty.monitorMs() < 1;
        double monitorRatio = before.monitorMs() / Math.max(1, empty.monitorMs());
        List<String> missed = new ArrayList<>();
        String[] names = {"before", "during", "after"};
        for (int i = 0; i < 3; i++) {
            if (!(ratios[i] <= DISPATCH_LIMIT)) {
                missed.add("dispatch p99 " + names[i] + " " + Report.ratio(ratios[i]));
            }
        }
        if (!(monitorRatio <= MONITOR_LIMIT)) {
            missed.add("monitor run " + (baseUnder1 ? ">= " : "") + Report.ratio(monitorRatio));
        }
        String measured = String.format(Locale.ROOT, "dispatch p99 before / during / after retention %s / %s / %s (medians of"
                + " windows; worst window during %s); monitor run with %,d tasks %d ms; retention deleted %,d tasks + %,d audit rows"
                + " in %.1f s", Report.millis(before.p99()), Report.millis(during), Report.millis(after.p99()),
                Report.millis(retention.during().stream().mapToDouble(Window::p99).max().orElse(0)),
                before.monitor().get(0).tasksCounted(), (long) before.monitorMs(), retention.tasks(), retention.audit(),
                retention.durationMs() / 1e3);
        String baseline = String.format(Locale.ROOT, "empty journal: dispatch p99 %s, monitor run %s", Report.millis(base),
                baseUnder1 ? "< 1 ms" : (long) empty.monitorMs() + " ms");
        String ratio = String.format(Locale.ROOT, "dispatch %s / %s / %s; monitor %s%s", Report.ratio(ratios[0]), Report.ratio(ratios[1]),
                Report.ratio(ratios[2]), baseUnder1 ? ">= " : "", Report.ratio(monitorRatio));
        if (left[1] != 0 || left[3] != 0) {
            missed.add(left[1] + " old tasks and " + left[3] + " old audit rows left");
        }
        return new Report.Row(NUMBER, NAME, measured, baseline, ratio, goal(), Report.verdict(missed), details);
    }
}
