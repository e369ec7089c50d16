package dev.meshhub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;

import org.HdrHistogram.Histogram;

/**
 * Rows 1 and 2 of BENCHMARKS.md: a hub as shipped (group commit) for row 1 (one node, rounds
 * alternating with the echo and Derby baselines) and row 2 (64 nodes); beside it a hub with
 * {@code maxBatch = 1} for row 2's baseline.
 */
final class DispatchRows {

    private static final String ROW1 = "dispatch round trip";
    private static final String ROW2 = "durable dispatch throughput";
    private static final String ROW1_GOAL = "p50 <= baseline + 2 syncs (journal on)";
    private static final String ROW2_GOAL = ">= 10x baseline and >= 10,000 tasks/s";
    /** Before its first sweep, each hub runs this many unrecorded tasks (one in flight per node), for at most SWEEP_WARMUP. */
    private static final int SWEEP_WARMUP_TASKS = 3000;
    private static final Duration SWEEP_WARMUP = Duration.ofSeconds(5);
    /** A sweep is not started with less than this left of the time budget. */
    private static final Duration SWEEP_NEEDS = Duration.ofSeconds(45);

    private final BenchMain main;
    private final BenchOptions options;

    DispatchRows(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    /** Rows 1 and 2 (those asked for). */
    List<Report.Row> run() {
        boolean row1Wanted = options.rows().contains(1);
        boolean row2Wanted = options.rows().contains(2);
        // Both hubs run side by side (the one not measured is idle), so that the rounds of a
        // benchmark and of its baseline can alternate and see the same machine: it is shared and noisy.
        HubPhase grouped = launchHub("group-commit", null);
        HubPhase single = row2Wanted ? launchHub("one-commit-per-write", 1) : null;
        prepareHub(grouped);
        if (single != null) {
            prepareHub(single);
        }
        List<Histogram> echo = new ArrayList<>();
        List<Histogram> commits = new ArrayList<>();
        String baselineError = null;
        try {
            if (row1Wanted) {
                baselineError = row1Rounds(grouped, echo, commits);
            }
            if (row2Wanted) {
                row2Sweeps(grouped, single);
            }
        } finally {
            for (HubPhase phase : single == null ? List.of(grouped) : List.of(grouped, single)) {
                main.stop(phase);
            }
        }

        List<Report.Row> rows = new ArrayList<>();
        if (row1Wanted) {
            rows.add(row1(grouped, echo, commits, baselineError));
        }
        if (row2Wanted) {
            rows.add(row2(grouped, single));
        }
        return rows;
    }

    /** Copies and starts a fresh hub (journal as shipped, or with the given maxBatch); does not wait for it. */
    private HubPhase launchHub(String label, Integer maxBatch) {
        return main.launchHub(label, maxBatch, Map.of("MESHHUB_TRANSPORT_MAX_PENDING_TASKS_PER_NODE", BenchMain.MAX_PENDING));
    }

    /** Waits for a launched hub, notes what its log says is in force, enrolls the simulated nodes, deploys the probe. */
    private void prepareHub(HubPhase phase) {
        main.prepareHub(phase, options.nodes());
    }

    /**
     * Row 1 and its baselines, round by round: an echo round, a Derby commit round, then a round of
     * the hub, so that each benchmark round and its baselines see about the same machine.
     *
     * @return why the baselines could not be measured, or null
     */
    private String row1Rounds(HubPhase phase, List<Histogram> echo, List<Histogram> commits) {
        if (!phase.usable()) {
            return null;
        }
        try {
            phase.fleet.connect(1, main.within(Duration.ofSeconds(30)));
        } catch (Exception e) {
            phase.roundTripError = BenchMain.describe(e);
            return null;
        }
        Path derby;
        try {
            derby = Files.createDirectories(options.work().resolve("derby-commit"));
        } catch (IOException e) {
            return BenchMain.describe(e);
        }
        try (EchoBaseline echoStream = EchoBaseline.start(BenchMain.PAYLOAD_BYTES); DerbyCommitBaseline commit = DerbyCommitBaseline.in(derby)) {
            for (int round = 1; round <= options.rounds(); round++) {
                main.progress("row 1 round %d of %d: echo %d messages, Derby %d commits, hub %d tasks one at a time to 1 node", round,
                        options.rounds(), options.echoCount(), options.commitCount(), options.roundTripCount());
                echo.add(echoStream.round(options.echoWarmup(), options.echoCount()));
                commits.add(commit.round(round, options.commitWarmup(), options.commitCount()));
                try {
                    phase.roundTrips.add(main.probe(phase.hub, main.roundTripConfiguration("r1-" + round), Duration.ofSeconds(120)));
                } catch (Exception e) {
                    phase.roundTripError = BenchMain.describe(e);
                    return null;
                }
            }
            return null;
        } catch (Exception e) {
            return BenchMain.describe(e);
        }
    }

    /**
     * Row 2: sweeps of the group-commit hub and of the maxBatch = 1 hub alternate (G S, S G, G S, ...)
     * so that neither always runs first.
     */
    private void row2Sweeps(HubPhase grouped, HubPhase single) {
        List<String> names = IntStream.rangeClosed(1, options.nodes()).mapToObj(i -> String.format("bench-n%02d", i)).toList();
        for (HubPhase phase : List.of(grouped, single)) {
            if (phase.usable()) {
                try {
                    phase.fleet.connect(options.nodes(), main.within(Duration.ofSeconds(30)));
                } catch (Exception e) {
                    phase.sweepError = BenchMain.describe(e);
                }
            }
        }
        for (int sweep = 1; sweep <= options.sweeps(); sweep++) {
            for (HubPhase phase : sweep % 2 == 1 ? List.of(grouped, single) : List.of(single, grouped)) {
                if (!phase.usable() || phase.sweepError != null || phase.sweepsCut != null) {
                    continue;
                }
                if (main.left().compareTo(SWEEP_NEEDS) < 0) {
                    phase.sweepsCut = "only " + phase.sweeps.size() + " of " + options.sweeps() + " sweeps fit in the time budget of "
                            + options.budget().toSeconds() + " s";
                    continue;
                }
                main.progress("row 2 sweep %d of %d on hub '%s': %d nodes, rates %s tasks/s until p99 > %s ms", sweep, options.sweeps(),
                        phase.label, options.nodes(), options.rates(), BenchMain.fmt(options.p99LimitMs()));
                try {
                    phase.sweeps.add(main.probe(phase.hub, sweepConfiguration("r2-" + phase.label + "-" + sweep, names, sweep == 1),
                            Duration.ofSeconds(240)));
                } catch (Exception e) {
                    if (phase.sweeps.isEmpty()) {
                        phase.sweepError = BenchMain.describe(e);
                    } else {
                        phase.sweepsCut = "sweep " + sweep + " did not complete (" + BenchMain.describe(e) + "); the figures are from "
                                + phase.sweeps.size() + " sweep(s)";
                    }
                }
            }
        }
    }

    private Map<String, String> sweepConfiguration(String run, List<String> nodes, boolean warmUp) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("run", run);
        config.put("mode", "sweep");
        config.put("nodes", String.join(",", nodes));
        config.put("rates", options.rates());
        config.put("stepMs", Integer.toString(options.stepMs()));
        config.put("stepWarmupMs", Integer.toString(options.stepWarmupMs()));
        config.put("minRecorded", Integer.toString(options.minRecorded()));
        config.put("sweepWarmupTasks", Integer.toString(warmUp ? SWEEP_WARMUP_TASKS : 0));
        config.put("sweepWarmupMs", Long.toString(SWEEP_WARMUP.toMillis()));
        config.put("p99LimitMs", Double.toString(options.p99LimitMs()));
        config.put("payloadBytes", Integer.toString(BenchMain.PAYLOAD_BYTES));
        config.put("output", "data/bench/" + run + ".properties");
        return config;
    }

