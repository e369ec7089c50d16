package dev.meshhub.bench;

import java.io.File;
import java.io.IOException;
import java.io.Reader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One hub, started from a copy of the assembled runtime with a fresh {@code data/}, on loopback
 * ports of its own. Its output goes to {@code hub.log} in its directory.
 */
final class HubInstance implements AutoCloseable {

    private static final Pattern MAX_BATCH_IN_LOG = Pattern.compile("batches of at most (\\d+)");

    private final Path home;
    private final String label;
    private Process process;
    private int nodePort;
    private int adminPort;
    private int httpPort;
    private HubAdmin admin;
    private boolean plaintextByEnvironment;

    private HubInstance(Path home, String label) {
        this.home = home;
        this.label = label;
    }

    /**
     * Copies the assembled hub into {@code home}, leaving out its state: data/, the admin token, and
     * anything already in deploy/.
     */
    static HubInstance copyOf(Path runtime, Path home, String label) throws IOException {
        if (!Files.isRegularFile(runtime.resolve("bin/meshhub"))) {
            throw new IllegalStateException("no assembled hub in " + runtime + "; build it first: ./mvnw -q install -DskipTests");
        }
        Files.walkFileTree(runtime, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = runtime.relativize(dir);
                Files.createDirectories(home.resolve(relative.toString()));
                return relative.startsWith("data") || relative.startsWith("deploy") ? FileVisitResult.SKIP_SUBTREE
                        : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path relative = runtime.relativize(file);
                if (!relative.equals(Path.of("etc", "admin.token"))) {
                    Files.copy(file, home.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        Files.createDirectories(home.resolve("tmp"));
        return new HubInstance(home, label);
    }

    /**
     * Sets one key of an etc/ .cfg file (replacing the key's line, or appending it), before start or
     * while the hub runs: the file is replaced in one step, so FileInstall never reads half of it.
     */
    void setConfiguration(String cfgFile, String key, String value) throws IOException {
        Path file = home.resolve("etc").resolve(cfgFile);
        List<String> lines = Files.exists(file) ? new ArrayList<>(Files.readAllLines(file)) : new ArrayList<>();
        lines.removeIf(line -> line.matches("\\s*" + Pattern.quote(key) + "\\s*[=:].*"));
        lines.add("# set by the benchmark driver");
        lines.add(key + " = " + value);
        Path temporary = file.resolveSibling(file.getFileName() + ".part");
        Files.write(temporary, lines);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Starts bin/meshhub with the driver's own JVM (JAVA_HOME) and {@code javaOpts}; no MESHHUB_*
     * variable of the caller's environment reaches it, only {@code environment}. Started again after
     * {@link #close()}, the hub keeps its home, data/ and ports (so simulated nodes find it again), and
     * its output is appended to the log.
     */
    void start(String javaOpts, Map<String, String> environment) throws IOException {
        plaintextByEnvironment = "true".equalsIgnoreCase(environment.getOrDefault("MESHHUB_TRANSPORT_PLAINTEXT", "").strip());
        boolean again = nodePort != 0;
        if (!again) {
            nodePort = freeLoopbackPort();
            adminPort = freeLoopbackPort();
            httpPort = freeLoopbackPort();
            setConfiguration("org.apache.felix.http.cfg", "org.osgi.service.http.port", Integer.toString(httpPort));
        }
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/meshhub").toString()).directory(home.toFile());
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(k -> k.startsWith("MESHHUB_") || k.equals("JAVA_OPTS"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        // The same options as the driver, plus a GC log so that the report can show the hub's pauses.
        env.put("JAVA_OPTS", (javaOpts + " -Xlog:gc:file=" + gcLog()).trim());
        env.put("MESHHUB_TRANSPORT_BIND_ADDRESS", "127.0.0.1");
        env.put("MESHHUB_ADMIN_BIND_ADDRESS", "127.0.0.1");
        env.put("MESHHUB_TRANSPORT_PORT", Integer.toString(nodePort));
        env.put("MESHHUB_ADMIN_PORT", Integer.toString(adminPort));
        env.putAll(environment);
        builder.redirectErrorStream(true)
                .redirectOutput(again ? ProcessBuilder.Redirect.appendTo(log().toFile()) : ProcessBuilder.Redirect.to(log().toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        process = builder.start();
    }

    /** Waits until the admin API answers an authenticated call. */
    void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Path token = home.resolve("etc/admin.token");
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("hub " + label + " exited with " + process.exitValue() + " while starting; "
                        + logTail(20));
            }
            if (Files.isRegularFile(token)) {
                if (admin == null) {
                    admin = new HubAdmin(adminPort, Files.readString(token, StandardCharsets.US_ASCII).trim());
                }
                try {
                    admin.connectedNodes();
                    return;
                } catch (RuntimeException e) {
                    last = e;
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("hub " + label + " did not answer on its admin port within " + timeout.toSeconds() + " s"
                + (last == null ? "" : " (" + last.getMessage() + ")") + "; " + logTail(20));
    }

    HubAdmin admin() {
        return admin;
    }

    /**
     * The environment of {@code bin/meshctl} run against this hub as a user runs it from the hub's home (it finds
     * {@code etc/admin.token} there): the driver's JDK, the admin address, and {@code cache} as XDG_CACHE_HOME (where it
     * keeps its class-data archive). Whoever starts it leaves out the driver's MESHHUB_* variables and JAVA_OPTS.
     */
    Map<String, String> cliEnvironment(Path cache) {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("MESHHUB_ADMIN_ADDRESS", "127.0.0.1:" + adminPort);
        env.put("XDG_CACHE_HOME", cache.toString());
        return env;
    }

    /** A second admin connection, for calls that must not queue behind the driver's (close it when done). */
    HubAdmin newAdmin() throws IOException {
        return new HubAdmin(adminPort, Files.readString(home.resolve("etc/admin.token"), StandardCharsets.US_ASCII).trim());
    }

    /** The hub's directory (its bin/, etc/, data/). */
    Path home() {
        return home;
    }

    int nodePort() {
        return nodePort;
    }

    /** The admin API's port (known once the hub was started). */
    /** The HTTP port (/metrics, /system/health, the console), on loopback. */
    int httpPort() {
        return httpPort;
    }

    int adminPort() {
        return adminPort;
    }

    /** The hub JVM's process id (bin/meshhub execs the JVM); -1 before a start. */
    long pid() {
        return process == null ? -1 : process.pid();
    }

    /** CPU time the hub's process (bin/meshhub execs the JVM) has used so far, in nanoseconds; -1 if the OS does not say. */
    long cpuNanos() {
        return process == null ? -1 : process.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
    }

    /** Whether the hub's process (started last) is still running. */
    boolean alive() {
        return process != null && process.isAlive();
    }

    /** Whether the node port was configured plaintext (MESHHUB_TRANSPORT_PLAINTEXT, or plaintext = true in its .cfg). */
    boolean plaintext() {
        if (plaintextByEnvironment) {
            return true;
        }
        try {
            Path cfg = home.resolve("etc/dev.meshhub.transport.cfg");
            return Files.exists(cfg) && Files.readAllLines(cfg).stream().anyMatch(line -> line.matches("\\s*plaintext\\s*=\\s*true\\s*"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Installs a bundle the way an admin does: copied beside deploy/, then moved in whole. */
    void deploy(Path bundle) throws IOException {
        Path staged = home.resolve("tmp").resolve(bundle.getFileName() + ".part");
        Files.copy(bundle, staged, StandardCopyOption.REPLACE_EXISTING);
        Files.move(staged, home.resolve("deploy").resolve(bundle.getFileName()), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Writes etc/PID.cfg whole (FileInstall picks it up within its poll of a second). */
    void configure(String pid, Map<String, String> values) throws IOException {
        StringBuilder text = new StringBuilder("# written by the benchmark driver\n");
        values.forEach((k, v) -> text.append(k).append(" = ").append(v).append('\n'));
        Path staged = home.resolve("tmp").resolve(pid + ".cfg.part");
        Files.writeString(staged, text);
        Files.move(staged, home.resolve("etc").resolve(pid + ".cfg"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /** Waits for a file the hub writes whole (moved into place), and reads it as properties. */
    Properties awaitProperties(String relative, Duration timeout) throws IOException, InterruptedException {
        Path file = home.resolve(relative);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.isRegularFile(file)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("hub " + label + " exited with " + process.exitValue() + "; " + logTail(20));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no " + relative + " from the probe within " + timeout.toSeconds() + " s; "
                        + logTail(15));
            }
            Thread.sleep(100);
        }
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        }
        return properties;
    }

    /** The journal's group-commit batch limit in force, as its start-up line in the log says. */
    Optional<Integer> maxBatchInForce() throws IOException {
        Matcher m = MAX_BATCH_IN_LOG.matcher(Files.readString(log(), StandardCharsets.UTF_8));
        Integer last = null;
        while (m.find()) {
            last = Integer.valueOf(m.group(1));
        }
        return Optional.ofNullable(last);
    }

    /** Whether the log shows the environment override of a transport key (the env-config bundle logs them). */
    boolean logMentions(String text) throws IOException {
        return Files.readString(log(), StandardCharsets.UTF_8).contains(text);
    }

    long countLogLines(String text) throws IOException {
        try (var lines = Files.lines(log(), StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.contains(text)).count();
        }
    }

    Path gcLog() {
        return home.resolve("gc.log");
    }

    /** "N GC pauses, longest X ms, Y ms in all" from the hub's GC log, over its whole life. */
    String gcPauses() {
        Pattern pause = Pattern.compile("Pause .* (\\d+(?:\\.\\d+)?)ms$");
        try (var lines = Files.lines(gcLog(), StandardCharsets.UTF_8)) {
            double[] figures = new double[3];
            lines.map(pause::matcher).filter(Matcher::find).mapToDouble(m -> Double.parseDouble(m.group(1))).forEach(ms -> {
                figures[0]++;
                figures[1] = Math.max(figures[1], ms);
                figures[2] += ms;
            });
            return String.format(java.util.Locale.ROOT, "%.0f GC pauses, longest %.1f ms, %.0f ms in all", figures[0], figures[1], figures[2]);
        } catch (IOException | RuntimeException e) {
            return "no GC log";
        }
    }

    Path log() {
        return home.resolve("hub.log");
    }

    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log(), StandardCharsets.UTF_8);
            return "last lines of " + log() + ":\n    " + String.join("\n    ", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "see " + log();
        }
    }

    /** SIGTERM (a clean stop), then a kill if the hub has not stopped within 15 s. */
    @Override
    public void close() {
        if (admin != null) {
            admin.close();
            admin = null;
        }
        if (process == null) {
            return;
        }
        BenchMain.terminate(process, 15);
    }

    /** For the shutdown hook: no waiting. */
    void kill() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
