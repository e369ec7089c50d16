package dev.meshhub.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.grpc.ManagedChannel;

/**
 * Row 8 of BENCHMARKS.md, cold start: launch to the first successful handshake, against a bare Felix +
 * SCR launch in the same run. Three kinds of launch alternate, the order rotating each round:
 * <ul>
 * <li><b>restart</b> (the headline): {@code bin/meshhub} on a home the hub ran on before (CA, journal,
 * node records in data/; the framework cache is wiped on every start anyway), and a node that already
 * holds a certificate reconnecting as the agent does ({@link ColdStartNode}), from spawn until its
 * Hello is answered;</li>
 * <li><b>fresh</b>: the first start of a fresh copy (the CA, the journal and the admin token are made
 * then), and a new node enrolling: admin token, {@code CreateInvite}, enrollment, handshake;</li>
 * <li><b>bare</b> (the baseline): {@link BareRuntime}, from spawn until the launcher prints "meshhub
 * started" (framework started, the bundles installed and started, start level reached).</li>
 * </ul>
 * Spawn is the driver's {@code ProcessBuilder.start()}; log lines are seen within {@value LogWatch#POLL_MS} ms,
 * and the node retries every {@value ColdStartNode#RETRY_MS} ms.
 */
final class ColdStartRow {

    static final int NUMBER = 8;
    static final String NAME = "cold start";
    static final String GOAL = "<= 2 s and <= +500 ms over bare";
    static final double LIMIT_NANOS = 2e9;
    static final double OVER_BARE_NANOS = 500e6;
    static final String STARTED = "meshhub started in";
    private static final Pattern SELF = Pattern.compile("meshhub started in (\\d+) ms \\((\\d+) bundles\\)");
    private static final Duration START_LIMIT = Duration.ofSeconds(60);
    /** A round is not started with less than this left of the time budget. */
    private static final Duration ROUND_NEEDS = Duration.ofSeconds(40);
    /** Milestones of a hub's start, from its timestamped log lines (label, text of the first such line). */
    private static final Map<String, String> MILESTONES = new LinkedHashMap<>();

    static {
        MILESTONES.put("first log line", "");
        MILESTONES.put("journal (Derby) open", "journal database");
        MILESTONES.put("PKI (HubCa)", "HubCa");
        MILESTONES.put("node port listening", "nodes connect on");
        MILESTONES.put("admin API listening", "admin API on");
        MILESTONES.put("mesh monitor active", "mesh monitor active");
    }

    private final BenchMain main;
    private final BenchOptions options;
    /** Figures by name, in nanoseconds, one per round. */
    private final Map<String, List<Double>> figures = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();

    ColdStartRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    Report.Row run() {
        List<String> kept = new ArrayList<>();
        HubInstance bare = null;
        HubInstance restart = null;
        String error = null;
        String cut = null;
        try {
            main.progress("cold start: a bare copy (framework + SCR) and a hub copy; the hub's first start enrolls the node (unrecorded)");
            bare = main.track(BareRuntime.create(options.runtime(), options.work().resolve("cold-bare"), kept));
            restart = main.track(HubInstance.copyOf(options.runtime(), options.work().resolve("cold-restart"), "cold-restart"));
            ColdStartNode node = new ColdStartNode();
            try {
                fresh(restart, node, null);
            } finally {
                restart.close();
            }
            bare(bare, false);
            notes.put("archives", "class-data archives (bin/meshhub writes one at a copy's first clean stop; later starts map it):"
                    + " restart " + archive(restart) + ", bare " + archive(bare) + "; each fresh copy starts without one, as a"
                    + " user's first start does");
            for (int round = 1; round <= options.rounds(); round++) {
                if (main.left().compareTo(ROUND_NEEDS) < 0) {
                    cut = "only " + (round - 1) + " of " + options.rounds() + " rounds fit in the time budget";
                    break;
                }
                main.progress("cold start round %d of %d: bare launch, hub restart, fresh hub (order rotating)", round, options.rounds());
                for (int k = 0; k < 3; k++) {
                    switch ((round - 1 + k) % 3) {
                        case 0 -> {
                            jvmAlone();
                            bare(bare, true);
                        }
                        case 1 -> {
                            restart(restart, node);
                            restartWithoutArchive(restart, node);
                        }
                        default -> freshRound(round);
                    }
                }
            }
            if (cut == null && main.left().compareTo(ROUND_NEEDS) >= 0) {
                timeline(restart, node);
            }
        } catch (Exception e) {
            error = BenchMain.describe(e);
        } finally {
            for (HubInstance hub : new HubInstance[] {bare, restart}) {
                if (hub != null) {
                    main.close(hub);
                }
            }
        }
        return report(kept, error, cut);
    }

