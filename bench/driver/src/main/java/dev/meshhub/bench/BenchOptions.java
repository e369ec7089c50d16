package dev.meshhub.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line options of the driver; bench/run passes the paths, the rest has defaults sized so
 * that rows 1 and 2 take about three minutes on two cores, row 4 about five, row 6 about three, row 8 about two,
 * row 10 under one, row 13 about one and a half, row 14 about ten to fifteen.
 */
record BenchOptions(Path root, Path runtime, Path probe, Path work, String javaOpts, int rounds, int sweeps,
        int roundTripWarmup, int roundTripCount, int echoWarmup, int echoCount, int commitWarmup, int commitCount,
        String rates, int stepMs, int stepWarmupMs, int minRecorded, double p99LimitMs, int nodes, Duration budget, boolean keep, Set<Integer> rows,
        int syncRounds, long syncFileBytes, int churnSeconds, int churnCount, int soakSwaps, int journalTasks,
        java.util.List<Integer> fleetSizes, int stormNodes, int outputRounds, long outputBytes, int smallTasks) {

    /** The benchmarks the driver knows. */
    static final Set<Integer> KNOWN_ROWS = Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18);
    /** Default time budget of each row, in seconds (rows 1 and 2 share theirs). */
    static final int BUDGET_ROWS_1_2 = 285;
    /** Handshake isolation: enroll and connect 1,000 nodes, three rounds of two 20 s windows. */
    static final int BUDGET_ROW_3 = 480;
    static final int BUDGET_ROW_4 = 330;
    /** Idle fleet memory: enroll 10,000 nodes, connect 1k, 5k, 10k to the hub and then to the echo baseline. */
    static final int BUDGET_ROW_5 = 900;
    static final int BUDGET_ROW_6 = 240;
    /** Policy hot swap: enroll and connect 1,000 nodes, two rounds of 12 s of load. */
    static final int BUDGET_ROW_7 = 420;
    /** Cold start: one setup start, then 5 rounds of a bare launch, a hub restart and a fresh hub. */
    static final int BUDGET_ROW_8 = 240;
    /** CLI round trip: one hub, 6 rounds of true, meshctl --version, meshctl nodes and a warm ListNodes. */
    /** Reconnect storm: enroll 5,000 nodes, restart the echo baseline and the hub under them. */
    static final int BUDGET_ROW_9 = 720;
    static final int BUDGET_ROW_10 = 120;
    /** TLS cost, rows 1 and 4 with TLS on and off: two hubs, three alternating rounds. */
    static final int BUDGET_ROW_11 = 420;
    static final int BUDGET_ROW_13 = 300;
    /** The journal at scale: fill 1,000,000 tasks, dispatch before, during and after retention. */
    static final int BUDGET_ROW_14 = 1200;
    /** Extra row 15: a CA rotation with 100 connected nodes. */
    static final int BUDGET_ROW_15 = 240;
    /** Extra row 16: dispatch windows with and without a /metrics scrape every 100 ms. */
    static final int BUDGET_ROW_16 = 300;
    /** Extra row 17: an hour of console refreshes, back to back. */
    static final int BUDGET_ROW_17 = 420;
    /**
     * Extra row 18: a real node agent; 1 GiB through meshctl exec and two baselines, 3 rounds; 256 MiB beside a slow reader
     * (600 s); then a second hub and node, 10,000 small tasks (500 s: SmallTaskLogs#budget, 490 s at 25 tasks/s).
     */
    static final int BUDGET_ROW_18 = 1100;

    static final String USAGE = """
            usage: bench/run [options]
              --rows 1,2,...      which benchmarks, of 1,2,3,4,5,6,7,8,9,10,11,13,14,15,16,17,18 (default 1,2; 3 handshake
                                  isolation, 4 file sync, 5 idle fleet memory, 6 lock churn, 7 policy hot swap, 8 cold start, 9 the reconnect storm, 10 the CLI round trip (meshctl nodes), 11 TLS cost (rows 1 and 4 with
                                  TLS on and off), 13 the hot-swap soak, 14 the journal at scale: 1,000,000 finished
                                  tasks, before/during/after retention, 15 a CA rotation with 100 connected nodes,
                                  16 dispatch with /metrics scraped every 100 ms, 17 a console left open an hour,
                                  18 task output at any size: meshctl exec through a real node agent)
              --rounds N          rounds of row 1 and of its baselines; of row 8 (each: bare, restart, fresh hub) and of
                                  row 10 (after one unrecorded); row 14's dispatch windows per phase and row 16's each way (default 5)
              --sweeps N          rate sweeps of row 2, per hub (default 3)
              --count N           row 1 tasks recorded per round, row 14's per window (default 1000, after 200 warm-up)
              --rates R1,R2,...   row 2 offered rates in tasks/s (default 125,250,...,32000)
              --step-ms N         row 2 recorded time per rate (default 1500, longer for rates below 500/s; plus 500 ms warm-up)
              --sync-rounds N     rounds of row 4, each every configuration and both baselines (default 3)
              --sync-file-mib N   row 4's file size in MiB (default 1024; 8 parallel uploads send 1/8 each)
              --churn-seconds N   how long row 6 abandons uploads over gRPC (default 120)
              --churn-count N     row 6's in-process syncs against the LockRegistry (default 1000000)
              --soak-swaps N      row 13's bundle updates and settings edits under load (default 100)
              --fleet-sizes A,B,C row 5's fleet sizes, rising (default 1000,5000,10000)
              --storm-nodes N     row 9's fleet (default 5000)
              --journal-tasks N   row 14's finished tasks written into the journal (default 1000000; audit rows: a tenth)
              --output-rounds N   rounds of row 18's throughput and slow-reader parts (default 3; --quick 1)
              --output-mib N      row 18's output through meshctl exec, in MiB (default 1024; --quick at most 256; the task
                                  beside a slow reader: 256 MiB, or this if less)
              --small-tasks N     row 18's small tasks against a 2 MB cap on the task logs (default 10000; --quick at most 1000)
              --budget-seconds N  the run stops itself after this long (default 285 for rows 1,2, +480 for row 3, +330 for row 4,
                                  +900 for row 5, +240 for row 6, +420 for row 7, +240 for row 8, +720 for row 9, +120 for row 10, +420 for row 11, +300 for row 13,
                                  +1200 for row 14, +240 for row 15, +300 for row 16, +420 for row 17, +1100 for row 18)
              --quick             a smoke test: fewer rounds, shorter steps (figures not for the record)
              --keep              keep the hubs' directories (logs, journals) under --work
              --work DIR          where hubs are copied (default bench/driver/target/runs/TIMESTAMP)
              --runtime DIR       the assembled hub (default runtime/target/meshhub)
              --probe JAR         the probe bundle (default bench/probe/target/bench-probe.jar)
              --java-opts OPTS    JVM options of the hubs (bench/run passes the driver's own)
            """;

    static BenchOptions parse(String[] args) {
        Path root = Path.of("").toAbsolutePath();
        Path runtime = null;
        Path probe = null;
        Path work = null;
        String javaOpts = "";
        int rounds = 5;
        int sweeps = 3;
        int count = 1000;
        String rates = "125,250,500,1000,2000,4000,8000,16000,32000";
        int stepMs = 1500;
        int stepWarmupMs = 500;
        int budget = 0;
        int syncRounds = 3;
        int syncFileMiB = 1024;
        int churnSeconds = 120;
        int churnCount = 1_000_000;
        int soakSwaps = 100;
        int journalTasks = 1_000_000;
        java.util.List<Integer> fleetSizes = java.util.List.of(1000, 5000, 10000);
        int stormNodes = 5000;
        int outputRounds = 3;
        int outputMiB = 1024;
        int smallTasks = 10_000;
        boolean keep = false;
        boolean quick = false;
        Set<Integer> rows = Set.of(1, 2);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--root" -> root = Path.of(value(args, ++i, arg)).toAbsolutePath();
                case "--runtime" -> runtime = Path.of(value(args, ++i, arg)).toAbsolutePath();
                case "--probe" -> probe = Path.of(value(args, ++i, arg)).toAbsolutePath();
                case "--work" -> work = Path.of(value(args, ++i, arg)).toAbsolutePath();
                case "--java-opts" -> javaOpts = value(args, ++i, arg);
                case "--rounds" -> rounds = positive(value(args, ++i, arg), arg);
                case "--sweeps" -> sweeps = positive(value(args, ++i, arg), arg);
                case "--count" -> count = positive(value(args, ++i, arg), arg);
                case "--rates" -> rates = value(args, ++i, arg);
                case "--step-ms" -> stepMs = positive(value(args, ++i, arg), arg);
                case "--budget-seconds" -> budget = positive(value(args, ++i, arg), arg);
                case "--rows" -> rows = rows(value(args, ++i, arg));
                case "--sync-rounds" -> syncRounds = positive(value(args, ++i, arg), arg);
                case "--sync-file-mib" -> syncFileMiB = positive(value(args, ++i, arg), arg);
                case "--churn-seconds" -> churnSeconds = positive(value(args, ++i, arg), arg);
                case "--churn-count" -> churnCount = positive(value(args, ++i, arg), arg);
                case "--soak-swaps" -> soakSwaps = positive(value(args, ++i, arg), arg);
                case "--journal-tasks" -> journalTasks = positive(value(args, ++i, arg), arg);
                case "--fleet-sizes" -> fleetSizes = sizes(value(args, ++i, arg), arg);
                case "--storm-nodes" -> stormNodes = positive(value(args, ++i, arg), arg);
                case "--output-rounds" -> outputRounds = positive(value(args, ++i, arg), arg);
                case "--output-mib" -> outputMiB = positive(value(args, ++i, arg), arg);
                case "--small-tasks" -> smallTasks = positive(value(args, ++i, arg), arg);
                case "--keep" -> keep = true;
                case "--quick" -> quick = true;
                case "-h", "--help" -> throw new IllegalArgumentException("");
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (quick) {
            rounds = Math.min(rounds, 3);
            sweeps = 1;
            count = Math.min(count, 500);
            stepMs = Math.min(stepMs, 1000);
            stepWarmupMs = 250;
            syncRounds = 1;
            syncFileMiB = Math.min(syncFileMiB, 256);
            churnSeconds = Math.min(churnSeconds, 20);
            churnCount = Math.min(churnCount, 100_000);
            soakSwaps = Math.min(soakSwaps, 16);
            journalTasks = Math.min(journalTasks, 100_000);
            fleetSizes = fleetSizes.stream().map(n -> Math.max(1, n / 10)).toList();
            stormNodes = Math.min(stormNodes, 500);
            outputRounds = 1;
            outputMiB = Math.min(outputMiB, 256);
            smallTasks = Math.min(smallTasks, 1000);
        }
        if (syncFileMiB % 8 != 0) {
            throw new IllegalArgumentException("--sync-file-mib must be a multiple of 8 (8 parallel uploads send 1/8 each), got "
                    + syncFileMiB);
        }
        if (budget == 0) {
            budget = (rows.contains(1) || rows.contains(2) ? BUDGET_ROWS_1_2 : 0) + (rows.contains(4) ? BUDGET_ROW_4 : 0)
                    + (rows.contains(3) ? BUDGET_ROW_3 : 0) + (rows.contains(5) ? BUDGET_ROW_5 : 0) + (rows.contains(7) ? BUDGET_ROW_7 : 0)
                    + (rows.contains(9) ? BUDGET_ROW_9 : 0)
                    + (rows.contains(6) ? BUDGET_ROW_6 : 0) + (rows.contains(8) ? BUDGET_ROW_8 : 0)
                    + (rows.contains(10) ? BUDGET_ROW_10 : 0) + (rows.contains(11) ? BUDGET_ROW_11 : 0)
                    + (rows.contains(13) ? BUDGET_ROW_13 : 0) + (rows.contains(14) ? BUDGET_ROW_14 : 0)
                    + (rows.contains(15) ? BUDGET_ROW_15 : 0) + (rows.contains(16) ? BUDGET_ROW_16 : 0)
                    + (rows.contains(17) ? BUDGET_ROW_17 : 0) + (rows.contains(18) ? BUDGET_ROW_18 : 0);
        }
        runtime = runtime != null ? runtime : root.resolve("runtime/target/meshhub");
        probe = probe != null ? probe : root.resolve("bench/probe/target/bench-probe.jar");
        work = work != null ? work : root.resolve("bench/driver/target/runs")
                .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        if (!Files.isRegularFile(probe)) {
            throw new IllegalArgumentException("no probe bundle at " + probe + "; build it first: ./mvnw -q -pl bench -am install -DskipTests");
        }
        return new BenchOptions(root, runtime, probe, work, javaOpts, rounds, sweeps, quick ? 100 : 200, count,
                quick ? 500 : 2000, quick ? 2000 : 10000, 50, quick ? 100 : 300, rates, stepMs, stepWarmupMs, quick ? 100 : 500, 10.0, 64,
                Duration.ofSeconds(budget), keep, rows, syncRounds, syncFileMiB * 1024L * 1024, churnSeconds, churnCount, soakSwaps,
                journalTasks, fleetSizes, stormNodes, outputRounds, outputMiB * 1024L * 1024, smallTasks);
    }

    /** Rising positive sizes, comma-separated. */
    private static java.util.List<Integer> sizes(String text, String option) {
        java.util.List<Integer> sizes = new java.util.ArrayList<>();
        for (String size : text.split(",")) {
            int n = positive(size.trim(), option);
            if (!sizes.isEmpty() && n <= sizes.get(sizes.size() - 1)) {
                throw new IllegalArgumentException(option + " takes rising sizes (e.g. 1000,5000,10000), got '" + text + "'");
            }
            sizes.add(n);
        }
        return java.util.List.copyOf(sizes);
    }

    private static Set<Integer> rows(String text) {
        Set<Integer> rows = new TreeSet<>();
        for (String row : text.split(",")) {
            Integer number;
            try {
                number = Integer.valueOf(row.trim());
            } catch (NumberFormatException e) {
                number = null;
            }
            if (number == null || !KNOWN_ROWS.contains(number)) {
                throw new IllegalArgumentException("--rows takes benchmarks of " + new TreeSet<>(KNOWN_ROWS)
                        + ", comma-separated (e.g. 4 or 1,2,6); got '" + text + "'");
            }
            rows.add(number);
        }
        return Set.copyOf(rows);
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int positive(String text, String option) {
        try {
            int value = Integer.parseInt(text);
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // Reported below.
        }
        throw new IllegalArgumentException(option + " needs a positive whole number, got '" + text + "'");
    }
}
