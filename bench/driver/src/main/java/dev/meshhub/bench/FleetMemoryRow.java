package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Row 5, idle fleet memory: the hub's heap per connected idle node (heartbeats on) at each fleet size
 * (1k, 5k, 10k), against the same fleet held by a bare grpc-java server ({@link FleetEchoServer}) in
 * a JVM with the same options. Per node: (heap after GC with the fleet - heap after GC before it) /
 * nodes, each reading the median of 5 after {@code System.gc()}, taken two heartbeat intervals after
 * the server counted the whole fleet. 3% of each fleet misbehave (issue 12) in front of both servers: 1% never answer
 * tasks (idle here, so they hold a stream like the rest), 1% drop and reconnect every 2 to 5 s, 1% send their heartbeats
 * late; the heap is read while they do.
 */
final class FleetMemoryRow {

    static final int NUMBER = 5;
    static final String NAME = "idle fleet memory";
    static final String GOAL = "<= 1.3x baseline bytes per node and <= 100 KiB per node, at every size";
    /** Heap of the hub and of the echo server in this row: a 10,000-node fleet at the goal needs up to 1 GiB. */
    static final String HEAP = "-Xms1g -Xmx4g";
    private static final long GOAL_BYTES_PER_NODE = 100 * 1024;
    private static final double GOAL_RATIO = 1.3;
    /** Classes named in the detail line of what the first fleet adds. */
    private static final int TOP_CLASSES = 12;
    /** Connections being made at once while a fleet comes up (the hub admits 1,024 unauthenticated ones). */
    static final int IN_FLIGHT = 200;

    private final BenchMain main;

    FleetMemoryRow(BenchMain main) {
        this.main = main;
    }