    /** The baseline: spawn to the launcher's "meshhub started". */
    private void bare(HubInstance bare, boolean record) throws Exception {
        try (LogWatch watch = new LogWatch(bare.log(), List.of(STARTED))) {
            long cpu = driverCpu();
            long spawn = System.nanoTime();
            bare.start(options.javaOpts(), Map.of());
            long seen = watch.await(STARTED, spawn + main.within(START_LIMIT).toNanos(), bare::alive);
            if (record) {
                add("bare", seen - spawn);
                cpu("bare", bare, cpu);
                self(watch.text(), "bare");
            }
        } finally {
            bare.close();
        }
    }

    /** The headline: the hub started again on its home, the enrolled node reconnecting. */
    private void restart(HubInstance hub, ColdStartNode node) throws Exception {
        ManagedChannel channel = node.channel(hub.home(), hub.nodePort());
        try (LogWatch watch = new LogWatch(hub.log(), List.of(STARTED))) {
            long wall = System.currentTimeMillis();
            long cpu = driverCpu();
            long spawn = System.nanoTime();
            hub.start(options.javaOpts(), Map.of());
            long deadline = spawn + main.within(START_LIMIT).toNanos();
            ColdStartNode.Handshake handshake = node.handshake(channel, hub.nodePort(), deadline);
            cpu("restart", hub, cpu);
            long started = watch.await(STARTED, deadline, hub::alive);
            add("restart", handshake.helloAnswered() - spawn);
            add("restart port", handshake.portAccepted() - spawn);
            add("restart sync", handshake.syncAnswered() - spawn);
            add("restart started", started - spawn);
            add("restart probes", handshake.probes());
            add("restart attempts", handshake.attempts());
            self(watch.text(), "restart");
            marks("restart", watch.milestones(MILESTONES, wall));
            notes.put("answer", handshake.answer());
        } finally {
            channel.shutdownNow();
            hub.close();
        }
    }

    /** A restart as above with {@code MESHHUB_CDS=off}: what the class-data archive saves, in the same rounds. */
    private void restartWithoutArchive(HubInstance hub, ColdStartNode node) throws Exception {
        ManagedChannel channel = node.channel(hub.home(), hub.nodePort());
        try {
            long spawn = System.nanoTime();
            hub.start(options.javaOpts(), Map.of("MESHHUB_CDS", "off"));
            ColdStartNode.Handshake handshake = node.handshake(channel, hub.nodePort(), spawn + main.within(START_LIMIT).toNanos());
            add("restart nocds", handshake.helloAnswered() - spawn);
        } finally {
            channel.shutdownNow();
            hub.close();
        }
    }

    /** One more restart, unrecorded, with class loading logged: which part of the start got going when. */
    private void timeline(HubInstance hub, ColdStartNode node) throws Exception {
        main.progress("cold start: one more restart with -Xlog:class+load (unrecorded), for where the time goes");
        Path file = options.work().resolve("cold-restart-class-load.log");
        ManagedChannel channel = node.channel(hub.home(), hub.nodePort());
        String hello;
        String self = "?";
        try (LogWatch watch = new LogWatch(hub.log(), List.of(STARTED))) {
            long spawn = System.nanoTime();
            hub.start((options.javaOpts() + " " + StartTimeline.jvmOption(file)).trim(), Map.of());
            long deadline = spawn + main.within(START_LIMIT).toNanos();
            hello = Report.millis(node.handshake(channel, hub.nodePort(), deadline).helloAnswered() - spawn);
            watch.await(STARTED, deadline, hub::alive);
            Matcher m = SELF.matcher(watch.text());
            if (m.find()) {
                self = m.group(1);
            }
        } finally {
            channel.shutdownNow();
            hub.close();
        }
        notes.put("timeline", "one more restart with class loading logged (unrecorded; Hello answered " + hello + " after spawn,"
                + " the launcher's 'meshhub started in " + self + " ms'): JVM uptime in ms when each part's first class was loaded"
                + " (its classes): " + StartTimeline.describe(file));
    }

