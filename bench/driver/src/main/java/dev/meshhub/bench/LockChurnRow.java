package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.meshhub.proto.v1.MeshStatusInfo;

/**
 * Benchmark 6, lock churn, as two lines on one hub of its own.
 *
 * <p><b>gRPC</b>: a simulated node abandons uploads over loopback ({@link UploadChurn}: UploadStart,
 * UploadReady — the hub holds the file's IO lock —, one chunk, stream cancelled) for as long as
 * {@code --churn-seconds} allows, after an unrecorded warm-up. Then: how long until the monitor's
 * snapshot (GetMeshStatus) shows 0 live locks, and the hub's heap after GC against the start.
 *
 * <p><b>In-process</b>: the full 1,000,000 syncs against the hub's LockRegistry from the probe bundle
 * (take the lock, give it up by close() or releaseAll(owner)), plus one leaked lock per 1,000 with a
 * 2 s TTL that only the expiry sweep can remove; then again live locks and heap.
 *
 * <p>The hub runs with a short upload lock TTL (10 s), a lock sweep every second and a monitor
 * snapshot every 250 ms, so "back to 0 after TTL" is seen within seconds; the uploads' own release
 * (on cancel) does not depend on either.
 */
final class LockChurnRow {

    static final int NUMBER = 6;
    static final String NAME_GRPC = "lock churn (gRPC: uploads abandoned mid-way)";
    static final String NAME_IN_PROCESS = "lock churn (in-process: LockRegistry from the probe, no gRPC)";
    static final String GOAL = "live locks back to 0 after TTL; heap after GC within 5% of start";
    static final int SPEC_COUNT = 1_000_000;
    static final double HEAP_TOLERANCE = 0.05;
    static final int UPLOAD_LOCK_TTL_SECONDS = 10;
    static final int SWEEP_PERIOD_SECONDS = 1;
    static final int MONITOR_PERIOD_MS = 500;
    /** The hub allows 16 calls per connection (maxConcurrentCallsPerConnection); one is the node's TaskStream. */
    static final int IN_FLIGHT = 12;
    /**
     * The shipped rapid-reset guard (maxRstFramesPerWindow 200 per 10 s per connection) closes the node's
     * connection after 200 cancelled streams in 10 s: this row is a flood of cancels by design, so it is raised.
     */
    static final int RST_FRAMES_PER_WINDOW = 100_000_000;
    static final int PATHS = 8192;
    static final int CHUNK = 1024;
    static final Duration WARMUP = Duration.ofSeconds(5);
    static final int LEAK_EVERY = 1000;
    static final int LEAK_TTL_MS = 2000;
    static final int WINDOW_SECONDS = 10;

    private final BenchMain main;
    private final BenchOptions options;

    LockChurnRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    /** What the monitor said after a run: when live locks reached 0 (ms after the run's end), and the counters then. */
    private record Drained(long afterMs, MeshStatusInfo status) {
    }

