package dev.meshhub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Row 9, reconnect storm: 5,000 connected nodes, the hub restarted (stopped, then launched again on
 * the same home and ports); measured from the launch until the hub lists every node connected
 * again. The nodes reconnect as the agent does (a handshake by certificate, then TaskStream), each
 * retry after the agent's own full-jitter backoff; the hub admits at most 1,024 connections that
 * have not yet authenticated and refuses the rest, which retry. Baseline in the same run: the same
 * fleet against the bare grpc-java server ({@link FleetEchoServer}) restarted the same way.
 */
final class ReconnectStormRow {

    static final int NUMBER = 9;
    static final String NAME = "reconnect storm";
    static final String GOAL = "all reconnected <= 2x baseline and < 30 s; no out-of-memory; no reconnect refused by the enrollment limiter";
    private static final Duration GOAL_TIME = Duration.ofSeconds(30);
    private static final double GOAL_RATIO = 2.0;

    private final BenchMain main;

    ReconnectStormRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        int nodes = main.options().stormNodes();
        String name = NAME + ", " + String.format(Locale.ROOT, "%,d", nodes) + " nodes";
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        try (Fleet fleet = new Fleet()) {
            phase = main.launchHub("storm", null, Map.of(), FleetMemoryRow.HEAP);
            main.prepareHub(phase, 0);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'storm' did not start: " + phase.startError);
            }
            HubInstance hub = phase.hub;
            Duration enrolled = fleet.enroll(hub, "storm", nodes, main.within(Duration.ofSeconds(300)), main::progress);
            details.add(String.format(Locale.ROOT, "%,d nodes enrolled in %.0f s", nodes, enrolled.toMillis() / 1000.0));

            long baseline = echoStorm(fleet, nodes, details);