    // ---- row 1 ----

    private Report.Row row1(HubPhase hub, List<Histogram> echo, List<Histogram> commits, String baselineError) {
        String why = hub.startError != null ? "hub did not start: " + hub.startError
                : hub.roundTripError != null ? hub.roundTripError
                : baselineError != null ? "baseline failed: " + baselineError
                : hub.roundTrips.size() < options.rounds() ? "only " + hub.roundTrips.size() + " of " + options.rounds() + " rounds ran"
                : null;
        List<String> details = new ArrayList<>();
        details.add("variant measured: journal ON (meshhub journals every task durably before sending it; there is no"
                + " journal-off mode, so the journal-off goal is shown for reference only)");
        details.add("workload: 1 simulated node, one task at a time, 'echo' + 64 B argument, TaskDispatcher.dispatch() to"
                + " result() inside the hub's JVM (probe bundle); the node answers TaskStarted + TaskFinished at once, runs nothing;"
                + " each round runs echo, Derby and hub back to back");
        if (why != null) {
            return Report.Row.notMeasurable(1, ROW1, ROW1_GOAL, why, details);
        }
        Spread hubP50 = Spread.of(hub.roundTrips.stream().map(p -> nanos(p, "latency.p50Ns")).toList());
        Spread hubP99 = Spread.of(hub.roundTrips.stream().map(p -> nanos(p, "latency.p99Ns")).toList());
        Spread hubP999 = Spread.of(hub.roundTrips.stream().map(p -> nanos(p, "latency.p999Ns")).toList());
        Spread echoP50 = percentile(echo, 50);
        Spread echoP99 = percentile(echo, 99);
        Spread echoP999 = percentile(echo, 99.9);
        Spread sync = percentile(commits, 50);
        Spread syncP99 = percentile(commits, 99);
        double allowance = echoP50.median() + 2 * sync.median();
        double ratio = hubP50.median() / allowance;
        details.add(String.format(Locale.ROOT, "hub  p50 / p99 / p999: %s / %s / %s (medians of %d rounds x %d tasks after %d warm-up)",
                Report.millis(hubP50.median()), Report.millis(hubP99.median()), Report.millis(hubP999.median()),
                hubP50.rounds(), options.roundTripCount(), options.roundTripWarmup()));
        details.add("     p50 " + Report.spread(hubP50, Report::millis) + "; p99 " + Report.spread(hubP99, Report::millis));
        Spread handedOver = Spread.of(hub.roundTrips.stream().map(p -> nanos(p, "dispatched.p50Ns")).toList());
        details.add("     of which dispatch() to dispatched() (journaled, handed to the node's stream): p50 "
                + Report.millis(handedOver.median()) + " (median of rounds)");
        details.add(String.format(Locale.ROOT, "echo p50 / p99 / p999: %s / %s / %s (medians of %d rounds x %d messages after %d warm-up)",
                Report.millis(echoP50.median()), Report.millis(echoP99.median()), Report.millis(echoP999.median()),
                echoP50.rounds(), options.echoCount(), options.echoWarmup()));
        details.add("     p50 " + Report.spread(echoP50, Report::millis) + "; p99 " + Report.spread(echoP99, Report::millis));
        details.add(String.format(Locale.ROOT, "sync (Derby one-row insert + commit, beside the hub's data): %s; p99 %s",
                Report.spread(sync, Report::millis), Report.millis(syncP99.median())));
        details.add("hub '" + hub.label + "' over the whole run: " + hub.gcPauses);
        details.add(String.format(Locale.ROOT, "journal-off goal, for reference: p50 %s of echo (goal <= 1.3x), p99 %s of echo (goal <= 2x)",
                Report.ratio(hubP50.median() / echoP50.median()), Report.ratio(hubP99.median() / echoP99.median())));
        String baseline = String.format(Locale.ROOT, "p50 %s echo + 2 syncs x %s = %s", Report.millis(echoP50.median()),
                Report.millis(sync.median()), Report.millis(allowance));
        return new Report.Row(1, ROW1, "p50 " + Report.millis(hubP50.median()) + " (journal on)", baseline,
                Report.ratio(ratio) + " of (baseline + 2 syncs)", ROW1_GOAL, hubP50.median() <= allowance ? Report.PASS : Report.MISS,
                details);
    }

