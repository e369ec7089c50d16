package dev.meshhub.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.meshhub.proto.v1.UploadDone;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import io.grpc.stub.StreamObserver;

/**
 * Benchmark 4, file sync: a pseudo-random file (1 GiB by default) uploaded by a simulated node in the
 * driver's JVM over loopback into a real hub's mirror, with 64 KiB, 256 KiB and 1 MiB chunks, as one
 * upload of the whole file and as 8 parallel uploads of an eighth each (8 files on the node's one
 * connection). Baselines in the same run, round by round: (a) the same sender against a grpc-java
 * server that discards the bytes ({@link DiscardBaseline}), same chunks and parallelism; (b) dd with
 * conv=fsync into the hub's data directory, 1 process or 8 at once ({@link DdBaseline}).
 *
 * <p>Each round runs dd (1 and 8), then every configuration's baseline and hub upload back to back
 * (in reverse order on even rounds). Throughput counts from the first UploadStart to the last
 * UploadDone: the hub has then verified the SHA-256, forced the file to disk and moved it into place.
 * Every UploadDone's SHA-256 and size are checked against the source; the mirror files are deleted
 * after each upload. Heap flat: the hub's heap after GC (probe) after an unrecorded warm-up, and after
 * the last round.
 */
final class FileSyncRow {

    static final int NUMBER = 4;
    static final String NAME = "file sync";
    static final String GOAL = ">= 70% of the slower baseline in every configuration; heap flat (after GC within 5% of start)";
    static final int[] CHUNKS = {64 * 1024, 256 * 1024, 1024 * 1024};
    static final int[] PARALLEL = {1, 8};
    static final double MIN_RATIO = 0.70;
    static final double HEAP_TOLERANCE = 0.05;
    /** Per-node quota raised so that the mirror files deleted by hand (still counted until the hourly recount) never fill it. */
    static final long QUOTA = 1L << 40;

    record Config(int chunk, int parallel) {
        String label() {
            return (chunk >= 1024 * 1024 ? chunk / (1024 * 1024) + " MiB" : chunk / 1024 + " KiB") + " chunks x " + parallel
                    + (parallel == 1 ? " upload" : " parallel uploads");
        }
    }

    private final BenchMain main;
    private final BenchOptions options;
    private final Map<Config, List<Double>> hub = new LinkedHashMap<>();
    private final Map<Config, List<Double>> discard = new LinkedHashMap<>();
    /** CPU the hub's threads used in each configuration's uploads (rounds added up), and the bytes they carried. */
    /** Thread groups named in the CPU detail line of a configuration. */
    private static final int CPU_GROUPS = 6;
    private final Map<Config, ThreadCpu> hubCpu = new LinkedHashMap<>();
    private final Map<Config, Long> hubBytes = new LinkedHashMap<>();
    private long hubPid = -1;
    private final Map<Integer, List<Double>> dd = new LinkedHashMap<>();
    private final List<String> verified = new ArrayList<>();
    private final AtomicInteger uploadsChecked = new AtomicInteger();
    private String roundsCut;
    private int roundsRun;

    FileSyncRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
        for (int chunk : CHUNKS) {
            for (int parallel : PARALLEL) {
                hub.put(new Config(chunk, parallel), new ArrayList<>());
                discard.put(new Config(chunk, parallel), new ArrayList<>());
            }
        }
        for (int parallel : PARALLEL) {
            dd.put(parallel, new ArrayList<>());
        }
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        long size = options.syncFileBytes();
        details.add(String.format(Locale.ROOT, "workload: a %d MiB pseudo-random file, uploaded by 1 simulated node (driver JVM) over"
                + " loopback into a real hub's mirror; 1 upload of the whole file, or 8 parallel uploads of %d MiB each (8 files,"
                + " one connection); chunks 64 KiB / 256 KiB / 1 MiB; throughput from the first UploadStart to the last UploadDone"
                + " (hub verified SHA-256, fsynced, moved into place); MB = 10^6 bytes", size >> 20, size / 8 >> 20));
        details.add("baselines, same rounds: (a) gRPC discard: the same sender, chunks and parallelism against a grpc-java server in the"
                + " driver's JVM that drops the bytes; (b) dd if=FILE of=<hub's data dir> bs=1M conv=fsync, 1 process, or 8 at once on"
                + " an eighth each; ratio = hub / the slower of the two");
        HubPhase phase = null;
        Properties heapBefore = null;
        Properties heapAfter = null;
        String error = null;
        Path directory = options.work().resolve("file-sync");
        ExecutorService senders = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "bench-upload-sender");
            t.setDaemon(true);
            return t;
        });
        try (DiscardBaseline baseline = DiscardBaseline.start()) {
            Files.createDirectories(directory);
            main.progress("row 4: writing the %d MiB pseudo-random source file (once) and its SHA-256s", size >> 20);
            SourceFile source = SourceFile.create(directory.resolve("source.bin"), size, 8);
            phase = main.launchHub("file-sync", null, Map.of("MESHHUB_MIRROR_QUOTA_BYTES", Long.toString(QUOTA)));
            main.prepareHub(phase, 1);
            if (!phase.usable()) {
                throw new IllegalStateException("hub did not start: " + phase.startError);
            }
            phase.fleet.connect(1, main.within(Duration.ofSeconds(30)));
            SimulatedNode node = phase.fleet.node(0);
            HubInstance hubInstance = phase.hub;
            hubPid = hubInstance.pid();
            Target hubTarget = new Target("hub", node.stub()::upload, hubInstance.home().resolve("data/mirror").resolve(node.nodeId()));
            Target discardTarget = new Target("discard", baseline.opener(), null);
            try (FileChannel file = FileChannel.open(source.file(), StandardOpenOption.READ)) {
                // Warm-up (unrecorded): one eighth of the file with every chunk size, to the hub and to the
                // baseline; the hub's mirror files of it are hashed again on disk.
                main.progress("row 4: warm-up, %d MiB per chunk size to the hub and to the discard server", size / 8 >> 20);
                for (int chunk : CHUNKS) {
                    String path = "bench/warmup-" + chunk + ".bin";
                    UploadDone done = RegionUpload.send(hubTarget.open, file, 0, size / 8, chunk, path, source.slices().get(0));
                    check(done, path, size / 8, source.slices().get(0));
                    Path mirrored = hubTarget.mirror.resolve(path);
                    String onDisk = SourceFile.hex(sha256Of(mirrored));
                    if (!onDisk.equals(done.getSha256())) {
                        throw new IllegalStateException("the mirror file " + mirrored + " hashes to " + onDisk + ", the hub reported "
                                + done.getSha256());
                    }
                    Files.delete(mirrored);
                    RegionUpload.send(discardTarget.open, file, 0, size / 8, chunk, path, source.slices().get(0));
                }
                verified.add("warm-up: the 3 mirror files re-hashed on disk match the SHA-256 the hub reported and the source's");
                heapBefore = main.heapAfterGc(hubInstance, "r4-heap-before");
                long roundNanos = 0;
                for (int round = 1; round <= options.syncRounds(); round++) {
                    Duration needed = Duration.ofNanos(roundNanos * 13 / 10).plusSeconds(roundNanos == 0 ? 90 : 30);
                    if (main.left().compareTo(needed) < 0) {
                        roundsCut = "only " + roundsRun + " of " + options.syncRounds() + " rounds fit in the time budget of "
                                + options.budget().toSeconds() + " s";
                        break;
                    }
                    long roundStarted = System.nanoTime();
                    main.progress("row 4 round %d of %d: dd x1, dd x8, then per configuration the discard baseline and the hub",
                            round, options.syncRounds());
                    Path ddDirectory = hubInstance.home().resolve("data");
                    for (int parallel : PARALLEL) {
                        dd.get(parallel).add(DdBaseline.run(source.file(), size, ddDirectory, parallel, 300));
                    }
                    List<Config> order = new ArrayList<>(hub.keySet());
                    if (round % 2 == 0) {
                        Collections.reverse(order);
                    }
                    for (Config config : order) {
                        discard.get(config).add(measure(senders, discardTarget, file, source, config, "r" + round));
                        hub.get(config).add(measure(senders, hubTarget, file, source, config, "r" + round));
                    }
                    roundsRun++;
                    roundNanos = System.nanoTime() - roundStarted;
                    main.progress("row 4 round %d: %s", round, roundSummary(round - 1));
                }
                heapAfter = main.heapAfterGc(hubInstance, "r4-heap-after");
            }
        } catch (Exception e) {
            error = BenchMain.describe(e);
        } finally {
            senders.shutdownNow();
            if (phase != null) {
                String pauses = phase.hub == null ? "" : phase.hub.gcPauses();
                main.stop(phase);
                if (!pauses.isEmpty()) {
                    details.add("hub 'file-sync' over its whole life (warm-up included): " + pauses);
                }
            }
            try {
                Files.deleteIfExists(directory.resolve("source.bin"));
            } catch (IOException e) {
                details.add("could not delete " + directory.resolve("source.bin") + ": " + e);
            }
        }
        return row(details, heapBefore, heapAfter, error);
    }

    /** One configuration, once: MB/s over the whole file. */
    private double measure(ExecutorService senders, Target target, FileChannel file, SourceFile source, Config config, String tag)
            throws Exception {
        long size = source.size();
        long each = size / config.parallel();
        List<Future<UploadDone>> uploads = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        ThreadCpu cpuBefore = target.mirror != null && hubPid > 0 ? ThreadCpu.of(hubPid) : null;
        long started = System.nanoTime();
        for (int i = 0; i < config.parallel(); i++) {
            long from = i * each;
            String path = String.format(Locale.ROOT, "bench/%s-c%d-p%d-s%d.bin", tag, config.chunk(), config.parallel(), i);
            byte[] sha = config.parallel() == 1 ? source.sha256() : source.slices().get(i);
            paths.add(path);
            uploads.add(senders.submit(() -> RegionUpload.send(target.open, file, from, each, config.chunk(), path, sha)));
        }
        List<UploadDone> answers = new ArrayList<>();
        for (Future<UploadDone> upload : uploads) {
            answers.add(upload.get(300, TimeUnit.SECONDS));
        }
        long elapsed = System.nanoTime() - started;
        if (cpuBefore != null) {
            hubCpu.merge(config, ThreadCpu.of(hubPid).since(cpuBefore), ThreadCpu::plus);
            hubBytes.merge(config, size, Long::sum);
        }
        if (target.mirror != null) {
            for (int i = 0; i < answers.size(); i++) {
                byte[] sha = config.parallel() == 1 ? source.sha256() : source.slices().get(i);
                check(answers.get(i), paths.get(i), each, sha);
                Path mirrored = target.mirror.resolve(paths.get(i));
                if (Files.size(mirrored) != each) {
                    throw new IllegalStateException("the mirror file " + mirrored + " has " + Files.size(mirrored) + " bytes, not " + each);
                }
                Files.delete(mirrored);
            }
        } else {
            for (UploadDone done : answers) {
                if (done.getSize() != each) {
                    throw new IllegalStateException("the discard server counted " + done.getSize() + " bytes, not " + each);
                }
            }
        }
        return size / (elapsed / 1e9) / 1e6;
    }

    private void check(UploadDone done, String path, long size, byte[] sha256) {
        String expected = SourceFile.hex(sha256);
        if (!done.getPath().equals(path) || done.getSize() != size || !done.getSha256().equals(expected)) {
            throw new IllegalStateException("the hub reported " + done.getPath() + ", " + done.getSize() + " bytes, SHA-256 "
                    + done.getSha256() + " for " + path + " (" + size + " bytes, SHA-256 " + expected + ")");
        }
        uploadsChecked.incrementAndGet();
    }

    private static byte[] sha256Of(Path file) throws IOException {
        MessageDigest digest = SourceFile.newDigest();
        ByteBuffer buffer = ByteBuffer.allocate(1024 * 1024);
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            while (in.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        }
        return digest.digest();
    }

    private String roundSummary(int index) {
        List<String> parts = new ArrayList<>();
        parts.add(String.format(Locale.ROOT, "dd x1 %.0f, dd x8 %.0f", dd.get(1).get(index), dd.get(8).get(index)));
        for (Config config : hub.keySet()) {
            parts.add(String.format(Locale.ROOT, "%s/%d hub %.0f discard %.0f", size(config.chunk()), config.parallel(),
                    hub.get(config).get(index), discard.get(config).get(index)));
        }
        return String.join("; ", parts) + " MB/s";
    }

    private static String size(int chunk) {
        return chunk >= 1024 * 1024 ? chunk / (1024 * 1024) + "M" : chunk / 1024 + "K";
    }

    private Report.Row row(List<String> details, Properties heapBefore, Properties heapAfter, String error) {
        if (error != null || roundsRun == 0) {
            String why = error != null ? error : roundsCut != null ? roundsCut : "no round ran";
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, why, details);
        }
        if (roundsCut != null) {
            details.add(roundsCut);
        }
        Config worst = null;
        double worstRatio = Double.MAX_VALUE;
        double worstBaseline = 0;
        String worstBaselineName = "";
        boolean allPass = true;
        for (Config config : hub.keySet()) {
            Spread measured = Spread.of(hub.get(config));
            Spread grpc = Spread.of(discard.get(config));
            Spread disk = Spread.of(dd.get(config.parallel()));
            boolean ddSlower = disk.median() <= grpc.median();
            double baseline = Math.min(disk.median(), grpc.median());
            double ratio = measured.median() / baseline;
            allPass &= ratio >= MIN_RATIO;
            List<Double> perRound = new ArrayList<>();
            for (int r = 0; r < measured.rounds(); r++) {
                perRound.add(hub.get(config).get(r) / Math.min(dd.get(config.parallel()).get(r), discard.get(config).get(r)));
            }
            Spread roundRatios = Spread.of(perRound);
            details.add(String.format(Locale.ROOT, "%s: hub %s; gRPC discard %s; dd x%d %s; ratio %s of the slower (%s), per round %s -> %s",
                    config.label(), Report.spread(measured, FileSyncRow::mbps), Report.spread(grpc, FileSyncRow::mbps), config.parallel(),
                    Report.spread(disk, FileSyncRow::mbps), Report.ratio(ratio), ddSlower ? "dd" : "gRPC discard",
                    Report.spread(roundRatios, Report::ratio), ratio >= MIN_RATIO ? "ok" : "below 70%"));
            if (hubCpu.containsKey(config)) {
                details.add("  " + config.label() + ": hub CPU by thread group (/proc, every round), "
                        + hubCpu.get(config).perMib(hubBytes.get(config), CPU_GROUPS));
            }
            if (ratio < worstRatio) {
                worstRatio = ratio;
                worst = config;
                worstBaseline = baseline;
                worstBaselineName = ddSlower ? "dd x" + config.parallel() : "gRPC discard";
            }
        }
        details.add(String.format(Locale.ROOT, "integrity: %d uploads, each UploadDone's size and SHA-256 equal to the source's;"
                + " mirror files deleted after each upload", uploadsChecked.get()));
        details.addAll(verified);
        boolean heapFlat = false;
        String heapText;
        if (heapBefore == null || heapAfter == null) {
            heapText = "heap not measured";
        } else {
            double before = Double.parseDouble(heapBefore.getProperty("heap.usedAfterGcBytes"));
            double after = Double.parseDouble(heapAfter.getProperty("heap.usedAfterGcBytes"));
            heapFlat = after <= before * (1 + HEAP_TOLERANCE);
            heapText = String.format(Locale.ROOT, "heap after GC %s -> %s (%+.1f%%)", mib(before), mib(after), (after / before - 1) * 100);
            details.add(String.format(Locale.ROOT, "heap flat: hub heap used right after a full GC (probe, median of 5 readings"
                    + " each) after the warm-up %s (readings %s to %s), after the last round %s (readings %s to %s); committed %s,"
                    + " max %s; %s", mib(before), mib(heapBefore, "heap.minUsedAfterGcBytes"), mib(heapBefore, "heap.maxUsedAfterGcBytes"),
                    mib(after), mib(heapAfter, "heap.minUsedAfterGcBytes"), mib(heapAfter, "heap.maxUsedAfterGcBytes"),
                    mib(heapAfter, "heap.committedBytes"), mib(heapAfter, "heap.maxBytes"),
                    heapFlat ? "within 5%" : "grew more than 5%"));
        }
        double lowest = hub.values().stream().mapToDouble(v -> Spread.of(v).median()).min().orElse(0);
        double highest = hub.values().stream().mapToDouble(v -> Spread.of(v).median()).max().orElse(0);
        String measured = String.format(Locale.ROOT, "%s at %s (its lowest ratio); all configurations %.0f to %.0f MB/s; medians of %d"
                + " round(s); %s", mbps(Spread.of(hub.get(worst)).median()), worst.label(), lowest, highest, roundsRun, heapText);
        String baseline = String.format(Locale.ROOT, "%s (%s, the slower baseline there)", mbps(worstBaseline), worstBaselineName);
        String ratio = String.format(Locale.ROOT, "%s (%.0f%%), lowest of %d configurations", Report.ratio(worstRatio), worstRatio * 100,
                hub.size());
        return new Report.Row(NUMBER, NAME, measured, baseline, ratio, GOAL, allPass && heapFlat ? Report.PASS : Report.MISS, details);
    }

    static String mbps(double value) {
        return String.format(Locale.ROOT, "%.0f MB/s", value);
    }

    static String mib(double bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024 * 1024));
    }

    private static String mib(Properties p, String key) {
        return mib(Double.parseDouble(p.getProperty(key)));
    }

    /** Where uploads go: the hub (with the node's mirror directory) or the discard server (mirror null). */
    private record Target(String name, Function<StreamObserver<UploadResponse>, StreamObserver<UploadRequest>> open, Path mirror) {
    }
}
