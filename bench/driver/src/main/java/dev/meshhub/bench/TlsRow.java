package dev.meshhub.bench;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import dev.meshhub.proto.v1.UploadDone;

/**
 * Row 11 of BENCHMARKS.md, TLS cost: rows 1 and 4 with TLS on and off in the same run (issue 10): two hubs side by side, one as shipped
 * (TLS 1.3 on the node port, nodes verified by certificate) and one with {@code plaintext = true} on
 * loopback; one simulated node each. Rounds alternate between the two (on, off, then off, on, ...):
 * the dispatch round trip p50 through the probe (as row 1), then uploads of a pseudo-random file with
 * 256 KiB chunks, as 1 upload and as 8 parallel ones (as row 4); {@code --sync-rounds} rounds (default 3). Goals (issue 10): TLS adds at most
 * 10% to the dispatch p50 and keeps at least 90% of the plaintext file-sync throughput.
 */
final class TlsRow {

    /** Row 11 of BENCHMARKS.md, asked for as {@code --rows 11}; two lines, rows 1 and 4 with TLS on and off. */
    static final int NUMBER = 11;
    static final String DISPATCH_NAME = "TLS cost: dispatch round trip (row 1), TLS on vs off";
    static final String SYNC_NAME = "TLS cost: file sync (row 4), TLS on vs off";

    static final double MAX_DISPATCH_RATIO = 1.10;
    static final double MIN_SYNC_RATIO = 0.90;
    static final String DISPATCH_GOAL = "TLS p50 <= 1.10x plaintext p50";
    static final String SYNC_GOAL = "TLS >= 90% of plaintext MB/s in every configuration";
    static final int CHUNK = 256 * 1024;
    static final int[] PARALLEL = {1, 8};

    private final BenchMain main;
    private final BenchOptions options;

    TlsRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    List<Report.Row> run() {
        final int rounds = options.syncRounds();
        List<String> details = new ArrayList<>();
        Map<Boolean, List<Double>> p50 = new LinkedHashMap<>(Map.of(true, new ArrayList<>(), false, new ArrayList<>()));
        Map<String, List<Double>> throughput = new LinkedHashMap<>();
        long size = Math.max(64L << 20, options.syncFileBytes() / 4);
        String error = null;
        HubPhase on = null;
        HubPhase off = null;
        Path directory = options.work().resolve("tls");
        ExecutorService senders = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "bench-tls-sender");
            t.setDaemon(true);
            return t;
        });
        try {
            Files.createDirectories(directory);
            SourceFile source = SourceFile.create(directory.resolve("source.bin"), size, 8);
            Map<String, String> environment = Map.of("MESHHUB_TRANSPORT_MAX_PENDING_TASKS_PER_NODE", BenchMain.MAX_PENDING,
                    "MESHHUB_MIRROR_QUOTA_BYTES", Long.toString(1L << 40));
            on = main.launchHub("tls-on", null, environment);
            Map<String, String> plaintext = new LinkedHashMap<>(environment);
            plaintext.put("MESHHUB_TRANSPORT_PLAINTEXT", "true");
            off = main.launchHub("tls-off", null, plaintext);
            for (HubPhase phase : List.of(on, off)) {
                main.prepareHub(phase, 1);
                if (!phase.usable()) {
                    throw new IllegalStateException("hub '" + phase.label + "' did not start: " + phase.startError);
                }
                phase.fleet.connect(1, main.within(Duration.ofSeconds(30)));
            }
            if (!off.hub.logMentions("PLAINTEXT") || on.hub.logMentions("PLAINTEXT")) {
                throw new IllegalStateException("the hubs' logs do not show TLS on for 'tls-on' and plaintext for 'tls-off'");
            }
            details.add("hub 'tls-on': node port TLS 1.3 (as shipped), the node by certificate; hub 'tls-off': plaintext = true on"
                    + " 127.0.0.1; 1 simulated node each (driver JVM); rounds alternate on/off");
            try (FileChannel file = FileChannel.open(source.file(), StandardOpenOption.READ)) {
                for (int round = 1; round <= rounds; round++) {
                    List<HubPhase> order = round % 2 == 1 ? List.of(on, off) : List.of(off, on);
                    main.progress("TLS on/off round %d of %d: %d tasks one at a time, then %d MiB uploads (1 and 8 parallel)", round,
                            rounds, options.roundTripCount(), size >> 20);
                    for (HubPhase phase : order) {
                        Properties result = main.probe(phase.hub, main.roundTripConfiguration("tls-" + phase.label + "-r" + round),
                                Duration.ofSeconds(120));
                        p50.get(phase == on).add(Double.parseDouble(result.getProperty("latency.p50Ns")));
                    }
                    for (int parallel : PARALLEL) {
                        for (HubPhase phase : order) {
                            double mbs = upload(senders, phase, file, source, parallel, "r" + round);
                            throughput.computeIfAbsent(phase.label + " x" + parallel, k -> new ArrayList<>()).add(mbs);
                        }
                    }
                }
            }
        } catch (Exception e) {
            error = BenchMain.describe(e);
        } finally {
            senders.shutdownNow();
            for (HubPhase phase : new HubPhase[] {on, off}) {
                if (phase != null) {
                    main.stop(phase);
                }
            }
            try {
                Files.deleteIfExists(directory.resolve("source.bin"));
            } catch (Exception e) {
                details.add("could not delete the source file: " + e);
            }
        }
        List<Report.Row> rows = new ArrayList<>();
        if (error != null || p50.get(true).isEmpty() || p50.get(false).isEmpty()) {
            String why = error != null ? error : "no round completed";
            rows.add(Report.Row.notMeasurable(NUMBER, DISPATCH_NAME, DISPATCH_GOAL, why, details));
            rows.add(Report.Row.notMeasurable(NUMBER, SYNC_NAME, SYNC_GOAL, why, details));
            return rows;
        }
        Spread tls = Spread.of(p50.get(true));
        Spread plain = Spread.of(p50.get(false));
        double dispatchRatio = tls.median() / plain.median();
        List<String> dispatchDetails = new ArrayList<>(details);
        dispatchDetails.add("TLS p50 " + Report.spread(tls, Report::millis) + "; plaintext p50 " + Report.spread(plain, Report::millis)
                + " (" + options.roundTripCount() + " tasks per round after " + options.roundTripWarmup() + " warm-up)");
        rows.add(new Report.Row(NUMBER, DISPATCH_NAME, "p50 " + Report.millis(tls.median()) + " (TLS 1.3)",
                "p50 " + Report.millis(plain.median()) + " (plaintext)", Report.ratio(dispatchRatio), DISPATCH_GOAL,
                dispatchRatio <= MAX_DISPATCH_RATIO ? Report.PASS : Report.MISS, dispatchDetails));

        List<String> syncDetails = new ArrayList<>(details);
        syncDetails.add(String.format(Locale.ROOT, "workload: a %d MiB pseudo-random file, 256 KiB chunks, 1 upload of the whole file"
                + " or 8 parallel uploads of an eighth each; from the first UploadStart to the last UploadDone (verified, fsynced,"
                + " in place); MB = 10^6 bytes", size >> 20));
        double lowest = Double.MAX_VALUE;
        String lowestAt = "";
        double lowestTls = 0;
        double lowestPlain = 0;
        for (int parallel : PARALLEL) {
            Spread withTls = Spread.of(throughput.get("tls-on x" + parallel));
            Spread without = Spread.of(throughput.get("tls-off x" + parallel));
            double ratio = withTls.median() / without.median();
            syncDetails.add(String.format(Locale.ROOT, "%d upload(s): TLS %s MB/s, plaintext %s MB/s, ratio %s", parallel,
                    Report.spread(withTls, v -> String.format(Locale.ROOT, "%.0f", v)),
                    Report.spread(without, v -> String.format(Locale.ROOT, "%.0f", v)), Report.ratio(ratio)));
            if (ratio < lowest) {
                lowest = ratio;
                lowestAt = parallel + (parallel == 1 ? " upload" : " parallel uploads");
                lowestTls = withTls.median();
                lowestPlain = without.median();
            }
        }
        rows.add(new Report.Row(NUMBER, SYNC_NAME, String.format(Locale.ROOT, "%.0f MB/s TLS at %s (its lowest ratio)",
                lowestTls, lowestAt), String.format(Locale.ROOT, "%.0f MB/s plaintext", lowestPlain), Report.ratio(lowest), SYNC_GOAL,
                lowest >= MIN_SYNC_RATIO ? Report.PASS : Report.MISS, syncDetails));
        return rows;
    }

    /** One upload configuration to one hub: MB/s; the mirror files are checked and deleted. */
    private static double upload(ExecutorService senders, HubPhase phase, FileChannel file, SourceFile source, int parallel, String tag)
            throws Exception {
        SimulatedNode node = phase.fleet.node(0);
        Path mirror = phase.hub.home().resolve("data/mirror").resolve(node.nodeId());
        long each = source.size() / parallel;
        List<Future<UploadDone>> uploads = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < parallel; i++) {
            long from = i * each;
            String path = String.format(Locale.ROOT, "bench/tls-%s-p%d-s%d.bin", tag, parallel, i);
            byte[] sha = parallel == 1 ? source.sha256() : source.slices().get(i);
            paths.add(path);
            uploads.add(senders.submit(() -> RegionUpload.send(node.stub()::upload, file, from, each, CHUNK, path, sha)));
        }
        for (int i = 0; i < parallel; i++) {
            UploadDone done = uploads.get(i).get(300, TimeUnit.SECONDS);
            String expected = SourceFile.hex(parallel == 1 ? source.sha256() : source.slices().get(i));
            if (done.getSize() != each || !done.getSha256().equals(expected)) {
                throw new IllegalStateException("hub '" + phase.label + "' reported " + done.getSize() + " bytes, SHA-256 "
                        + done.getSha256() + " for " + paths.get(i));
            }
        }
        long elapsed = System.nanoTime() - started;
        for (String path : paths) {
            Files.deleteIfExists(mirror.resolve(path));
        }
        return source.size() / (elapsed / 1e9) / 1e6;
    }
}