    private static Spread percentile(List<Histogram> rounds, double percentile) {
        return Spread.of(rounds.stream().map(h -> (double) h.getValueAtPercentile(percentile)).toList());
    }

    // ---- row 2 ----

    private Report.Row row2(HubPhase grouped, HubPhase single) {
        List<Integer> ladder = List.of(options.rates().split(",")).stream().map(String::trim).map(Integer::valueOf).toList();
        int lowest = ladder.get(0);
        int highest = ladder.get(ladder.size() - 1);
        List<String> details = new ArrayList<>();
        details.add(String.format(Locale.ROOT, "variant measured: journal ON, group commit as shipped (maxBatch %s in force, per the hub log);"
                + " baseline: etc/dev.meshhub.journal.cfg maxBatch = 1 (%s in force): one commit per journal write, 3 per"
                + " task (created as DISPATCHED, running, ended)", grouped.maxBatch.map(String::valueOf).orElse("?"),
                single.maxBatch.map(String::valueOf).orElse("?")));
        details.add(String.format(Locale.ROOT, "workload: %d simulated nodes (one TaskStream and connection each), tasks round robin,"
                + " open loop at fixed rates, latency from each task's intended send time; each rate %d ms warm-up, then recorded"
                + " for %d ms or until %d tasks (at most %d ms); a rate passes when p99 <= %s ms and no task is refused or fails;"
                + " a rate failing on its p99 alone is offered once more (retry) before it counts; after the first failing rate"
                + " one rate between is tried", options.nodes(), options.stepWarmupMs(), options.stepMs(), options.minRecorded(),
                4 * options.stepMs(), BenchMain.fmt(options.p99LimitMs())));
        details.add(String.format(Locale.ROOT, "before its first sweep each hub ran unrecorded warm-up tasks, one in flight per node"
                + " (at most %d, at most %d s): group commit %s, maxBatch = 1 %s", SWEEP_WARMUP_TASKS, SWEEP_WARMUP.toSeconds(),
                warmedUp(grouped), warmedUp(single)));
        details.add("maxPendingTasksPerNode raised to " + BenchMain.MAX_PENDING + " (MESHHUB_TRANSPORT_MAX_PENDING_TASKS_PER_NODE"
                + (grouped.pendingLimitRaised ? ", override confirmed in the hub log" : ", override NOT seen in the hub log")
                + ") so the per-node limit does not cap the rate");
        String why = phaseProblem(grouped, "group-commit hub");
        String baselineWhy = phaseProblem(single, "maxBatch = 1 hub");
        if (why == null && baselineWhy == null && single.maxBatch.isEmpty()) {
            baselineWhy = "the journal does not report its batch limit, so maxBatch = 1 cannot be confirmed";
        } else if (why == null && baselineWhy == null && single.maxBatch.get() != 1) {
            baselineWhy = "the journal ran with batches of " + single.maxBatch.get() + " although maxBatch = 1 was configured";
        }
        if (why == null) {
            addSweepDetails(details, "group commit", grouped);
        }
        if (baselineWhy == null) {
            addSweepDetails(details, "one commit per write", single);
        }
        for (HubPhase phase : List.of(grouped, single)) {
            if (phase.startError == null) {
                details.add(String.format(Locale.ROOT, "hub '%s': simulated nodes answered %,d tasks; %s; %s; %,d per-task INFO lines"
                        + " ('task ... ended SUCCEEDED') in its log", phase.label, phase.answered, phase.streams, phase.gcPauses,
                        phase.perTaskLogLines));
            }
        }
        if (why != null || baselineWhy != null) {
            return Report.Row.notMeasurable(2, ROW2, ROW2_GOAL, why != null ? why : "baseline: " + baselineWhy, details);
        }
        Spread measured = Spread.of(grouped.sweeps.stream().map(p -> integer(p, "highestPassingRate")).toList());
        Spread baseline = Spread.of(single.sweeps.stream().map(p -> integer(p, "highestPassingRate")).toList());
        boolean measuredCapped = measured.median() >= highest;
        boolean baselineBelow = baseline.median() == 0;
        String measuredText = measured.median() == 0 ? "< " + Report.rate(lowest) + " (no offered rate passed)"
                : (measuredCapped ? ">= " : "") + Report.rate(measured.median()) + " (highest rate with p99 <= " + BenchMain.fmt(options.p99LimitMs()) + " ms)";
        String baselineText = baselineBelow ? "< " + Report.rate(lowest) + " (no offered rate passed)" : Report.rate(baseline.median());
        // With the baseline below the lowest rate, the ratio is a lower bound (dividing by the lowest rate).
        double ratio = measured.median() / (baselineBelow ? lowest : baseline.median());
        String ratioText = measured.median() == 0 ? "-" : (baselineBelow || measuredCapped ? ">= " : "") + Report.ratio(ratio);
        boolean pass = measured.median() >= 10_000 && ratio >= 10;
        return new Report.Row(2, ROW2, measuredText + ", group commit", baselineText + ", maxBatch = 1", ratioText, ROW2_GOAL,
                pass ? Report.PASS : Report.MISS, details);
    }