    Report.Row run() {
        List<Integer> sizes = main.options().fleetSizes();
        int largest = sizes.get(sizes.size() - 1);
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        long[] hub = new long[sizes.size()];
        long[] echo = new long[sizes.size()];
        try (Fleet fleet = new Fleet()) {
            phase = main.launchHub("fleet-memory", null, Map.of(), HEAP);
            main.prepareHub(phase, 0);
            if (!phase.usable()) {
                throw new IllegalStateException("hub 'fleet-memory' did not start: " + phase.startError);
            }
            HubInstance hubInstance = phase.hub;
            Duration enrolled = fleet.enroll(hubInstance, "fleet", largest, main.within(Duration.ofSeconds(400)), main::progress);
            details.add(String.format(Locale.ROOT, "%,d nodes enrolled (each an invite, an EC P-256 key and CSR, a certificate) in %.0f s",
                    largest, enrolled.toMillis() / 1000.0));
            long interval = 5000;
            FleetTarget hubTarget = FleetTarget.hub(hubInstance, interval);
            long before = heap(main.heapAfterGc(hubInstance, "r5-heap-0"));
            ClassHistogram hubNone = ClassHistogram.of(hubInstance.pid());
            int connected = 0;
            for (int i = 0; i < sizes.size(); i++) {
                int size = sizes.get(i);
                main.progress("fleet memory: connecting %,d nodes to the hub", size);
                Duration took = fleet.connect(hubTarget, connected, size, IN_FLIGHT,
                        counted(fleet, size, () -> hubInstance.admin().connectedCount()), main.within(Duration.ofSeconds(300)));
                connected = size;
                fleet.misbehave(size);
                Thread.sleep(2 * interval);
                hub[i] = heap(main.heapAfterGc(hubInstance, "r5-heap-" + size)) - before;
                if (i == 0) {
                    ClassHistogram hubFirst = ClassHistogram.of(hubInstance.pid());
                    details.add(String.format(Locale.ROOT, "hub: what %,d nodes add, by class (jcmd GC.class_histogram): %s; of"
                            + " meshhub's own classes: %s", size, hubFirst.growth(hubNone, TOP_CLASSES),
                            hubFirst.growth(hubNone, TOP_CLASSES / 2, "dev.meshhub.")));
                }
                details.add(String.format(Locale.ROOT, "hub: %,d nodes connected in %.1f s (%d at a time), %s of heap more than with"
                        + " none: %s per node; %s; misbehaving: %s", size, took.toMillis() / 1000.0, IN_FLIGHT, mib(hub[i]),
                        kib(hub[i] / (double) size), fleet.failures(), fleet.misbehaviour(size)));
            }
            // Issue 13: "10,000 nodes in the node list (paged, fast)", with the whole fleet enrolled and connected.
            details.add("hub: " + new ConsoleTimings(hubInstance).nodeList(largest));
            fleet.stopAll();
            fleet.behave(largest);
            main.stop(phase);
            phase = null;

            try (FleetEchoProcess server = new FleetEchoProcess(main.options().work().resolve("fleet-echo"),
                    (main.options().javaOpts() + " " + HEAP).trim())) {
                server.start();
                server.awaitReady(main.within(Duration.ofSeconds(60)));
                FleetTarget echoTarget = FleetTarget.echo(server.port(), server.certificate(), interval);
                long echoBefore = server.heapAfterGc();
                ClassHistogram echoNone = ClassHistogram.of(server.pid());
                connected = 0;
                for (int i = 0; i < sizes.size(); i++) {
                    int size = sizes.get(i);
                    main.progress("fleet memory: connecting %,d nodes to the echo server", size);
                    Duration took = fleet.connect(echoTarget, connected, size, IN_FLIGHT, counted(fleet, size, server::streams),
                            main.within(Duration.ofSeconds(300)));
                    connected = size;
                    fleet.misbehave(size);
                    Thread.sleep(2 * interval);
                    echo[i] = server.heapAfterGc() - echoBefore;
                    if (i == 0) {
                        details.add(String.format(Locale.ROOT, "echo baseline: what %,d nodes add, by class: %s", size,
                                ClassHistogram.of(server.pid()).growth(echoNone, TOP_CLASSES)));
                    }
                    details.add(String.format(Locale.ROOT, "echo baseline: %,d nodes connected in %.1f s, %s of heap more than with none:"
                            + " %s per node; misbehaving: %s", size, took.toMillis() / 1000.0, mib(echo[i]), kib(echo[i] / (double) size),
                            fleet.misbehaviour(size)));
                }
                fleet.stopAll();
                fleet.behave(largest);
            }
            details.add("JVM options of the hub and of the echo server: " + (main.options().javaOpts() + " " + HEAP).trim()
                    + "; nodes: driver JVM, grpc-java's shared event loops, one timer; heartbeats every 5 s; TLS 1.3 everywhere"
                    + " (the hub and the echo server with the JDK's provider), node certificates presented to both");
            details.add("marginal heap per node between sizes (free of what the first connections cost once): hub " + marginal(sizes, hub)
                    + "; echo baseline " + marginal(sizes, echo));
            return row(sizes, hub, echo, details);
        } catch (Exception e) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, BenchMain.describe(e), details);
        } finally {
            if (phase != null) {
                main.stop(phase);
            }
        }
    }

    private static Report.Row row(List<Integer> sizes, long[] hub, long[] echo, List<String> details) {
        boolean pass = true;
        double worst = 0;
        StringBuilder measured = new StringBuilder();
        StringBuilder baseline = new StringBuilder();
        StringBuilder ratios = new StringBuilder();
        for (int i = 0; i < sizes.size(); i++) {
            double perNode = hub[i] / (double) sizes.get(i);
            double echoPerNode = Math.max(1, echo[i]) / (double) sizes.get(i);
            double ratio = perNode / echoPerNode;
            worst = Math.max(worst, ratio);
            pass &= perNode <= GOAL_BYTES_PER_NODE && ratio <= GOAL_RATIO;
            String sep = i == 0 ? "" : " / ";
            measured.append(sep).append(kib(perNode));
            baseline.append(sep).append(kib(echoPerNode));
            ratios.append(sep).append(Report.ratio(ratio));
        }
        String at = " per node at " + sizes.stream().map(n -> String.format(Locale.ROOT, "%,d", n))
                .collect(java.util.stream.Collectors.joining(" / ")) + " nodes";
        return new Report.Row(NUMBER, NAME, "hub heap " + measured + at, "bare grpc-java server " + baseline, ratios.toString(), GOAL,
                pass ? Report.PASS : Report.MISS, details);
    }

    /**
     * What a fleet's connect waits for: every well-behaved node of the first {@code size} heard from the server, and the
     * server counting them all but the flapping ones (which may be between connections at any moment).
     */
    private static java.util.function.IntSupplier counted(Fleet fleet, int size, java.util.function.IntSupplier server) {
        return () -> {
            int flapping = fleet.behaving(size, FleetNode.Conduct.FLAPPING).size();
            boolean wellAll = fleet.wellOpen(size) == fleet.wellBehaved(size).size();
            return wellAll ? Math.min(size, server.getAsInt() + flapping) : Math.min(size - 1, server.getAsInt());
        };
    }

    /** The slope between consecutive sizes, per node. */
    private static String marginal(List<Integer> sizes, long[] heap) {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i < sizes.size(); i++) {
            text.append(i == 1 ? "" : ", ").append(String.format(Locale.ROOT, "%,d->%,d: %s", sizes.get(i - 1), sizes.get(i),
                    kib((heap[i] - heap[i - 1]) / (double) (sizes.get(i) - sizes.get(i - 1)))));
        }
        return text.length() == 0 ? "(one size only)" : text.toString();
    }

    private static long heap(java.util.Properties reading) {
        return Long.parseLong(reading.getProperty("heap.usedAfterGcBytes"));
    }

    static String kib(double bytes) {
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024);
    }

    static String mib(double bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024 * 1024));
    }
}
