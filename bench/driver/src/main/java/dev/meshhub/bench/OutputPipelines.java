package dev.meshhub.bench;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the throughput and slow-reader parts of row 18 share: the raw stream's server, one hub as shipped with one real
 * node agent (PERMISSIVE), meshctl's environment, and the timed pipelines ({@code bash -o pipefail}, the digest and the
 * exit checked) with the CPU they cost, by figure: the pipeline's own processes (bash's {@code times}) and the hub's and
 * the node's threads (meshctl) or the driver's (the raw stream's server).
 */
final class OutputPipelines implements AutoCloseable {

    static final String NODE = "bench-output";
    static final String MESHCTL = "meshctl exec " + NODE + " -- sh -c 'head -c %d /dev/zero' | sha256sum";
    static final String LOCAL = "head -c %d /dev/zero | sha256sum";
    static final String RAW = "\"$BENCH_JAVA\" $BENCH_CLIENT_OPTS -cp \"$BENCH_CLIENT_CP\" " + RawOutputClient.class.getName()
            + " 127.0.0.1:%d %d | sha256sum";
    /** Every pipeline is given this long at the least, and SIZE at 5 MB/s if that is longer. */
    static final Duration MIN_TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern START_OPTS = Pattern.compile("(?m)^START_OPTS=\"([^\"]*)\"");
    private static final int CPU_GROUPS = 6;
    /** bash's {@code times}: the shell's user and system time, then its children's (the pipeline's processes). */
    private static final Pattern TIMES = Pattern.compile("(?m)^\\d+m[\\d.]+s \\d+m[\\d.]+s\\n(\\d+)m([\\d.]+)s (\\d+)m([\\d.]+)s\\s*\\z");

    private final BenchMain main;
    private Path directory;
    private RawOutputServer raw;
    private final Map<Long, String> zeroDigests = new HashMap<>();
    private final Map<String, ThreadCpu> cpu = new LinkedHashMap<>();
    private final Map<String, Long> cpuBytes = new LinkedHashMap<>();
    private final Map<String, Long> pipelineCpu = new LinkedHashMap<>();
    private HubPhase phase;
    private HubInstance hub;
    private NodeAgentProcess node;
    private Map<String, String> environment;
    private int runs;

    OutputPipelines(BenchMain main) {
        this.main = main;
    }

    /** Starts the raw stream's server and makes the directory of the run's pipelines. */
    void open() throws IOException {
        raw = RawOutputServer.start();
        directory = Files.createDirectories(main.options().work().resolve("task-output"));
    }

    /**
     * Starts hub 'task-output', enrolls the node agent, sets it PERMISSIVE with {@code meshctl policy set} and waits for the
     * class-data archive meshctl's first call leaves from a background run (not while anything is timed); what the wait
     * saw goes to {@code details} when the archive did not come.
     */
    void startHubAndNode(List<String> details) throws IOException, InterruptedException, URISyntaxException {
        phase = main.launchHub("task-output", null, Map.of());
        main.prepareHub(phase, 0);
        if (!phase.usable()) {
            throw new IllegalStateException("hub 'task-output' did not start: " + phase.startError);
        }
        hub = phase.hub;
        main.progress("row 18: starting a node agent (bin/meshnode), enrolling it, setting it PERMISSIVE");
        node = NodeAgentProcess.enroll(main, hub, NODE, directory.resolve("node"), main.within(Duration.ofSeconds(90)));
        environment = environment();
        Path cache = Path.of(environment.get("XDG_CACHE_HOME"));
        check("meshctl policy set", pipeline("policy", "meshctl policy set " + NODE + " permissive --yes", MIN_TIMEOUT));
        // meshctl's first call leaves a class-data archive from a background run: not while anything is timed.
        if (CliRow.awaitArchive(cache, CliRow.ARCHIVE_WAIT) == null) {
            details.add("meshctl left no class-data archive within " + CliRow.ARCHIVE_WAIT.toSeconds() + " s of its first call");
        }
    }

    HubInstance hub() {
        return hub;
    }

    /** The JVM options the raw client runs with (meshctl's); "?" before the hub started. */
    String clientOptions() {
        return environment == null ? "?" : environment.get("BENCH_CLIENT_OPTS");
    }

    /** Stops the node and the hub; returns the hub's GC pauses over its whole life (null if it never started). */
    String stopHubAndNode() {
        if (node != null) {
            node.close();
        }
        if (phase == null) {
            return null;
        }
        main.stop(phase);
        return phase.gcPauses;
    }

    /** Stops the raw stream's server. */
    @Override
    public void close() throws InterruptedException {
        if (raw != null) {
            raw.close();
        }
    }

    /**
     * meshctl and the raw client as a user runs them: meshctl from the hub's bin/ on the PATH, with its own cache; the raw
     * client with meshctl's JVM options ({@code START_OPTS} of bin/meshctl) on meshctl's class path.
     */
    private Map<String, String> environment() throws IOException, URISyntaxException {
        Map<String, String> env = new LinkedHashMap<>(hub.cliEnvironment(Files.createDirectories(directory.resolve("cache"))));
        env.put("PATH", hub.home().resolve("bin") + File.pathSeparator + System.getenv("PATH"));
        env.put("BENCH_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Matcher options = START_OPTS.matcher(Files.readString(hub.home().resolve("bin/meshctl"), StandardCharsets.UTF_8));
        env.put("BENCH_CLIENT_OPTS", options.find() ? options.group(1) : "");
        Path driver = Path.of(RawOutputClient.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        env.put("BENCH_CLIENT_CP", hub.home().resolve("lib/cli") + File.separator + "*" + File.pathSeparator + driver);
        return env;
    }

    /** What the hub keeps of the tasks' output on disk (its task logs, where it has them), as files and bytes. */
    String taskLogs() {
        Path logs = hub.home().resolve("data/logs");
        if (!Files.isDirectory(logs)) {
            return "the hub keeps no task logs (no data/logs)";
        }
        TaskLogsDirectory.Reading reading = TaskLogsDirectory.read(logs);
        return String.format(Locale.ROOT, "the hub's task logs (data/logs) at the end: %d files, %s (the tasks' output is"
                + " also written there as it passes)", reading.files(), FileSyncRow.mib(reading.bytes()));
    }

    /**
     * One pipeline ending in {@code sha256sum} over {@code bytes} zeros ({@code line} formatted with the size, or for the raw
     * stream with the port and the size): its exit (pipefail: every command's) and digest checked; MB/s from spawn to exit.
     * Unless {@code figure} is null, the CPU it cost is added up under it: the pipeline's own processes (bash's
     * {@code times}), and the hub's and the node's threads (meshctl) or the driver's (the raw stream's server).
     */
    double throughput(String what, String line, long bytes, String figure) throws IOException, InterruptedException {
        String command = line.equals(RAW) ? String.format(Locale.ROOT, line, raw.port(), bytes) : String.format(Locale.ROOT, line, bytes);
        Map<String, Long> pids = new LinkedHashMap<>();
        if ("meshctl".equals(figure)) {
            pids.put("the hub", hub.pid());
            pids.put("the node agent", node.pid());
        } else if ("raw".equals(figure)) {
            pids.put("the driver's JVM (the raw stream's server)", ProcessHandle.current().pid());
        }
        Map<String, ThreadCpu> before = new LinkedHashMap<>();
        pids.forEach((who, pid) -> before.put(who, ThreadCpu.of(pid)));
        Outcome outcome = pipeline(what, command, timeout(bytes));
        if (figure != null) {
            pids.forEach((who, pid) -> {
                String key = who + " during " + (figure.equals("raw") ? "the raw stream" : "meshctl exec");
                cpu.merge(key, ThreadCpu.of(pid).since(before.get(who)), ThreadCpu::plus);
                cpuBytes.merge(key, bytes, Long::sum);
            });
            if (outcome.childrenCpuNanos() >= 0) {
                pipelineCpu.merge(figure, outcome.childrenCpuNanos(), Long::sum);
                cpuBytes.merge(figure, bytes, Long::sum);
            }
        }
        check(what, outcome);
        String digest = outcome.stdout().strip().split("\\s+")[0];
        if (!digest.equals(zeroDigest(bytes))) {
            throw new IllegalStateException(what + " (" + command + ") printed SHA-256 " + digest + ", not that of " + bytes
                    + " zeros (" + zeroDigest(bytes) + "): " + outcome.stdout().strip());
        }
        return bytes / (outcome.nanos() / 1e9) / 1e6;
    }

    /** The detail lines of the CPU added up by {@link #throughput}: the pipelines' own, then by thread group, per MiB. */
    List<String> cpuDetails() {
        List<String> lines = new ArrayList<>();
        if (!pipelineCpu.isEmpty()) {
            lines.add("CPU of the pipeline's own processes (bash's times), per MiB: " + String.join("; ",
                    pipelineCpu.entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %.2f ms", switch (e.getKey()) {
                        case "meshctl" -> "meshctl + sha256sum";
                        case "raw" -> "raw client + sha256sum";
                        default -> "head + sha256sum";
                    }, e.getValue() / 1e6 / (cpuBytes.get(e.getKey()) / 1048576.0))).toList()));
        }
        cpu.forEach((key, used) -> lines.add("CPU by thread group (/proc), " + key + ": " + used.perMib(cpuBytes.get(key), CPU_GROUPS)));
        return lines;
    }

    private static void check(String what, Outcome outcome) {
        if (outcome.exit() != 0) {
            throw new IllegalStateException(what + " exited with " + outcome.exit() + ": " + outcome.stderr().strip());
        }
    }

    static Duration timeout(long bytes) {
        Duration atFiveMbps = Duration.ofSeconds(bytes / 5_000_000);
        return atFiveMbps.compareTo(MIN_TIMEOUT) > 0 ? atFiveMbps : MIN_TIMEOUT;
    }

    /** {@code bin/meshctl ARGS...} as a user starts it, in meshctl's environment; the run kills it if it outlives the run. */
    ProcessBuilder meshctl(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(hub.home().resolve("bin/meshctl").toString());
        command.addAll(args);
        return withEnvironment(new ProcessBuilder(command));
    }

    private ProcessBuilder withEnvironment(ProcessBuilder builder) {
        builder.directory(directory.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().keySet().removeIf(k -> k.startsWith("MESHHUB_") || k.equals("JAVA_OPTS"));
        builder.environment().putAll(environment);
        return builder;
    }

    /** A new file of the run, {@code NN-what.suffix} (numbered in the order they are made). */
    Path runFile(String what, String suffix) {
        return directory.resolve(String.format(Locale.ROOT, "%02d-%s.%s", ++runs, what.replace(' ', '-'), suffix));
    }

    /**
     * {@code bash -o pipefail -c LINE} with {@link #environment}, then bash's {@code times} (the CPU of the pipeline's
     * processes, on stderr; the exit stays the pipeline's); stdout and stderr to files of the run; timed spawn to exit.
     */
    private Outcome pipeline(String what, String line, Duration timeout) throws IOException, InterruptedException {
        String tag = String.format(Locale.ROOT, "%02d-%s", ++runs, what.replace(' ', '-'));
        Path out = directory.resolve(tag + ".out");
        Path err = directory.resolve(tag + ".err");
        ProcessBuilder builder = withEnvironment(new ProcessBuilder("bash", "-o", "pipefail", "-c", line
                + "\nstatus=$?; times >&2; exit $status")).redirectOutput(out.toFile()).redirectError(err.toFile());
        Duration limit = main.within(timeout);
        long started = System.nanoTime();
        Process process = main.track(builder.start());
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            BenchMain.kill(process);
            throw new IllegalStateException(what + " (" + line + ") did not end within " + limit.toSeconds() + " s");
        }
        long nanos = System.nanoTime() - started;
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        Matcher times = TIMES.matcher(stderr);
        long children = -1;
        if (times.find()) {
            children = Math.round((Long.parseLong(times.group(1)) * 60 + Double.parseDouble(times.group(2))
                    + Long.parseLong(times.group(3)) * 60 + Double.parseDouble(times.group(4))) * 1e9);
            stderr = stderr.substring(0, times.start());
        }
        return new Outcome(nanos, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), stderr, children);
    }

    /** @param childrenCpuNanos user + system CPU of the pipeline's processes (bash's {@code times}), -1 if it did not say */
    private record Outcome(long nanos, int exit, String stdout, String stderr, long childrenCpuNanos) {
    }

    /** The SHA-256 of {@code bytes} zeros, in hex (computed once per size). */
    String zeroDigest(long bytes) {
        return zeroDigests.computeIfAbsent(bytes, OutputPipelines::zerosSha256);
    }

    static String zerosSha256(long bytes) {
        MessageDigest sha = SourceFile.newDigest();
        byte[] zeros = new byte[1 << 20];
        for (long left = bytes; left > 0; left -= zeros.length) {
            sha.update(zeros, 0, (int) Math.min(zeros.length, left));
        }
        return SourceFile.hex(sha.digest());
    }
}
