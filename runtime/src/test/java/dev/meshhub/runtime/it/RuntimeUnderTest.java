package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.rules.ExternalResource;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;

/**
 * A copy of the assembled runtime (runtime/target/meshhub) in its own directory, with its own
 * ports, and the processes a test starts from its bin/ scripts: the hub, node agents, meshctl.
 * Every process is ended when the test ends.
 */
final class RuntimeUnderTest extends ExternalResource {

    static final Duration PATIENCE = Duration.ofSeconds(60);

    Path home;
    int nodePort;
    int adminPort;
    int httpPort;
    Process hub;
    long launchToReadyMillis;
    private final List<Process> processes = new ArrayList<>();
    private final Map<String, String> extraHubEnvironment = new java.util.TreeMap<>();
    private final Map<String, String> nodeEnvironment = new java.util.TreeMap<>();
    private ManagedChannel adminChannel;
    private boolean startsHub = true;
    /** The admin token meshctl uses, when the hub is not this runtime's own (Karaf's etc/admin.token). */
    Path adminTokenFile;

    /** The runtime's programs (meshctl, meshnode) without starting its hub: for a hub that runs elsewhere. */
    static RuntimeUnderTest withoutHub() {
        RuntimeUnderTest runtime = new RuntimeUnderTest();
        runtime.startsHub = false;
        return runtime;
    }

    @Override
    protected void before() throws Throwable {
        Path runtime = HubTestSupport.runtimeDirectory();
        home = Files.createDirectories(Path.of("target/e2e").toAbsolutePath()).resolve("hub-" + System.nanoTime());
        run(List.of("cp", "-a", runtime.toString(), home.toString()), Map.of(), 60, null).assertExit(0);
        // Start from a first start's state, whatever a developer did with target/meshhub before.
        run(List.of("sh", "-c", "rm -rf data/* etc/admin.token deploy/*"), Map.of(), 60, home).assertExit(0);
        nodePort = HubTestSupport.freePort();
        adminPort = HubTestSupport.freePort();
        httpPort = HubTestSupport.freePort();
        Path felixHttp = home.resolve("etc/org.apache.felix.http.cfg");
        Files.writeString(felixHttp, Files.readString(felixHttp).replace("org.osgi.service.http.port = 7702",
                "org.osgi.service.http.port = " + httpPort));
        adminChannel = NettyChannelBuilder.forAddress("127.0.0.1", adminPort).usePlaintext().build();
        if (startsHub) {
            startHub();
        }
    }

    @Override
    protected void after() {
        for (Process process : processes) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        if (adminChannel != null) {
            adminChannel.shutdownNow();
        }
    }

