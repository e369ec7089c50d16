package dev.meshhub.embed;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;

/**
 * An application embeds the hub, a real meshnode process joins it, the application dispatches a task
 * through TaskDispatcher, and closing the hub gives back every thread and file it took.
 */
public class EmbeddedHubIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);
    /**
     * Threads the JDK starts once per JVM for its own housekeeping and keeps: the reaper of child
     * processes, the cleaner, and the one scheduler behind every CompletableFuture.orTimeout.
     */
    private static final List<String> JDK_THREADS = List.of("process reaper", "Common-Cleaner", "Attach Listener",
            "Signal Dispatcher", "Reference Handler", "Finalizer", "Notification Thread", "CompletableFutureDelayScheduler");

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void anEmbeddedHubRunsANodesTaskForTheApplicationAndClosesCleanly() throws Exception {
        Path runtime = Path.of(System.getProperty("meshhub.runtime.dir", "../runtime/target/meshhub")).toAbsolutePath();
        Set<Thread> threadsAtStart = Set.copyOf(Thread.getAllStackTraces().keySet());
        List<String> filesAtStart = openFileNames();

        long t0 = System.nanoTime();
        runOnce(runtime, "first");
        System.out.printf("meshhub embed: first hub's life took %d ms; threads left at close: %s%n", (System.nanoTime() - t0) / 1_000_000, leftThreads(threadsAtStart));
        t0 = System.nanoTime();
        waitFor(() -> "every thread of the first hub ended (left: " + leftThreads(threadsAtStart) + ")",
                () -> leftThreads(threadsAtStart).isEmpty());
        // What the JVM itself keeps after a first hub (a jar it loaded classes from, a name-service socket)
        // is the JVM's: a second hub in the same JVM must give back exactly what it took.
        System.out.printf("meshhub embed: its threads ended %d ms after close%n", (System.nanoTime() - t0) / 1_000_000);
        System.out.printf("meshhub embed: files the JVM keeps after the first hub: %s%n", leftFiles(filesAtStart));
        Set<Thread> threadsBefore = Set.copyOf(Thread.getAllStackTraces().keySet());
        List<String> filesBefore = openFileNames();

        runOnce(runtime, "second");
        waitFor(() -> "every thread of the second hub ended (left: " + leftThreads(threadsBefore) + ")",
                () -> leftThreads(threadsBefore).isEmpty());
        waitFor(() -> "every file of the second hub closed (left: " + leftFiles(filesBefore) + ")",
                () -> leftFiles(filesBefore).isEmpty());
        System.out.printf("meshhub embed: after two hubs, threads %d (at start %d), open files %d (at start %d)%n",
                Thread.getAllStackTraces().size(), threadsAtStart.size(), openFileNames().size(), filesAtStart.size());
    }

    /** One embedded hub's life: start, a real node joins, a task through TaskDispatcher, close. */
    private void runOnce(Path runtime, String name) throws Exception {
        Path home = tmp.newFolder(name + "-hub").toPath();
        Process node = null;
        try (MeshHub hub = MeshHub.builder().home(home).systemRepository(runtime.resolve("system"))
                .nodePort(0).nodeBindAddress("127.0.0.1").adminPort(0).start()) {
            assertTrue("the features' defaults are in etc/ with the builder's port", Files.readString(
                    home.resolve("etc/dev.meshhub.transport.cfg")).contains("port = " + hub.nodePort()));

            EnrollmentStore store = hub.services().await(EnrollmentStore.class, PATIENCE);
            String token = store.createInvite(Duration.ofMinutes(5), "embedding test").toCompletableFuture()
                    .get(PATIENCE.toSeconds(), TimeUnit.SECONDS).token();
            String pin = hub.services().await(HubPki.class, PATIENCE).caPin();
            node = new ProcessBuilder(runtime.resolve("bin/meshnode").toString(), "--hub", "127.0.0.1:" + hub.nodePort(),
                    "--token", token, "--ca-pin", pin, "--workspace", tmp.newFolder(name + "-node").toString(), "--name", "embedded-node")
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(home.resolve("node.log").toFile())
                    .start();
            NodeDirectory directory = hub.services().await(NodeDirectory.class, PATIENCE);
            waitFor("embedded-node connected", () -> directory.connected().stream().map(NodeSession::name)
                    .anyMatch("embedded-node"::equals));

            TaskDispatcher dispatcher = hub.services().await(TaskDispatcher.class, PATIENCE);
            List<TaskOutput> output = new CopyOnWriteArrayList<>();
            TaskHandle task = dispatcher.dispatch("embedded-node", CommandSpec.argv("echo", "from-the-application"), output::add);
            TaskResult result = task.result().toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertEquals(result.diagnostic(), TaskState.SUCCEEDED, result.state());
            assertEquals(Integer.valueOf(0), result.exitCode());
            assertEquals("from-the-application\n", output.stream().map(o -> new String(o.data())).collect(Collectors.joining()));
            TaskJournal journal = hub.services().get(TaskJournal.class);
            waitFor("the journal records the task SUCCEEDED", () -> journal.get(task.taskId()).toCompletableFuture().join()
                    .map(record -> record.state() == TaskState.SUCCEEDED).orElse(false));
        } finally {
            if (node != null) {
                node.destroy();
                node.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> leftThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> !before.contains(thread) && thread.isAlive())
                .map(Thread::getName)
                .filter(name -> JDK_THREADS.stream().noneMatch(name::startsWith))
                .sorted()
                .toList();
    }

    private static List<String> openFileNames() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (IOException gone) {
                    return "?";
                }
            }).sorted().toList();
        } catch (IOException e) {
            return List.of(e.toString());
        }
    }

    /**
     * Files open now that were not before, but for the class path's jars (the JVM keeps a jar open once
     * it loaded a class from it) and the directory listing that counts them.
     */
    private static List<String> leftFiles(List<String> before) {
        List<String> left = new java.util.ArrayList<>(openFileNames());
        for (String file : before) {
            left.remove(file);
        }
        List<String> classPath = List.of(System.getProperty("java.class.path").split(File.pathSeparator));
        left.removeIf(file -> classPath.contains(file) || file.endsWith("/fd"));
        return left.stream().map(EmbeddedHubIT::describeSocket).toList();
    }

    /** A socket's line in /proc/net (its addresses and state), for the message of a failure. */
    private static String describeSocket(String file) {
        if (!file.startsWith("socket:[")) {
            return file;
        }
        String inode = file.substring("socket:[".length(), file.length() - 1);
        for (String table : List.of("tcp", "tcp6", "udp", "udp6", "unix")) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/net", table))) {
                    if (List.of(line.trim().split("\\s+")).contains(inode)) {
                        return file + " " + table + ": " + line.trim();
                    }
                }
            } catch (IOException unreadable) {
                // try the next table
            }
        }
        return file;
    }

    private static void waitFor(String what, BooleanSupplier condition) throws InterruptedException {
        waitFor(() -> what, condition);
    }

    private static void waitFor(java.util.function.Supplier<String> what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + PATIENCE.toSeconds() + " s waiting until " + what.get());
            }
            Thread.sleep(50);
        }
    }
}