    private static String warmedUp(HubPhase phase) {
        return phase.sweeps.isEmpty() ? "-" : phase.sweeps.get(0).getProperty("warmupTasks", "?");
    }

    private String phaseProblem(HubPhase phase, String what) {
        if (phase.startError != null) {
            return what + ": " + phase.startError;
        }
        if (phase.sweepError != null) {
            return what + ": " + phase.sweepError;
        }
        if (phase.sweeps.isEmpty()) {
            return what + ": no sweep ran" + (phase.sweepsCut == null ? "" : " (" + phase.sweepsCut + ")");
        }
        return null;
    }

    private void addSweepDetails(List<String> details, String what, HubPhase phase) {
        if (phase.sweepsCut != null) {
            details.add(what + ": " + phase.sweepsCut);
        }
        Spread spread = Spread.of(phase.sweeps.stream().map(p -> integer(p, "highestPassingRate")).toList());
        details.add(what + ": highest passing rate " + Report.spread(spread, Report::rate));
        Spread keptUp = Spread.of(phase.sweeps.stream().map(p -> integer(p, "highestRateKeptUp")).toList());
        details.add("  for context, highest rate it still kept up with (p50 <= " + BenchMain.fmt(options.p99LimitMs())
                + " ms, no backlog, nothing refused; rates marked 'context' were offered past the result for this): "
                + Report.spread(keptUp, Report::rate));
        cpuAtTopRate(details, phase);
        for (int i = 0; i < phase.sweeps.size(); i++) {
            Properties sweep = phase.sweeps.get(i);
            int steps = (int) integer(sweep, "steps");
            List<String> parts = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
                parts.add(step(sweep, "step." + s + "."));
            }
            details.add("  sweep " + (i + 1) + ": " + String.join(" | ", parts));
        }
    }

    /**
     * CPU per task at each sweep's highest rate kept up (medians over sweeps): the journal's writer thread, which
     * bounds the rate one hub can journal at 1 s of writer CPU per second, and the whole hub JVM.
     */
    private void cpuAtTopRate(List<String> details, HubPhase phase) {
        List<Double> writer = new ArrayList<>();
        List<Double> process = new ArrayList<>();
        List<Double> rates = new ArrayList<>();
        for (Properties sweep : phase.sweeps) {
            int steps = (int) integer(sweep, "steps");
            String top = null;
            for (int s = 0; s < steps; s++) {
                String prefix = "step." + s + ".";
                if (Boolean.parseBoolean(sweep.getProperty(prefix + "keptUp"))
                        && (top == null || integer(sweep, prefix + "rate") > integer(sweep, top + "rate"))) {
                    top = prefix;
                }
            }
            if (top == null || sweep.getProperty(top + "writerCpuNanos") == null) {
                continue;
            }
            double tasks = integer(sweep, top + "sent") - integer(sweep, top + "refused");
            double writerNanos = integer(sweep, top + "writerCpuNanos");
            double processNanos = integer(sweep, top + "processCpuNanos");
            if (tasks > 0 && writerNanos >= 0 && processNanos >= 0) {
                writer.add(writerNanos / tasks);
                process.add(processNanos / tasks);
                rates.add(integer(sweep, top + "rate"));
            }
        }
        if (writer.isEmpty()) {
            return;
        }
        double writerPerTask = Spread.of(writer).median();
        details.add(String.format(Locale.ROOT, "  CPU per task at the highest rate kept up (%s, medians of %d sweeps): journal writer"
                + " thread %.0f us, whole hub JVM %.0f us (JIT, GC and the probe's sender included); one writer thread is saturated at about %,.0f"
                + " tasks/s on this CPU", Report.spread(Spread.of(rates), Report::rate), writer.size(), writerPerTask / 1000,
                Spread.of(process).median() / 1000, 1e9 / writerPerTask));
    }

    /** One offered rate in a sweep, e.g. "2000/s ok p50 0.812 ms p99 2.345 ms". */
    private static String step(Properties sweep, String prefix) {
        String rate = sweep.getProperty(prefix + "rate") + "/s" + (Boolean.parseBoolean(sweep.getProperty(prefix + "retry")) ? " retry" : "");
        boolean passed = Boolean.parseBoolean(sweep.getProperty(prefix + "passed"));
        String latency = sweep.getProperty(prefix + "latency.p99Ns") == null ? ""
                : " p50 " + Report.millis(nanos(sweep, prefix + "latency.p50Ns")) + " p99 " + Report.millis(nanos(sweep, prefix + "latency.p99Ns"));
        if (Boolean.parseBoolean(sweep.getProperty(prefix + "capacityOnly"))) {
            boolean keptUp = Boolean.parseBoolean(sweep.getProperty(prefix + "keptUp"));
            return rate + " context " + (keptUp ? "kept up" : "did not keep up") + latency
                    + (keptUp ? "" : " (" + sweep.getProperty(prefix + "verdict", "") + ")");
        }
        if (passed) {
            return rate + " ok" + latency;
        }
        String verdict = sweep.getProperty(prefix + "verdict", "");
        String failure = sweep.getProperty(prefix + "firstFailure", "");
        // The probe's sender runs in the hub's JVM: when it is late, the whole JVM stalled (GC, CPU), not just the journal.
        String lag = sweep.getProperty(prefix + "sendLag.p99Ns") == null ? ""
                : "; sender lag p99 " + Report.millis(nanos(sweep, prefix + "sendLag.p99Ns"));
        return rate + " FAIL" + latency + " (" + verdict + lag + (failure.isEmpty() ? "" : "; first: " + shorten(failure)) + ")";
    }

    // ---- helpers ----

    private static double nanos(Properties p, String key) {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IllegalStateException("probe result lacks " + key);
        }
        return Double.parseDouble(value);
    }

    private static double integer(Properties p, String key) {
        return nanos(p, key);
    }

    private static String shorten(String text) {
        return text.length() > 160 ? text.substring(0, 160) + "..." : text;
    }
}