    /** A fresh copy's first start and a new node's enrollment; recorded under {@code prefix} (null: unrecorded). */
    private void fresh(HubInstance hub, ColdStartNode node, String prefix) throws Exception {
        try (LogWatch watch = new LogWatch(hub.log(), List.of(STARTED))) {
            long wall = System.currentTimeMillis();
            long cpu = driverCpu();
            long spawn = System.nanoTime();
            hub.start(options.javaOpts(), Map.of());
            long deadline = spawn + main.within(START_LIMIT).toNanos();
            String token = ColdStartNode.awaitToken(hub, deadline);
            String invite;
            try (HubAdmin admin = new HubAdmin(hub.adminPort(), token)) {
                invite = ColdStartNode.createInvite(admin, deadline);
            }
            long invited = System.nanoTime();
            long enrolled = node.enroll(hub.home(), hub.nodePort(), invite, deadline);
            ManagedChannel channel = node.channel(hub.home(), hub.nodePort());
            ColdStartNode.Handshake handshake;
            try {
                handshake = node.handshake(channel, hub.nodePort(), deadline);
            } finally {
                channel.shutdownNow();
            }
            if (prefix != null) {
                cpu(prefix, hub, cpu);
            }
            long started = watch.await(STARTED, deadline, hub::alive);
            if (prefix != null) {
                add(prefix, handshake.helloAnswered() - spawn);
                add(prefix + " invite", invited - spawn);
                add(prefix + " enrolled", enrolled - spawn);
                add(prefix + " started", started - spawn);
                self(watch.text(), prefix);
                marks(prefix, watch.milestones(MILESTONES, wall));
            }
        }
    }

    private void freshRound(int round) throws Exception {
        Path home = options.work().resolve("cold-fresh-" + round);
        HubInstance hub = main.track(HubInstance.copyOf(options.runtime(), home, "cold-fresh-" + round));
        try {
            fresh(hub, new ColdStartNode(), "fresh");
        } finally {
            main.close(hub);
            if (!options.keep()) {
                BenchMain.deleteTree(home);
            }
        }
    }

