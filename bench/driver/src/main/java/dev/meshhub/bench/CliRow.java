package dev.meshhub.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Row 10 of BENCHMARKS.md, CLI round trip: {@code bin/meshctl nodes} against a running hub, a process
 * timed from spawn to exit, median of the rounds after one unrecorded. Baselines in the same rounds:
 * {@code true} spawned the same way (what starting any process costs the driver), and the same admin
 * RPC ({@code ListNodes} with the admin token) from the driver's warm JVM over a channel opened once.
 * {@code meshctl --version} (the JVM and the CLI starting, no gRPC) shows where the time goes; for context,
 * a user's first call (before the class-data archive that it leaves behind exists) and calls with
 * {@code MESHHUB_CDS=off}.
 */
final class CliRow {

    static final int NUMBER = 10;
    static final String NAME = "CLI round trip";
    static final String GOAL = "meshctl nodes <= 300 ms (spawn to exit)";
    static final double LIMIT_NANOS = 300e6;
    /** Nodes enrolled and connected, so that the listing has rows. */
    static final int NODES = 8;
    static final int WARM_CALLS = 200;
    /** How long the first call's background run may take to leave its class-data archive. */
    static final Duration ARCHIVE_WAIT = Duration.ofSeconds(60);

    private final BenchMain main;
    private final BenchOptions options;
    private final Map<String, List<Double>> figures = new LinkedHashMap<>();
    private Path directory;
    /** XDG_CACHE_HOME of every meshctl run: where bin/meshctl keeps its class-data archive. */
    private Path cache;
    private int runs;

    CliRow(BenchMain main) {
        this.main = main;
        this.options = main.options();
    }

    Report.Row run() {
        List<String> details = new ArrayList<>();
        HubPhase phase = null;
        String error = null;
        try {
            directory = Files.createDirectories(options.work().resolve("cli"));
            phase = main.launchHub("cli", null, Map.of());
            phase.hub.awaitReady(main.within(Duration.ofSeconds(90)));
            main.progress("CLI: enrolling and connecting %d simulated nodes", NODES);
            phase.fleet = new SimulatedFleet(phase.hub);
            phase.fleet.enroll(NODES);
            phase.fleet.connect(NODES, main.within(Duration.ofSeconds(30)));
            HubInstance hub = phase.hub;
            HubAdmin admin = hub.admin();
            for (int i = 0; i < WARM_CALLS; i++) {
                admin.listNodes();
            }
            // A user's first call: no archive yet; it starts the background run that leaves one behind.
            cache = Files.createDirectories(directory.resolve("cache"));
            add("first", meshctl(hub, Map.of(), "nodes"));
            Path archive = awaitArchive(cache, ARCHIVE_WAIT);
            details.add(archive == null ? "no class-data archive within " + ARCHIVE_WAIT.toSeconds() + " s of the first call"
                    : "class-data archive left by the first call: " + cache.relativize(archive) + ", "
                            + Files.size(archive) / (1024 * 1024) + " MiB");
            List<String> spawnTrue = List.of(Files.isExecutable(Path.of("/bin/true")) ? "/bin/true" : "true");
            for (int round = 0; round <= options.rounds(); round++) {
                boolean record = round > 0;
                main.progress("CLI round %d of %d%s: true, meshctl --version, meshctl nodes, ListNodes from the driver", round,
                        options.rounds(), record ? "" : " (unrecorded)");
                List<String> kinds = new ArrayList<>(List.of("true", "version", "nodes", "warm"));
                java.util.Collections.rotate(kinds, round);
                for (String kind : kinds) {
                    long took = switch (kind) {
                        case "true" -> spawn(spawnTrue, Map.of(), null);
                        case "version" -> meshctl(hub, Map.of(), "--version");
                        case "nodes" -> meshctl(hub, Map.of(), "nodes");
                        default -> {
                            long started = System.nanoTime();
                            int listed = admin.listNodes().getNodesCount();
                            long elapsed = System.nanoTime() - started;
                            if (listed != NODES) {
                                throw new IllegalStateException("ListNodes listed " + listed + " nodes, not " + NODES);
                            }
                            yield elapsed;
                        }
                    };
                    if (record) {
                        add(kind, took);
                    }
                }
                if (record) {
                    add("nocds", meshctl(hub, Map.of("MESHHUB_CDS", "off"), "nodes"));
                }
            }
            for (int i = 0; i < 100; i++) {
                long started = System.nanoTime();
                admin.listNodes();
                add("warm100", System.nanoTime() - started);
            }
        } catch (Exception e) {
            error = BenchMain.describe(e);
        } finally {
            if (phase != null) {
                main.stop(phase);
            }
        }
        details.add("one hub as shipped, " + NODES + " simulated nodes enrolled and connected (the listing has " + NODES + " rows);"
                + " bin/meshctl from the hub's own home (it finds etc/admin.token there), MESHHUB_ADMIN_ADDRESS=127.0.0.1:PORT,"
                + " JAVA_HOME the driver's JDK, no JAVA_OPTS (as a user runs it), XDG_CACHE_HOME a directory of this run;"
                + " every process timed from ProcessBuilder.start()"
                + " to exit, output to a file; rounds rotate the order, after one unrecorded round");
        if (error != null || !figures.containsKey("nodes")) {
            return Report.Row.notMeasurable(NUMBER, NAME, GOAL, error != null ? error : "no round completed", details);
        }
        Spread nodes = Spread.of(figures.get("nodes"));
        Spread spawnTrue = Spread.of(figures.get("true"));
        Spread warm = Spread.of(figures.get("warm"));
        details.add("meshctl nodes: " + ms("nodes"));
        details.add("meshctl --version (sh + JVM + picocli, no gRPC): " + ms("version") + "; so gRPC, the token and the call add "
                + Report.millis(nodes.median() - Spread.of(figures.get("version")).median()));
        details.add("true: " + ms("true") + "; ListNodes from the driver's warm JVM, one call per round: " + ms("warm")
                + "; over 100 calls after the rounds: median " + Report.millis(Spread.of(figures.get("warm100")).median()));
        details.add("for context, not the row's figure: a user's first meshctl nodes (no class-data archive yet) " + ms("first")
                + "; with MESHHUB_CDS=off " + ms("nocds"));
        double floor = spawnTrue.median() + warm.median();
        return new Report.Row(NUMBER, NAME, "meshctl nodes " + Report.millis(nodes.median()) + " (spawn to exit, median of "
                + nodes.rounds() + ")", "true " + Report.millis(spawnTrue.median()) + "; ListNodes from a warm JVM "
                + Report.millis(warm.median()), Report.ratio(nodes.median() / floor) + " of (true + warm call)", GOAL,
                nodes.median() <= LIMIT_NANOS ? Report.PASS : Report.MISS, details);
    }