    List<Report.Row> run() {
        List<String> grpcDetails = new ArrayList<>();
        List<String> inDetails = new ArrayList<>();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("MESHHUB_TRANSPORT_UPLOAD_LOCK_TTL_SECONDS", Integer.toString(UPLOAD_LOCK_TTL_SECONDS));
        env.put("MESHHUB_LOCKS_MESHHUB__MANAGEMENT__PERIOD", Integer.toString(SWEEP_PERIOD_SECONDS));
        env.put("MESHHUB_MONITOR_MESHHUB__MANAGEMENT__PERIOD", Integer.toString(MONITOR_PERIOD_MS));
        env.put("MESHHUB_MONITOR_MESHHUB__MANAGEMENT__UNIT", "MILLISECONDS");
        env.put("MESHHUB_TRANSPORT_MAX_RST_FRAMES_PER_WINDOW", Integer.toString(RST_FRAMES_PER_WINDOW));
        String settings = String.format(Locale.ROOT, "hub settings for this row: upload lock TTL %d s, lock sweep every %d s, monitor"
                + " snapshot every %d ms, HTTP/2 rapid-reset guard raised from 200 to %,d RST_STREAM per 10 s per connection (as"
                + " shipped, the hub answers the 201st cancel within 10 s with GOAWAY ENHANCE_YOUR_CALM too_many_rststreams and the"
                + " node's connection, its TaskStream too, is closed: one connection can abandon at most 20 uploads/s); env %s",
                UPLOAD_LOCK_TTL_SECONDS, SWEEP_PERIOD_SECONDS, MONITOR_PERIOD_MS, RST_FRAMES_PER_WINDOW, String.join(", ", env.keySet()));
        grpcDetails.add(settings);
        HubPhase phase = main.launchHub("lock-churn", null, env);
        String grpcError = null;
        String inError = null;
        UploadChurn.Result result = null;
        Properties heapStart = null;
        Properties heapEnd = null;
        Drained drained = null;
        long peakLive = -1;
        Properties churn = null;
        Properties heapInEnd = null;
        Drained inDrained = null;
        try {
            main.prepareHub(phase, 1);
            if (!phase.usable()) {
                throw new IllegalStateException("hub did not start: " + phase.startError);
            }
            phase.fleet.connect(1, main.within(Duration.ofSeconds(30)));
            HubAdmin admin = phase.hub.admin();
            SimulatedNode node = phase.fleet.node(0);
            UploadChurn churner = new UploadChurn(node.stub(), IN_FLIGHT, PATHS, CHUNK);
            main.progress("row 6: warm-up, abandoning uploads for %d s (unrecorded)", WARMUP.toSeconds());
            UploadChurn.Result warm = churner.run(WARMUP);
            grpcDetails.add(String.format(Locale.ROOT, "warm-up (unrecorded, before the start state): %,d uploads abandoned in %d s",
                    warm.abandoned(), WARMUP.toSeconds()));
            awaitDrained(admin, System.currentTimeMillis(), Duration.ofSeconds(UPLOAD_LOCK_TTL_SECONDS + 10), -1);
            MeshStatusInfo start = admin.meshStatus();
            heapStart = main.heapAfterGc(phase.hub, "r6-heap-start");
            Duration churnFor = Duration.ofSeconds(options.churnSeconds());
            Duration left = main.left().minusSeconds(75);
            if (left.compareTo(churnFor) < 0) {
                churnFor = left.compareTo(Duration.ofSeconds(10)) < 0 ? Duration.ofSeconds(10) : left;
                grpcDetails.add("churn shortened to " + churnFor.toSeconds() + " s to fit the time budget");
            }
            main.progress("row 6: abandoning uploads over gRPC for %d s (%d in flight, %d files in rotation, %d B chunk)",
                    churnFor.toSeconds(), IN_FLIGHT, PATHS, CHUNK);
            AtomicBoolean sampling = new AtomicBoolean(true);
            AtomicLong peak = new AtomicLong(-1);
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    try {
                        MeshStatusInfo status = admin.meshStatus();
                        peak.accumulateAndGet(status.getLiveLocks(), Math::max);
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // A missed sample only.
                    }
                }
            }, "bench-live-lock-sampler");
            sampler.setDaemon(true);
            sampler.start();
            result = churner.run(churnFor);
            long ended = System.currentTimeMillis();
            sampling.set(false);
            sampler.interrupt();
            peakLive = peak.get();
            main.progress("row 6: %,d uploads abandoned (%.0f/s); waiting for 0 live locks", result.abandoned(), result.rate());
            drained = awaitDrained(admin, ended, Duration.ofSeconds(UPLOAD_LOCK_TTL_SECONDS + 3L * SWEEP_PERIOD_SECONDS + 10), -1);
            heapEnd = main.heapAfterGc(phase.hub, "r6-heap-end");
            grpcDetails.add(String.format(Locale.ROOT, "start state (after warm-up): %d live locks, %d expired so far", start.getLiveLocks(),
                    start.getExpiredLocks()));

            try {
                main.progress("row 6 in-process: %,d syncs against the LockRegistry from the probe (1 in %d leaked, TTL %d ms)",
                        options.churnCount(), LEAK_EVERY, LEAK_TTL_MS);
                Map<String, String> config = new LinkedHashMap<>();
                config.put("run", "r6-lock-churn");
                config.put("mode", "lockchurn");
                config.put("churnCount", Integer.toString(options.churnCount()));
                config.put("churnKeys", "4096");
                config.put("churnTtlMs", "300000");
                config.put("churnLeakEvery", Integer.toString(LEAK_EVERY));
                config.put("churnLeakTtlMs", Integer.toString(LEAK_TTL_MS));
                config.put("output", "data/bench/r6-lock-churn.properties");
                churn = main.probe(phase.hub, config, main.within(Duration.ofSeconds(120)));
                long inEnded = System.currentTimeMillis();
                long expiredTarget = Long.parseLong(churn.getProperty("before.expired")) + Long.parseLong(churn.getProperty("churn.leaked"));
                inDrained = awaitDrained(admin, inEnded, Duration.ofMillis(LEAK_TTL_MS + 3000L * SWEEP_PERIOD_SECONDS + 10_000),
                        expiredTarget);
                heapInEnd = main.heapAfterGc(phase.hub, "r6-heap-in-process-end");
            } catch (Exception e) {
                inError = BenchMain.describe(e);
            }
        } catch (Exception e) {
            grpcError = BenchMain.describe(e);
            inError = inError != null ? inError : "not run: the gRPC part failed first";
        } finally {
            String pauses = phase.hub == null ? "" : phase.hub.gcPauses();
            long logLines = -1;
            try {
                logLines = phase.hub == null ? -1 : phase.hub.countLogLines(" upload u-");
            } catch (java.io.IOException e) {
                // Reported as unknown.
            }
            main.stop(phase);
            if (!pauses.isEmpty()) {
                grpcDetails.add("hub 'lock-churn' over its whole life (both parts): " + pauses + (logLines < 0 ? ""
                        : String.format(Locale.ROOT, "; %,d INFO lines about uploads in its log", logLines)));
            }
        }
        List<Report.Row> rows = new ArrayList<>();
        rows.add(grpcRow(grpcDetails, grpcError, result, heapStart, heapEnd, drained, peakLive));
        rows.add(inProcessRow(inDetails, inError, churn, heapEnd, heapInEnd, inDrained));
        return rows;
    }

    private Report.Row grpcRow(List<String> details, String error, UploadChurn.Result result, Properties heapStart, Properties heapEnd,
                               Drained drained, long peakLive) {
        details.add(0, String.format(Locale.ROOT, "workload: 1 simulated node over loopback; each upload: UploadStart (size -1) for one of"
                + " %d files in rotation, UploadReady (the hub holds the file's lock), one %d B chunk at the hub's offset, stream"
                + " cancelled; %d in flight; the spec's %,d would take too long this way, so as many as fit in %d s", PATHS, CHUNK,
                IN_FLIGHT, SPEC_COUNT, options.churnSeconds()));
        if (error != null || result == null) {
            return Report.Row.notMeasurable(NUMBER, NAME_GRPC, GOAL, error != null ? error : "no result", details);
        }
        Spread windows = Spread.of(UploadChurn.windowRates(result.perSecond(), WINDOW_SECONDS).isEmpty()
                ? List.of(result.rate()) : UploadChurn.windowRates(result.perSecond(), WINDOW_SECONDS));
        details.add(String.format(Locale.ROOT, "rate per %d s window: %s", WINDOW_SECONDS, Report.spread(windows,
                v -> String.format(Locale.ROOT, "%,.0f/s", v))));
        details.add(String.format(Locale.ROOT, "UploadStart to UploadReady (HdrHistogram): p50 %s, p99 %s, p999 %s, max %s",
                Report.millis(result.ready().getValueAtPercentile(50)), Report.millis(result.ready().getValueAtPercentile(99)),
                Report.millis(result.ready().getValueAtPercentile(99.9)), Report.millis(result.ready().getMaxValue())));
        details.add(String.format(Locale.ROOT, "refused before UploadReady (no lock taken): %,d %s; live locks during the run"
                + " (sampled each second from GetMeshStatus): at most %d", result.refusedTotal(), result.refused(), peakLive));
        boolean drainedOk = drained != null && drained.status().getLiveLocks() == 0;
        if (drained != null) {
            details.add(String.format(Locale.ROOT, "after the run: first monitor snapshot with 0 live locks %d ms after the last"
                    + " upload was abandoned (snapshots every %d ms); expired_locks %d (locks the sweep had to remove: holders that"
                    + " never released)", drained.afterMs(), MONITOR_PERIOD_MS, drained.status().getExpiredLocks()));
        }
        HeapChange heap = HeapChange.of(heapStart, heapEnd);
        if (heap != null) {
            details.add("heap: " + heap.describe());
        }
        String measured = String.format(Locale.ROOT, "%,d uploads abandoned in %d s (%,.0f/s; %.1f%% of the %,d asked); live locks %s;"
                + " heap after GC %s", result.abandoned(), result.elapsed().toSeconds(), result.rate(), 100.0 * result.abandoned() / SPEC_COUNT,
                SPEC_COUNT, drainedOk ? "0 after " + drained.afterMs() + " ms" : "NOT back to 0 after " + waitText(drained),
                heap == null ? "not measured" : heap.shortText());
        String baseline = "state at start: 0 live locks, heap after GC " + (heap == null ? "-" : FileSyncRow.mib(heap.before()));
        String ratio = heap == null ? "-" : "heap " + Report.ratio(heap.ratio());
        boolean pass = drainedOk && heap != null && heap.flat() && drained.afterMs() <= UPLOAD_LOCK_TTL_SECONDS * 1000L;
        String verdict = (pass ? Report.PASS : Report.MISS) + String.format(Locale.ROOT, " (on %,d of the %,d syncs asked)",
                result.abandoned(), SPEC_COUNT);
        return new Report.Row(NUMBER, NAME_GRPC, measured, baseline, ratio, GOAL, verdict, details);
    }

    private Report.Row inProcessRow(List<String> details, String error, Properties churn, Properties heapStart, Properties heapEnd,
                                    Drained drained) {
        details.add(String.format(Locale.ROOT, "workload: inside the hub's JVM (probe bundle), one thread: tryAcquire(key of 4,096 in"
                + " rotation, owner of its own, TTL 300 s), then released as an ending upload does: every other one close(), the rest"
                + " releaseAll(owner); every %,dth sync also takes a lock it never releases (TTL %d ms), left to the expiry sweep"
                + " (every %d s); start state = the end of the gRPC part", LEAK_EVERY, LEAK_TTL_MS, SWEEP_PERIOD_SECONDS));
        if (error != null || churn == null) {
            return Report.Row.notMeasurable(NUMBER, NAME_IN_PROCESS, GOAL, error != null ? error : "no result", details);
        }
        long count = Long.parseLong(churn.getProperty("churn.count"));
        double seconds = Double.parseDouble(churn.getProperty("churn.elapsedNs")) / 1e9;
        long leaked = Long.parseLong(churn.getProperty("churn.leaked"));
        details.add(String.format(Locale.ROOT, "%,d syncs in %.2f s (%,.0f/s); released by their holder %s, refused %s, leaked %,d;"
                + " take + give up p50 %s, p99 %s, max %s", count, seconds, count / seconds, churn.getProperty("churn.released"),
                churn.getProperty("churn.refused"), leaked, Report.millis(Double.parseDouble(churn.getProperty("latency.p50Ns"))),
                Report.millis(Double.parseDouble(churn.getProperty("latency.p99Ns"))),
                Report.millis(Double.parseDouble(churn.getProperty("latency.maxNs")))));
        details.add(String.format(Locale.ROOT, "registry counters before -> after the run: live %s -> %s, acquired %s -> %s, released %s"
                + " -> %s, expired %s -> %s", churn.getProperty("before.live"), churn.getProperty("after.live"),
                churn.getProperty("before.acquired"), churn.getProperty("after.acquired"), churn.getProperty("before.released"),
                churn.getProperty("after.released"), churn.getProperty("before.expired"), churn.getProperty("after.expired")));
        long expiredBefore = Long.parseLong(churn.getProperty("before.expired"));
        boolean drainedOk = drained != null && drained.status().getLiveLocks() == 0
                && drained.status().getExpiredLocks() - expiredBefore >= leaked;
        if (drained != null) {
            details.add(String.format(Locale.ROOT, "after the run: first monitor snapshot with 0 live locks and every leaked lock removed"
                    + " by the sweep %d ms after its end (snapshots every %d ms); expired_locks %d (%,d removed by the sweep during this"
                    + " part; %,d leaked on purpose)", drained.afterMs(), MONITOR_PERIOD_MS, drained.status().getExpiredLocks(),
                    drained.status().getExpiredLocks() - expiredBefore, leaked));
        }
        HeapChange heap = HeapChange.of(heapStart, heapEnd);
        if (heap != null) {
            details.add("heap: " + heap.describe());
        }
        String measured = String.format(Locale.ROOT, "%,d syncs in %.2f s (%,.0f/s), %,d of them leaked to the sweep; live locks %s;"
                + " heap after GC %s", count, seconds, count / seconds, leaked,
                drainedOk ? "0 and all leaked swept after " + drained.afterMs() + " ms (TTL " + LEAK_TTL_MS + " ms)"
                        : "NOT back to 0 / not all swept after " + waitText(drained),
                heap == null ? "not measured" : heap.shortText());
        String baseline = "state at start: 0 live locks, heap after GC " + (heap == null ? "-" : FileSyncRow.mib(heap.before()));
        String ratio = heap == null ? "-" : "heap " + Report.ratio(heap.ratio());
        // Leaked locks live for their TTL; the sweep then needs up to one period, the monitor up to one more snapshot.
        long allowedMs = LEAK_TTL_MS + 3000L * SWEEP_PERIOD_SECONDS + 2L * MONITOR_PERIOD_MS;
        boolean pass = drainedOk && heap != null && heap.flat() && drained.afterMs() <= allowedMs && count >= SPEC_COUNT;
        if (count < SPEC_COUNT) {
            details.add(String.format(Locale.ROOT, "only %,d of the %,d syncs asked (--churn-count): MISS whatever the figures", count,
                    SPEC_COUNT));
        }
        return new Report.Row(NUMBER, NAME_IN_PROCESS, measured, baseline, ratio, GOAL, pass ? Report.PASS : Report.MISS, details);
    }

    private static String waitText(Drained drained) {
        return drained == null ? "waiting" : drained.afterMs() + " ms (" + drained.status().getLiveLocks() + " live)";
    }

    /**
     * Polls GetMeshStatus until a snapshot taken after {@code sinceMs} shows 0 live locks (and, if
     * {@code expiredAtLeast >= 0}, at least that many expired: the sweep removed the leaked ones), or
     * the timeout. Returns the last snapshot seen and how long after {@code sinceMs} it was taken.
     */
    private Drained awaitDrained(HubAdmin admin, long sinceMs, Duration timeout, long expiredAtLeast) throws InterruptedException {
        long deadline = System.nanoTime() + main.within(timeout).toNanos();
        MeshStatusInfo last = null;
        while (true) {
            try {
                MeshStatusInfo status = admin.meshStatus();
                if (status.getTakenAtMs() >= sinceMs && status.getLocksKnown()) {
                    last = status;
                    if (status.getLiveLocks() == 0 && status.getExpiredLocks() >= expiredAtLeast) {
                        return new Drained(status.getTakenAtMs() - sinceMs, status);
                    }
                }
            } catch (RuntimeException e) {
                // UNAVAILABLE before the first snapshot; try again.
            }
            if (System.nanoTime() > deadline) {
                if (last == null) {
                    throw new IllegalStateException("GetMeshStatus gave no snapshot with lock counts within " + timeout.toSeconds() + " s");
                }
                return new Drained(last.getTakenAtMs() - sinceMs, last);
            }
            Thread.sleep(50);
        }
    }

    /** Heap after GC at two moments (probe readings). */
    private record HeapChange(double before, double after, Properties start, Properties end) {
        static HeapChange of(Properties start, Properties end) {
            if (start == null || end == null) {
                return null;
            }
            return new HeapChange(Double.parseDouble(start.getProperty("heap.usedAfterGcBytes")),
                    Double.parseDouble(end.getProperty("heap.usedAfterGcBytes")), start, end);
        }

        double ratio() {
            return after / before;
        }

        boolean flat() {
            return after <= before * (1 + HEAP_TOLERANCE);
        }

        String shortText() {
            return String.format(Locale.ROOT, "%s -> %s (%+.1f%%)", FileSyncRow.mib(before), FileSyncRow.mib(after), (ratio() - 1) * 100);
        }

        String describe() {
            return String.format(Locale.ROOT, "hub heap used right after a full GC (probe, median of 5 readings): start %s (readings"
                    + " %s to %s), end %s (readings %s to %s); %s", FileSyncRow.mib(before), mib(start, "heap.minUsedAfterGcBytes"),
                    mib(start, "heap.maxUsedAfterGcBytes"), FileSyncRow.mib(after), mib(end, "heap.minUsedAfterGcBytes"),
                    mib(end, "heap.maxUsedAfterGcBytes"), flat() ? "within 5%" : "grew more than 5%");
        }

        private static String mib(Properties p, String key) {
            return FileSyncRow.mib(Double.parseDouble(p.getProperty(key)));
        }
    }
}
