package dev.meshhub.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Runs benchmarks 1, 2, 4, 6, 8, 10, 11 and 13 of BENCHMARKS.md and the extra rows 14, 15 and 18 (those asked
 * for) and prints one line per benchmark (name, measured, baseline, ratio, goal, PASS/MISS) with detail
 * lines. This class dispatches to the rows and holds what they share (hubs, the probe, the time budget):
 * rows 1 and 2 ({@link DispatchRows}), 4 ({@link FileSyncRow}), 6 ({@link LockChurnRow}), 8 ({@link
 * ColdStartRow}), 10 ({@link CliRow}), 11 ({@link TlsRow}), 13 ({@link SoakRow}, the pax-exam soak), 14
 * ({@link JournalScaleRow}), 15 ({@link RotationRow}) and 18 ({@link TaskOutputRow}, a real node agent and meshctl). Each
 * hub is a fresh copy of the assembled runtime. The run stops itself: a watchdog ends it a little after the time budget
 * whatever happens, hubs and the other processes rows started included.
 */
public final class BenchMain {

    static final String PROBE_PID = "dev.meshhub.bench.probe";
    /** The argument of row 1's echo tasks (and of every row that reuses its round trip). */
    static final int PAYLOAD_BYTES = 64;
    /** The per-node pending limit raised to its maximum (metatype bound), so it never caps the offered rate. */
    static final String MAX_PENDING = "100000";

    private final BenchOptions options;
    private final List<HubInstance> running = new CopyOnWriteArrayList<>();
    /** Other processes a row started (node agents, meshctl pipelines): killed with their children when the run ends. */
    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final long startedNanos = System.nanoTime();

    private BenchMain(BenchOptions options) {
        this.options = options;
    }

