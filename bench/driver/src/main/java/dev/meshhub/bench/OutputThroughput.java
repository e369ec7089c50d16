package dev.meshhub.bench;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The first line of row 18: {@code meshctl exec NODE -- sh -c 'head -c SIZE /dev/zero' | sha256sum} (1 GiB by default),
 * its digest and exit checked, against two baselines in the same rounds: the local pipe {@code head -c SIZE /dev/zero |
 * sha256sum}, and a raw grpc-java server-streaming call over loopback ({@link RawOutputServer} in the driver's JVM, 64 KiB
 * messages, to {@link RawOutputClient}, a process on meshctl's class path and JVM options, piped into {@code sha256sum}):
 * the same consumer without the hub and the node. Goal: at least half the raw stream's MB/s, and the hub's heap after GC
 * after the last round within 5% (or 8 MiB) of before the first.
 */
final class OutputThroughput {

    static final String GOAL = ">= 50% of the raw gRPC stream; hub heap after GC within 5% (or 8 MiB) of start";
    static final double MIN_RAW_SHARE = 0.5;
    static final double HEAP_TOLERANCE = 0.05;
    static final long HEAP_SLACK = 8L << 20;
    /** The warm-up's output through meshctl and through the raw stream (at most the throughput's size). */
    static final long WARM_UP_BYTES = 128L << 20;

    private final BenchMain main;
    private final OutputPipelines pipelines;
    private final long size;
    private final int rounds;
    private final Map<String, List<Double>> mbps = new LinkedHashMap<>();
    private final List<String> roundLines = new ArrayList<>();
    private Properties heapBefore;
    private Properties heapAfter;
    private String roundsCut;

    OutputThroughput(BenchMain main, OutputPipelines pipelines) {
        this.main = main;
        this.pipelines = pipelines;
        this.size = main.options().outputBytes();
        this.rounds = main.options().outputRounds();
        for (String figure : List.of("meshctl", "local", "raw")) {
            mbps.put(figure, new ArrayList<>());
        }
    }

    /** The unrecorded warm-up, the heap after GC, the rounds (as many as fit, leaving {@code reserve}), the heap again. */
    void run(Duration reserve) throws IOException, InterruptedException {
        long warm = Math.min(size, WARM_UP_BYTES);
        main.progress("row 18: warm-up (unrecorded), %s through meshctl exec and through the raw gRPC stream",
                TaskOutputRow.sizeLabel(warm));
        pipelines.throughput("warm-up meshctl", OutputPipelines.MESHCTL, warm, null);
        pipelines.throughput("warm-up raw", OutputPipelines.RAW, warm, null);
        heapBefore = main.heapAfterGc(pipelines.hub(), "r18-heap-before");
        long roundNanos = 0;
        for (int round = 1; round <= rounds; round++) {
            if (!TaskOutputRow.fits(main, reserve, roundNanos, Duration.ofSeconds(60 + size / 10_000_000))) {
                roundsCut = "only " + (round - 1) + " of " + rounds + " throughput rounds fit in the time budget";
                break;
            }
            long started = System.nanoTime();
            main.progress("row 18 throughput round %d of %d: meshctl exec, local pipe, raw gRPC stream (%s each)", round, rounds,
                    TaskOutputRow.sizeLabel(size));
            List<String> order = new ArrayList<>(List.of("meshctl", "local", "raw"));
            Collections.rotate(order, round - 1);
            for (String figure : order) {
                String line = switch (figure) {
                    case "meshctl" -> OutputPipelines.MESHCTL;
                    case "local" -> OutputPipelines.LOCAL;
                    default -> OutputPipelines.RAW;
                };
                mbps.get(figure).add(pipelines.throughput(figure, line, size, figure));
            }
            roundNanos = System.nanoTime() - started;
            roundLines.add(String.format(Locale.ROOT, "throughput round %d (order %s): meshctl exec %.1f, local pipe %.1f, raw gRPC"
                    + " stream %.1f MB/s", round, String.join(", ", order), last("meshctl"), last("local"), last("raw")));
            main.progress("row 18: %s", roundLines.get(roundLines.size() - 1));
        }
        heapAfter = main.heapAfterGc(pipelines.hub(), "r18-heap-after");
    }

    private double last(String figure) {
        List<Double> values = mbps.get(figure);
        return values.get(values.size() - 1);
    }

    /**
     * The row: {@code details} (what the run around it noted) after the workload and the baselines; {@code heapEnd} the
     * heap after the slow-reader rounds too (null if not read), {@code error} why the row ended early (null if it did not).
     */
    Report.Row row(List<String> details, Properties heapEnd, String error) {
        String name = "task output, " + TaskOutputRow.sizeLabel(size);
        details.add(0, String.format(Locale.ROOT, "workload: one hub as shipped (output window as shipped), one node agent"
                + " (bin/meshnode, enrolled, TLS to the hub, PERMISSIVE); bash -o pipefail -c \"%s\" (its exit and the digest"
                + " checked; bash's times after it says the CPU of its processes), timed spawn to exit, %s per pipeline; MB = 10^6"
                + " bytes; an unrecorded warm-up of %s through meshctl and the raw stream first; rounds rotate the order",
                String.format(Locale.ROOT, OutputPipelines.MESHCTL, size), TaskOutputRow.sizeLabel(size),
                TaskOutputRow.sizeLabel(Math.min(size, WARM_UP_BYTES))));
        details.add(1, "baselines, same rounds: local pipe \"" + String.format(Locale.ROOT, OutputPipelines.LOCAL, size)
                + "\"; raw gRPC stream: a grpc-java server-streaming call over loopback, plaintext, the server in the driver's JVM"
                + " (Netty, 4 handler threads, 64 KiB messages of a zero buffer, as the node sends, sent while the call is ready) to a client process"
                + " on meshctl's class path (lib/cli: grpc-java over OkHttp) with meshctl's JVM options ("
                + pipelines.clientOptions() + ") that writes each message to stdout as meshctl does, into sha256sum: the same"
                + " consumer without the hub and the node");
        if (mbps.get("meshctl").isEmpty()) {
            details.addAll(roundLines);
            return Report.Row.notMeasurable(TaskOutputRow.NUMBER, name, GOAL, error != null ? error : roundsCut != null ? roundsCut
                    : "no round ran", details);
        }
        details.addAll(roundLines);
        if (roundsCut != null) {
            details.add(roundsCut);
        }
        if (error != null) {
            details.add("ended early: " + error);
        }
        Spread meshctl = Spread.of(mbps.get("meshctl"));
        Spread local = Spread.of(mbps.get("local"));
        Spread stream = Spread.of(mbps.get("raw"));
        details.add("meshctl exec: " + Report.spread(meshctl, FileSyncRow::mbps) + "; local pipe: " + Report.spread(local, FileSyncRow::mbps)
                + "; raw gRPC stream: " + Report.spread(stream, FileSyncRow::mbps));
        details.addAll(pipelines.cpuDetails());
        String heapMiss = heap(details, heapEnd);
        double share = meshctl.median() / stream.median();
        List<String> missed = new ArrayList<>();
        if (share < MIN_RAW_SHARE) {
            missed.add(String.format(Locale.ROOT, "%.0f%% of the raw gRPC stream", share * 100));
        }
        if (heapMiss != null) {
            missed.add(heapMiss);
        }
        if (error != null) {
            missed.add("the row ended early");
        }
        return new Report.Row(TaskOutputRow.NUMBER, name, String.format(Locale.ROOT, "%s meshctl exec (median of %d)",
                FileSyncRow.mbps(meshctl.median()), meshctl.rounds()), FileSyncRow.mbps(local.median()) + " local pipe; "
                + FileSyncRow.mbps(stream.median()) + " raw gRPC stream", Report.ratio(meshctl.median() / local.median()) + " / "
                + Report.ratio(share) + String.format(Locale.ROOT, " (%.0f%% of the raw stream)", share * 100), GOAL,
                Report.verdict(missed), details);
    }

    /** The heap's detail line; returns what missed (null if the heap stayed flat). */
    private String heap(List<String> details, Properties heapEnd) {
        if (heapBefore == null || heapAfter == null) {
            details.add("hub heap after GC: not measured");
            return "heap not measured";
        }
        double before = heapBytes(heapBefore);
        double after = heapBytes(heapAfter);
        boolean flat = after <= before * (1 + HEAP_TOLERANCE) || after - before <= HEAP_SLACK;
        details.add(String.format(Locale.ROOT, "hub heap after GC (probe, median of 5 readings): %s before the first round, %s after"
                + " the last (%+.1f%%, %+.1f MiB)%s; committed %s, max %s: %s", FileSyncRow.mib(before), FileSyncRow.mib(after),
                (after / before - 1) * 100, (after - before) / 1048576.0, heapEnd == null ? ""
                        : ", " + FileSyncRow.mib(heapBytes(heapEnd)) + " after the slow-reader rounds too",
                FileSyncRow.mib(heapBytes(heapAfter, "heap.committedBytes")), FileSyncRow.mib(heapBytes(heapAfter, "heap.maxBytes")),
                flat ? "flat (within 5% or 8 MiB)" : "grew more than 5% and 8 MiB"));
        return flat ? null : String.format(Locale.ROOT, "hub heap %s -> %s", FileSyncRow.mib(before), FileSyncRow.mib(after));
    }

    private static double heapBytes(Properties reading) {
        return heapBytes(reading, "heap.usedAfterGcBytes");
    }

    private static double heapBytes(Properties reading, String key) {
        return Double.parseDouble(reading.getProperty(key));
    }
}