    /**
     * The class-data archive that meshctl's first call's background run leaves under {@code cache} (its XDG_CACHE_HOME),
     * once it is complete; null if none within {@code wait}.
     */
    static Path awaitArchive(Path cache, Duration wait) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            try (java.util.stream.Stream<Path> files = Files.walk(cache)) {
                List<Path> found = files.map(Path::toString).filter(f -> f.endsWith(".jsa") || f.endsWith(".lock"))
                        .map(Path::of).toList();
                if (found.size() == 1 && found.get(0).toString().endsWith(".jsa")) {
                    return found.get(0);
                }
            } catch (java.io.UncheckedIOException renamedWhileWalked) {
                // the archive moving into place: look again
            }
            Thread.sleep(100);
        }
        return null;
    }

    /** bin/meshctl COMMAND with {@code extraEnv}; checks its exit and output; nanoseconds from spawn to exit. */
    private long meshctl(HubInstance hub, Map<String, String> extraEnv, String command) throws IOException, InterruptedException {
        Map<String, String> env = new LinkedHashMap<>(hub.cliEnvironment(cache));
        env.putAll(extraEnv);
        Path output = directory.resolve("out-" + (++runs) + ".txt");
        long took = spawn(List.of(hub.home().resolve("bin/meshctl").toString(), command), env, output);
        String text = Files.readString(output, StandardCharsets.UTF_8);
        String expected = command.equals("nodes") ? "bench-n01" : "meshctl";
        if (!text.contains(expected)) {
            throw new IllegalStateException("meshctl " + command + " printed no '" + expected + "': " + text.strip());
        }
        return took;
    }

    /** Starts {@code command} (no MESHHUB_* or JAVA_OPTS of the driver's environment, then {@code env}); nanoseconds to its exit. */
    private long spawn(List<String> command, Map<String, String> env, Path output) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(output == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.to(output.toFile()));
        builder.environment().keySet().removeIf(k -> k.startsWith("MESHHUB_") || k.equals("JAVA_OPTS"));
        builder.environment().putAll(env);
        long started = System.nanoTime();
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not end within 60 s");
        }
        long took = System.nanoTime() - started;
        if (process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + process.exitValue()
                    + (output == null ? "" : ": " + Files.readString(output, StandardCharsets.UTF_8).strip()));
        }
        return took;
    }

    private void add(String figure, double nanos) {
        figures.computeIfAbsent(figure, k -> new ArrayList<>()).add(nanos);
    }

    private String ms(String figure) {
        return figures.containsKey(figure) ? Report.spread(Spread.of(figures.get(figure)), Report::millis) : "-";
    }
}