    public static void main(String[] args) {
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println("bench: " + e.getMessage());
            }
            System.err.print(BenchOptions.USAGE);
            System.exit(2);
            return;
        }
        int exit;
        try {
            exit = new BenchMain(options).run();
        } catch (Exception e) {
            System.err.println("bench: " + e);
            e.printStackTrace();
            exit = 1;
        }
        System.exit(exit);
    }

    private int run() throws IOException {
        Files.createDirectories(options.work());
        Runtime.getRuntime().addShutdownHook(new Thread(this::killAll, "bench-stop-hubs"));
        startWatchdog();
        System.out.printf(Locale.ROOT, "meshhub benchmarks, row(s) %s of BENCHMARKS.md, %s (time budget %d s)%n",
                options.rows().stream().sorted().map(String::valueOf).collect(java.util.stream.Collectors.joining(",")), Instant.now(),
                options.budget().toSeconds());
        System.out.printf(Locale.ROOT, "  %d cores, Java %s, JVM options of driver and hubs: %s (hubs add a GC log)%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        System.out.printf(Locale.ROOT, "  hubs copied from %s into %s; loopback only%n", options.runtime(), options.work());
        System.out.printf(Locale.ROOT, "  load average at start: %s (other processes share this machine; hence same-run baselines)%n%n", loadAverage());

        List<Report.Row> rows = new ArrayList<>();
        if (options.rows().contains(1) || options.rows().contains(2)) {
            rows.addAll(new DispatchRows(this).run());
        }
        if (options.rows().contains(HandshakeStallRow.NUMBER)) {
            rows.add(new HandshakeStallRow(this).run());
        }
        if (options.rows().contains(4)) {
            rows.add(new FileSyncRow(this).run());
        }
        if (options.rows().contains(FleetMemoryRow.NUMBER)) {
            rows.add(new FleetMemoryRow(this).run());
        }
        if (options.rows().contains(6)) {
            rows.addAll(new LockChurnRow(this).run());
        }
        if (options.rows().contains(PolicySwapRow.NUMBER)) {
            rows.add(new PolicySwapRow(this).run());
        }
        if (options.rows().contains(ColdStartRow.NUMBER)) {
            rows.add(new ColdStartRow(this).run());
        }
        if (options.rows().contains(ReconnectStormRow.NUMBER)) {
            rows.add(new ReconnectStormRow(this).run());
        }
        if (options.rows().contains(CliRow.NUMBER)) {
            rows.add(new CliRow(this).run());
        }
        if (options.rows().contains(TlsRow.NUMBER)) {
            rows.addAll(new TlsRow(this).run());
        }
        if (options.rows().contains(13)) {
            rows.add(new SoakRow(this).run());
        }
        if (options.rows().contains(JournalScaleRow.NUMBER)) {
            rows.add(new JournalScaleRow(this).run());
        }
        if (options.rows().contains(RotationRow.NUMBER)) {
            rows.add(new RotationRow(this).run());
        }
        if (options.rows().contains(ScrapeRow.NUMBER)) {
            rows.add(new ScrapeRow(this).run());
        }
        if (options.rows().contains(ConsoleSoakRow.NUMBER)) {
            rows.add(new ConsoleSoakRow(this).run());
        }
        if (options.rows().contains(TaskOutputRow.NUMBER)) {
            rows.addAll(new TaskOutputRow(this).run());
        }
        System.out.println();
        for (Report.Row row : rows) {
            System.out.println(row.line());
            row.details().forEach(d -> System.out.println("    " + d));
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "summary (%d s):%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos));
        rows.forEach(row -> System.out.println(row.line()));
        System.out.printf(Locale.ROOT, "load average at the end: %s%n", loadAverage());
        if (!options.keep()) {
            deleteTree(options.work());
        } else {
            System.out.println("hub directories, logs and journals kept in " + options.work());
        }
        return 0;
    }

    // ---- hubs ----

    /** Copies and starts a fresh hub with these MESHHUB_* variables; does not wait for it. */
    HubPhase launchHub(String label, Integer maxBatch, Map<String, String> environment) {
        return launchHub(label, maxBatch, environment, "");
    }

    /** As {@link #launchHub(String, Integer, Map)}, with JVM options added after the run's own (a fleet's larger heap). */
    HubPhase launchHub(String label, Integer maxBatch, Map<String, String> environment, String extraJavaOpts) {
        HubPhase phase = new HubPhase(label);
        progress("hub '%s': starting a fresh copy%s", label, maxBatch == null ? " (journal as shipped)" : " with maxBatch = " + maxBatch);
        try {
            phase.hub = HubInstance.copyOf(options.runtime(), options.work().resolve(label), label);
            running.add(phase.hub);
            if (maxBatch != null) {
                phase.hub.setConfiguration("dev.meshhub.journal.cfg", "maxBatch", maxBatch.toString());
            }
            phase.hub.start((options.javaOpts() + " " + extraJavaOpts).trim(), environment);
        } catch (Exception e) {
            phase.startError = describe(e);
            stop(phase);
        }
        return phase;
    }

    /** Counts a hub the row copied and starts itself among those the shutdown hook and the watchdog kill. */
    HubInstance track(HubInstance hub) {
        running.add(hub);
        return hub;
    }

    /** Counts a process a row started among those killed (with their children) when the run ends; forgets ended ones. */
    Process track(Process process) {
        processes.removeIf(p -> !p.isAlive());
        processes.add(process);
        return process;
    }

    private void killAll() {
        running.forEach(HubInstance::kill);
        processes.forEach(BenchMain::kill);
    }

    /** SIGTERM, then a kill if {@code process} has not ended within {@code graceSeconds}. */
    static void terminate(Process process, long graceSeconds) {
        process.destroy();
        try {
            if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Kills a process and its children (a shell's pipeline). */
    static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Stops a hub of {@link #track(HubInstance)} (SIGTERM, then a kill after 15 s) and forgets it. */
    void close(HubInstance hub) {
        hub.close();
        running.remove(hub);
    }

    /** Waits for a launched hub, notes what its log says is in force, enrolls {@code nodes} simulated nodes, deploys the probe. */
    void prepareHub(HubPhase phase, int nodes) {
        if (!phase.usable()) {
            return;
        }
        try {
            phase.hub.awaitReady(within(Duration.ofSeconds(90)));
            progress("hub '%s': up; enrolling %d simulated node(s), deploying the probe", phase.label, nodes);
            phase.maxBatch = phase.hub.maxBatchInForce();
            phase.pendingLimitRaised = phase.hub.logMentions("maxPendingTasksPerNode");
            phase.fleet = new SimulatedFleet(phase.hub);
            phase.fleet.enroll(nodes);
            phase.hub.deploy(options.probe());
        } catch (Exception e) {
            phase.startError = describe(e);
            stop(phase);
        }
    }

    /** Closes the simulated nodes and stops the hub, noting what the nodes and the log say. */
    void stop(HubPhase phase) {
        if (phase.fleet != null) {
            phase.answered = phase.fleet.answered();
            phase.streams = phase.fleet.firstEnded();
            phase.fleet.close();
            phase.fleet = null;
        }
        if (phase.hub != null) {
            phase.gcPauses = phase.hub.gcPauses();
            try {
                phase.perTaskLogLines = phase.hub.countLogLines("ended SUCCEEDED");
            } catch (IOException e) {
                phase.perTaskLogLines = -1;
            }
            phase.hub.close();
            running.remove(phase.hub);
            phase.hub = null;
        }
    }

    Map<String, String> roundTripConfiguration(String run) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("run", run);
        config.put("mode", "roundtrip");
        config.put("nodes", "bench-n01");
        config.put("warmup", Integer.toString(options.roundTripWarmup()));
        config.put("count", Integer.toString(options.roundTripCount()));
        config.put("payloadBytes", Integer.toString(PAYLOAD_BYTES));
        config.put("output", "data/bench/" + run + ".properties");
        return config;
    }

    /** Configures the probe for one run and waits for its result file. */
    Properties probe(HubInstance hub, Map<String, String> config, Duration timeout) throws IOException, InterruptedException {
        hub.configure(PROBE_PID, config);
        Properties result = hub.awaitProperties(config.get("output"), within(timeout));
        if (!"ok".equals(result.getProperty("status"))) {
            throw new IllegalStateException("probe run " + config.get("run") + " ended " + result.getProperty("status") + ": "
                    + result.getProperty("firstFailure", result.getProperty("error", "")));
        }
        return result;
    }

    /**
     * The hub's heap used right after a full GC, read by the probe inside the hub's JVM (median of
     * a few readings; see the probe's HeapMeasurement).
     */
    Properties heapAfterGc(HubInstance hub, String run) throws IOException, InterruptedException {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("run", run);
        config.put("mode", "heap");
        config.put("heapReadings", "5");
        config.put("output", "data/bench/" + run + ".properties");
        return probe(hub, config, within(Duration.ofSeconds(60)));
    }

    static String fmt(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }

    static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    BenchOptions options() {
        return options;
    }

    Duration left() {
        return options.budget().minusNanos(System.nanoTime() - startedNanos);
    }

    /** {@code wanted}, or what is left of the time budget if that is less. */
    Duration within(Duration wanted) {
        Duration left = left();
        if (left.isNegative() || left.isZero()) {
            throw new IllegalStateException("time budget of " + options.budget().toSeconds() + " s used up");
        }
        return left.compareTo(wanted) < 0 ? left : wanted;
    }

    /** Ends the run a little after the budget whatever is happening, hubs included. */
    private void startWatchdog() {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(options.budget().plusSeconds(15).toMillis());
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("bench: still running " + options.budget().plusSeconds(15).toSeconds()
                    + " s after the start; stopping the hubs and giving up (see " + options.work() + ")");
            killAll();
            Runtime.getRuntime().halt(3);
        }, "bench-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** The 1, 5 and 15 minute load averages (Linux), or what the JVM knows. */
    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2] + " (1/5/15 min)";
        } catch (IOException | RuntimeException e) {
            return String.format(Locale.ROOT, "%.2f (1 min)", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    void progress(String format, Object... args) {
        System.out.printf(Locale.ROOT, "[%3ds] %s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos),
                String.format(Locale.ROOT, format, args));
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