    /** The class-data archive under {@code data/cds} of {@code hub}'s home, as "none" or its size. */
    private static String archive(HubInstance hub) throws java.io.IOException {
        Path cds = hub.home().resolve("data/cds");
        if (!Files.isDirectory(cds)) {
            return "none";
        }
        try (java.util.stream.Stream<Path> files = Files.walk(cds)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(".jsa")
                    || p.getFileName().toString().endsWith(".jsa.new")).toList();
            if (found.isEmpty()) {
                return "none";
            }
            return Files.size(found.get(0)) / (1024 * 1024) + " MiB";
        }
    }

    /** {@code java $JAVA_OPTS -version}, spawn to exit: what the JVM alone costs. */
    private void jvmAlone() throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String option : options.javaOpts().trim().split("\\s+")) {
            if (!option.isEmpty()) {
                command.add(option);
            }
        }
        command.add("-version");
        long spawn = System.nanoTime();
        Process java = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!java.waitFor(30, TimeUnit.SECONDS) || java.exitValue() != 0) {
            java.destroyForcibly();
            throw new IllegalStateException("java -version did not end well: " + command);
        }
        add("jvm", System.nanoTime() - spawn);
    }

    /** CPU time the driver's JVM has used (the node, its retries and the log watch are in it). */
    private static long driverCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The CPU time hub and driver used from the spawn until now (the figure's end). */
    private void cpu(String prefix, HubInstance hub, long driverAtSpawn) {
        long used = hub.cpuNanos();
        if (used >= 0) {
            add(prefix + " cpu hub", used);
        }
        add(prefix + " cpu driver", driverCpu() - driverAtSpawn);
    }

    private String cpuUsed(String prefix) {
        return "CPU used until then: the hub's JVM " + (figures.containsKey(prefix + " cpu hub")
                ? Report.millis(spread(prefix + " cpu hub").median()) : "?") + ", the driver's " + Report.millis(spread(prefix
                + " cpu driver").median()) + " (medians)";
    }

    private void add(String figure, double nanos) {
        figures.computeIfAbsent(figure, k -> new ArrayList<>()).add(nanos);
    }

    /** The launcher's own figure ("meshhub started in N ms", counted from the JVM's start) and its bundle count. */
    private void self(String log, String prefix) {
        Matcher m = SELF.matcher(log);
        if (m.find()) {
            add(prefix + " self", Long.parseLong(m.group(1)) * 1e6);
            notes.put(prefix + " bundles", m.group(2));
        }
    }

    private void marks(String prefix, Map<String, Long> milestones) {
        milestones.forEach((label, ms) -> add(prefix + ": " + label, ms * 1e6));
    }

    private Spread spread(String figure) {
        return Spread.of(figures.get(figure));
    }

    private String ms(String figure) {
        return figures.containsKey(figure) ? Report.spread(spread(figure), Report::millis) : "-";
    }

    private String milestones(String prefix) {
        List<String> parts = new ArrayList<>();
        for (String label : MILESTONES.keySet()) {
            if (figures.containsKey(prefix + ": " + label)) {
                parts.add(label + " " + Report.millis(spread(prefix + ": " + label).median()));
            }
        }
        return parts.isEmpty() ? "(no timestamped lines found)" : String.join(", ", parts);
    }

    private String count(String figure) {
        return String.format(Locale.ROOT, "%.0f", spread(figure).median());
    }

    private static String seconds(double nanos) {
        return String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    private static String verdict(double measured, double baseline) {
        return measured <= LIMIT_NANOS && measured - baseline <= OVER_BARE_NANOS ? Report.PASS : Report.MISS;
    }

    private Report.Row report(List<String> kept, String error, String cut) {
        List<String> details = new ArrayList<>();
        details.add("headline: the hub started again on a home it ran on before (CA, journal, node records in data/; Felix's cache is"
                + " wiped on every start), a node holding its certificate reconnecting as the agent does: SyncConfiguration"
                + " answered, then its TaskStream Hello answered by the hub's first message ("
                + notes.getOrDefault("answer", "?") + "); from the spawn the node tries a TCP connect every " + ColdStartNode.RETRY_MS
                + " ms until the node port accepts, then calls (the fresh hub's new node first waits for the admin token and an invite)");
        details.add("JVM options of every launch: " + options.javaOpts() + " plus a GC log; the same bin/meshhub and lib/boot launcher;"
                + " rounds alternate bare / restart / fresh, the order rotating; the files are in the page cache (a cold JVM, not a"
                + " cold disk)");
        if (notes.containsKey("archives")) {
            details.add(notes.get("archives"));
        }
        if (cut != null) {
            details.add(cut);
        }
        if (error != null || !figures.containsKey("restart") || !figures.containsKey("bare")) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, error != null ? error : "no round completed", details);
        }
        Spread restart = spread("restart");
        Spread bare = spread("bare");
        details.add("hub restart, spawn to the node's Hello answered: " + ms("restart"));
        details.add("  node port accepted a TCP connection: " + ms("restart port") + " (after a median of " + count("restart probes")
                + " tries); SyncConfiguration answered (TLS handshake, first call): " + ms("restart sync") + " (calls: median "
                + count("restart attempts") + "); 'meshhub started' seen: " + ms("restart started"));
        details.add("  the launcher's own 'meshhub started in N ms' (from the JVM's start, " + notes.getOrDefault("restart bundles", "?")
                + " bundles): " + ms("restart self"));
        details.add("  the same restart with MESHHUB_CDS=off (no class-data archive), in the same rounds: " + ms("restart nocds"));
        details.add("  after spawn (medians, from the log's timestamps): " + milestones("restart"));
        details.add("  " + cpuUsed("restart"));
        if (notes.containsKey("timeline")) {
            details.add("  " + notes.get("timeline"));
        }
        if (figures.containsKey("fresh")) {
            Spread fresh = spread("fresh");
            details.add(String.format(Locale.ROOT, "fresh hub (first start: CA and node port certificate made, Derby journal created,"
                    + " admin token written) and a new node enrolling, spawn to its Hello answered: %s; %s, %+.0f ms over bare: %s"
                    + " against the same goal", ms("fresh"), seconds(fresh.median()), (fresh.median() - bare.median()) / 1e6,
                    verdict(fresh.median(), bare.median())));
            details.add("  admin token read and CreateInvite answered: " + ms("fresh invite") + "; enrolled (certificate issued): "
                    + ms("fresh enrolled") + "; 'meshhub started' seen: " + ms("fresh started"));
            details.add("  after spawn (medians, from the log's timestamps): " + milestones("fresh"));
            details.add("  " + cpuUsed("fresh"));
        }
        details.add("bare Felix + SCR, spawn to 'meshhub started': " + ms("bare") + "; the launcher's own figure (from the JVM's start): "
                + ms("bare self"));
        details.add("  " + cpuUsed("bare"));
        details.add("  bare bundles (" + notes.getOrDefault("bare bundles", "?") + " started): " + String.join(", ", kept));
        if (figures.containsKey("jvm")) {
            details.add("the JVM alone (java " + options.javaOpts().trim() + " -version, spawn to exit): " + ms("jvm"));
        }
        double over = restart.median() - bare.median();
        String measured = seconds(restart.median()) + " launch to first handshake (hub restarted, a node with its certificate"
                + " reconnects; median of " + restart.rounds() + ")";
        String baseline = seconds(bare.median()) + " bare Felix + SCR launch to 'meshhub started'";
        String ratio = Report.ratio(restart.median() / bare.median()) + String.format(Locale.ROOT, " (%+.0f ms)", over / 1e6);
        return new Report.Row(NUMBER, NAME, measured, baseline, ratio, GOAL, verdict(restart.median(), bare.median()), details);
    }
}