            main.progress("reconnect storm: connecting %,d nodes to the hub", nodes);
            FleetTarget target = FleetTarget.hub(hub, 5000);
            fleet.connect(target, 0, nodes, FleetMemoryRow.IN_FLIGHT, () -> hub.admin().connectedCount(),
                    main.within(Duration.ofSeconds(240)));
            // 3% misbehave through the storm (issue 12); "all reconnected" is every well-behaved node's stream answered.
            fleet.misbehave(nodes);
            int well = fleet.wellBehaved(nodes).size();
            Thread.sleep(1000);
            fleet.takeReasons();
            main.progress("reconnect storm: restarting the hub under %,d nodes", nodes);
            hub.close();
            long launched = System.nanoTime();
            long driverCpu = driverCpuNanos();
            hub.start((main.options().javaOpts() + " " + FleetMemoryRow.HEAP).trim(), Map.of());
            hub.awaitReady(main.within(Duration.ofSeconds(90)));
            long adminUp = System.nanoTime();
            fleet.awaitConnected(() -> fleet.wellOpen(nodes), well, launched + main.within(Duration.ofSeconds(120)).toNanos(),
                    main::progress);
            long storm = System.nanoTime() - launched;
            java.util.Set<String> listed = hub.admin().connectedNodes();
            long wellListed = fleet.wellBehaved(nodes).stream().filter(n -> listed.contains(n.name())).count();
            details.add(cpu("hub", hub.cpuNanos(), driverCpuNanos() - driverCpu, storm, nodes));
            List<String> reasons = fleet.takeReasons();
            details.add(String.format(Locale.ROOT, "hub: launch to all %,d well-behaved nodes' streams answered %.1f s (its admin API"
                    + " answered after %.1f s; then %,d of them listed connected by the hub); failed attempts of well-behaved nodes"
                    + " meanwhile: %s", well, storm / 1e9, (adminUp - launched) / 1e9, wellListed,
                    reasons.isEmpty() ? "none" : String.join("; ", reasons)));
            details.add("misbehaving nodes through both storms: " + fleet.misbehaviour(nodes));
            boolean limiter = reasons.stream().anyMatch(r -> r.contains("too many failed enrollment attempts"));
            boolean outOfMemory = logMentions(hub, "OutOfMemoryError") || !hub.alive();
            details.add("hub " + (hub.alive() ? "running" : "DEAD") + " afterwards; OutOfMemoryError in its log: "
                    + (outOfMemory ? "YES" : "no") + "; reconnects refused by the enrollment limiter: " + (limiter ? "YES" : "none")
                    + "; heap and GC: " + hub.gcPauses());
            details.add("JVM options of the hub and the echo server: " + (main.options().javaOpts() + " " + FleetMemoryRow.HEAP).trim()
                    + "; the agent's backoff (base 500 ms, cap 30 s, full jitter), reset on the server's first answer");
            fleet.stopAll();
            double ratio = (double) storm / baseline;
            boolean pass = ratio <= GOAL_RATIO && storm < GOAL_TIME.toNanos() && !outOfMemory && !limiter;
            return new Report.Row(NUMBER, name, String.format(Locale.ROOT, "%.1f s launch to all reconnected", storm / 1e9),
                    String.format(Locale.ROOT, "%.1f s (bare grpc-java server restarted)", baseline / 1e9), Report.ratio(ratio), GOAL,
                    pass ? Report.PASS : Report.MISS, details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, name, GOAL, BenchMain.describe(e), details);
        } finally {
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    /** The baseline: the fleet on the echo server, which is restarted; nanoseconds from its launch to all streams open again. */
    private long echoStorm(Fleet fleet, int nodes, List<String> details) throws Exception {
        try (FleetEchoProcess server = new FleetEchoProcess(main.options().work().resolve("storm-echo"),
                (main.options().javaOpts() + " " + FleetMemoryRow.HEAP).trim())) {
            server.start();
            server.awaitReady(main.within(Duration.ofSeconds(60)));
            main.progress("reconnect storm: connecting %,d nodes to the echo server", nodes);
            fleet.connect(FleetTarget.echo(server.port(), server.certificate(), 5000), 0, nodes, FleetMemoryRow.IN_FLIGHT,
                    server::streams, main.within(Duration.ofSeconds(240)));
            fleet.misbehave(nodes);
            int well = fleet.wellBehaved(nodes).size();
            Thread.sleep(1000);
            fleet.takeReasons();
            main.progress("reconnect storm: restarting the echo server under %,d nodes", nodes);
            server.stop();
            long launched = System.nanoTime();
            long driverCpu = driverCpuNanos();
            server.start();
            server.awaitReady(main.within(Duration.ofSeconds(60)));
            long ready = System.nanoTime();
            // The bare server's storm can run for minutes (see bench/README.md): wait long enough to measure it.
            fleet.awaitConnected(() -> fleet.wellOpen(nodes), well, launched + main.within(Duration.ofSeconds(240)).toNanos(),
                    main::progress);
            long storm = System.nanoTime() - launched;
            details.add(cpu("echo baseline", server.cpuNanos(), driverCpuNanos() - driverCpu, storm, nodes));
            List<String> reasons = fleet.takeReasons();
            details.add(String.format(Locale.ROOT, "echo baseline: launch to all %,d well-behaved nodes' streams answered %.1f s"
                    + " (listening after %.1f s); failed attempts of well-behaved nodes meanwhile: %s", well, storm / 1e9,
                    (ready - launched) / 1e9, reasons.isEmpty() ? "none" : String.join("; ", reasons)));
            fleet.behave(nodes);
            fleet.stopAll();
            return storm;
        }
    }

    /**
     * Where the cores went during a storm: the server's JVM from its launch (start included), the driver's
     * (all simulated nodes) over the same time, against what the machine had.
     */
    private static String cpu(String who, long serverNanos, long driverNanos, long wallNanos, int nodes) {
        int cores = Runtime.getRuntime().availableProcessors();
        return String.format(Locale.ROOT, "%s CPU over the %.1f s: its JVM %.1f s (start included; %.1f ms per reconnect), the driver"
                + " with the %,d nodes %.1f s, of %.1f s the %d cores offered", who, wallNanos / 1e9, serverNanos / 1e9,
                serverNanos / 1e6 / nodes, nodes, driverNanos / 1e9, cores * wallNanos / 1e9, cores);
    }

    private static long driverCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static boolean logMentions(HubInstance hub, String text) throws IOException {
        try (var lines = Files.lines(hub.log(), StandardCharsets.UTF_8)) {
            return lines.anyMatch(line -> line.contains(text));
        }
    }
}