    /** Starts the hub and waits until its admin API answers. */
    void startHub() throws Exception {
        long launched = System.nanoTime();
        hub = start(home.resolve("hub.log"), hubEnvironment(), home.resolve("bin/meshhub").toString());
        Poll.until("the hub to answer", PATIENCE, () -> !hub.isAlive() || listNodes() != null);
        assertTrue("hub died at start; log:\n" + log("hub.log"), hub.isAlive());
        launchToReadyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched);
        System.out.printf("meshhub e2e: launch to ready (admin API answering, node port open) in %d ms%n", launchToReadyMillis);
    }

    /** An environment variable for the hub process (set before the rule starts it). */
    RuntimeUnderTest withHubEnvironment(String name, String value) {
        extraHubEnvironment.put(name, value);
        return this;
    }

    Map<String, String> hubEnvironment() {
        Map<String, String> environment = new java.util.TreeMap<>(extraHubEnvironment);
        environment.putAll(Map.of(
                "MESHHUB_TRANSPORT_PORT", String.valueOf(nodePort),
                "MESHHUB_TRANSPORT_BIND_ADDRESS", "127.0.0.1",
                "MESHHUB_ADMIN_PORT", String.valueOf(adminPort)));
        return environment;
    }

    /** Lists nodes through the admin API (fast polling without a JVM start per poll); null when it does not answer. */
    String listNodes() {
        try {
            return admin().listNodes(dev.meshhub.proto.v1.ListNodesRequest.getDefaultInstance()).toString();
        } catch (RuntimeException | IOException notYet) {
            return null;
        }
    }

    AdminServiceGrpc.AdminServiceBlockingStub admin() throws IOException {
        Metadata headers = new Metadata();
        Path token = adminTokenFile != null ? adminTokenFile : home.resolve("etc/admin.token");
        headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + Files.readString(token).strip());
        return AdminServiceGrpc.newBlockingStub(adminChannel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                .withDeadlineAfter(5, TimeUnit.SECONDS);
    }

    /**
     * Starts a node agent; its output goes to {@code <workspace name>.log} in the home. A joining node
     * (one given {@code --token}) is given the hub's CA pin as an admin would hand it over, from
     * {@code meshctl ca pin}, unless the test chose how it verifies the hub.
     */
    Process meshnode(Path workspace, String... args) throws Exception {
        return meshnodeAt(nodePort, workspace, args);
    }

    /** {@link #meshnode} pointed at another port of this machine (a proxy in front of the hub, say). */
    Process meshnodeAt(int port, Path workspace, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/meshnode").toString(),
                "--hub", "127.0.0.1:" + port, "--workspace", workspace.toString()));
        command.addAll(List.of(args));
        List<String> given = List.of(args);
        if (given.contains("--token") && given.stream().noneMatch(arg -> arg.equals("--ca-pin") || arg.equals("--ca-file")
                || arg.equals("--insecure-skip-hub-verification") || arg.equals("--plaintext"))) {
            command.addAll(List.of("--ca-pin", caPin()));
        }
        Map<String, String> env = new java.util.TreeMap<>(nodeEnvironment);
        env.put("XDG_STATE_HOME", home.resolve("node-state").toString());
        env.put("XDG_CACHE_HOME", home.resolve("cache").toString()); // meshnode's class archive, per test home
        return start(home.resolve(workspace.getFileName() + ".log"), env, command.toArray(new String[0]));
    }

    /** An environment variable for the node agents started from now on. */
    RuntimeUnderTest withNodeEnvironment(String name, String value) {
        nodeEnvironment.put(name, value);
        return this;
    }

    /**
     * The state directory meshnode chose by default for {@code workspace} (it runs with
     * {@code XDG_STATE_HOME=<home>/node-state}): {@code <home>/node-state/meshnode/<workspace name>-<hash>}.
     */
    Path nodeState(Path workspace) throws IOException {
        Path states = home.resolve("node-state/meshnode");
        try (java.util.stream.Stream<Path> entries = Files.list(states)) {
            List<Path> found = entries.filter(p -> p.getFileName().toString().matches(
                    java.util.regex.Pattern.quote(workspace.getFileName().toString()) + "-[0-9a-f]{10}")).toList();
            if (found.size() != 1) {
                throw new AssertionError("expected one state directory for " + workspace + " in " + states + ", found " + found);
            }
            return found.get(0);
        }
    }

    private String caPin;

    /** The hub's CA pin, as {@code meshctl ca pin} prints it. */
    String caPin() throws Exception {
        if (caPin == null) {
            caPin = meshctl("ca", "pin").assertExit(0).stdout().strip();
        }
        return caPin;
    }

    /** Enrolls a node agent with a fresh invite and waits until it is listed. */
    Process enrolledNode(String name) throws Exception {
        String token = meshctl("invite", "create").assertExit(0).stdout().strip();
        Process node = meshnode(home.resolve(name + "-workspace"), "--token", token, "--name", name);
        Poll.until(name + " listed", PATIENCE, () -> String.valueOf(listNodes()).contains("\"" + name + "\""));
        return node;
    }

    /** Enrolls a node and sets it PERMISSIVE (shell commands allowed), as an admin would. */
    Process permissiveNode(String name) throws Exception {
        Process node = enrolledNode(name);
        meshctl("policy", "set", name, "permissive", "--yes").assertExit(0);
        return node;
    }

    /** A task from the journal, through the admin API. */
    dev.meshhub.proto.v1.TaskInfo task(String taskId) throws IOException {
        return admin().getTask(dev.meshhub.proto.v1.GetTaskRequest.newBuilder().setTaskId(taskId).build());
    }

    /** The newest task of a node. */
    dev.meshhub.proto.v1.TaskInfo latestTask(String node) throws IOException {
        return admin().listTasks(dev.meshhub.proto.v1.ListTasksRequest.newBuilder().setNode(node).setLimit(1).build()).getTasks(0);
    }

    /** Waits for a running task on the node and returns it. */
    dev.meshhub.proto.v1.TaskInfo runningTask(String node) {
        dev.meshhub.proto.v1.TaskInfo[] found = new dev.meshhub.proto.v1.TaskInfo[1];
        Poll.until("a running task on " + node, PATIENCE, () -> {
            try {
                found[0] = admin().listTasks(dev.meshhub.proto.v1.ListTasksRequest.newBuilder().setNode(node)
                        .setState(dev.meshhub.proto.v1.TaskState.RUNNING).build()).getTasksList().stream().findFirst().orElse(null);
                return found[0] != null;
            } catch (Exception notYet) {
                return false;
            }
        });
        return found[0];
    }

    /** A task's state, or null when it cannot be read right now (for polling). */
    dev.meshhub.proto.v1.TaskState taskState(String taskId) {
        try {
            return task(taskId).getState();
        } catch (Exception notYet) {
            return null;
        }
    }

    Result meshctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/meshctl").toString()));
        command.addAll(List.of(args));
        Map<String, String> env = new java.util.TreeMap<>(Map.of("MESHHUB_ADMIN_ADDRESS", "127.0.0.1:" + adminPort,
                "XDG_CACHE_HOME", home.resolve("cache").toString())); // meshctl's class archive, per test home
        if (adminTokenFile != null) {
            env.put("MESHHUB_ADMIN_TOKEN_FILE", adminTokenFile.toString());
        }
        return run(command, env, 120, null);
    }

    /** meshctl's stdout, or "" when it fails (for polling). */
    String meshctlQuietly(String... args) {
        try {
            return meshctl(args).stdout();
        } catch (Exception e) {
            return "";
        }
    }

    /** Starts meshctl in the background; stdout and stderr go to files in the home. */
    Process meshctlInBackground(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/meshctl").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(home.resolve(name + ".out").toFile())
                .redirectError(home.resolve(name + ".err").toFile());
        builder.environment().put("MESHHUB_ADMIN_ADDRESS", "127.0.0.1:" + adminPort);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Starts meshctl with its stdout on a pipe the test reads (at its own pace); stderr goes to {@code name}.err in the home. */
    Process meshctlPiped(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/meshctl").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.PIPE)
                .redirectError(home.resolve(name + ".err").toFile());
        builder.environment().put("MESHHUB_ADMIN_ADDRESS", "127.0.0.1:" + adminPort);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Runs a bash pipeline with meshctl on the PATH and this hub's admin address, as a user types it. */
    Result shell(String pipeline, int timeoutSeconds) throws Exception {
        Map<String, String> env = new java.util.TreeMap<>(Map.of("MESHHUB_ADMIN_ADDRESS", "127.0.0.1:" + adminPort,
                "XDG_CACHE_HOME", home.resolve("cache").toString(),
                "PATH", home.resolve("bin") + ":" + System.getenv("PATH")));
        return run(List.of("bash", "-o", "pipefail", "-c", pipeline), env, timeoutSeconds, null);
    }

    Process start(Path log, Map<String, String> env, String... command) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    String log(String name) throws IOException {
        Path file = home.resolve(name);
        return Files.exists(file) ? Files.readString(file) : "(no " + name + ")";
    }

    Result run(List<String> command, Map<String, String> env, int timeoutSeconds, Path directory) throws Exception {
        Path out = Files.createTempFile("meshhub-e2e", ".out");
        Path err = Files.createTempFile("meshhub-e2e", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (directory != null) {
                builder.directory(directory.toFile());
            }
            builder.environment().putAll(env);
            Process process = builder.start();
            processes.add(process);
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(command + " did not finish within " + timeoutSeconds + " s");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    record Result(int exit, String stdout, String stderr) {
        Result assertExit(int expected) {
            assertEquals("exit code; stdout:\n" + stdout + "\nstderr:\n" + stderr, expected, exit);
            return this;
        }
    }
}
