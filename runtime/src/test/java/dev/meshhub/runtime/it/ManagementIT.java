package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.RunOutcome;
import dev.meshhub.api.management.TaskScheduleState;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.GetMeshStatusRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.ListManagementTasksRequest;
import dev.meshhub.proto.v1.ManagementTaskInfo;
import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;

/**
 * Management tasks through the real bundles: the scheduler runs task services registered by anyone
 * (here the test), isolates crashes and hangs, and runs the monitor, which writes the mesh status file
 * atomically and can be replaced live while nodes stay connected.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ManagementIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Inject
    private ManagementScheduler scheduler;

    @Inject
    private TaskDispatcher dispatcher;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("ManagementIT", Map.of(), "meshhub");
    }

    @Test
    public void aTaskThatThrowsAndOneThatHangsDoNotHoldUpAThird() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger steadyRuns = new AtomicInteger();
        List<String> threads = new CopyOnWriteArrayList<>();
        List<ServiceRegistration<?>> registrations = new ArrayList<>();
        try {
            registrations.add(register("it-thrower", 100, null, () -> {
                throw new IllegalStateException("broken on purpose");
            }));
            registrations.add(register("it-hanger", 100, 300L, () -> {
                // Swallows interrupts: the worst kind of hung task.
                while (release.getCount() > 0) {
                    try {
                        release.await();
                    } catch (InterruptedException ignored) {
                        // keep hanging
                    }
                }
            }));
            registrations.add(register("it-steady", 100, null, () -> {
                threads.add(Thread.currentThread().getName());
                steadyRuns.incrementAndGet();
            }));

            Poll.until("it-hanger declared hung", PATIENCE, () -> status("it-hanger").state() == TaskScheduleState.HUNG);
            int runsWhenHung = steadyRuns.get();
            Poll.until("it-steady to keep its schedule", PATIENCE, () -> steadyRuns.get() >= runsWhenHung + 10);
            Poll.until("it-thrower to keep being run", PATIENCE, () -> status("it-thrower").failures() >= 3);

            ManagementTaskStatus hanger = status("it-hanger");
            assertEquals("a hung task gets no more runs", 1, hanger.runs());
            assertEquals(1, hanger.timeouts());
            assertTrue(hanger.skipped() > 0);
            assertEquals(0, status("it-steady").failures());

            // The same, as an admin sees it over the admin API.
            Map<String, ManagementTaskInfo> listed = hub.admin().listManagementTasks(ListManagementTasksRequest.getDefaultInstance())
                    .getTasksList().stream().collect(Collectors.toMap(ManagementTaskInfo::getName, t -> t, (a, b) -> a));
            assertEquals("HUNG", listed.get("it-hanger").getState());
            assertEquals("IllegalStateException: broken on purpose", listed.get("it-thrower").getLastError());
            assertEquals("FAILED", listed.get("it-thrower").getLastOutcome());
            assertEquals(100, listed.get("it-steady").getPeriodMs());
            assertTrue(listed.containsKey("mesh-monitor"));

            // Every run happened on the scheduler's own threads, never on gRPC or Netty ones.
            assertFalse(threads.isEmpty());
            for (String name : threads) {
                assertTrue(name, name.matches("meshhub-management-\\d+ \\[it-steady\\]"));
            }

            release.countDown();
            Poll.until("it-hanger runs again once it returned", PATIENCE,
                    () -> status("it-hanger").runs() >= 2 && status("it-hanger").lastOutcome() == RunOutcome.SUCCEEDED);
            assertEquals("the timeout stays counted", 1, status("it-hanger").timeouts());
        } finally {
            release.countDown();
            registrations.forEach(ServiceRegistration::unregister);
        }
        Poll.until("unregistered tasks gone", PATIENCE, () -> scheduler.tasks().stream().noneMatch(s -> s.name().startsWith("it-")));
    }

    @Test
    public void aTaskWithAMalformedPeriodIsListedAsIgnoredAndNeverRun() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Hashtable<String, Object> noPeriod = new Hashtable<>(Map.of(ManagementTask.NAME, "it-no-period"));
        Hashtable<String, Object> words = new Hashtable<>(Map.of(ManagementTask.NAME, "it-words", ManagementTask.PERIOD, "often"));
        Hashtable<String, Object> negative = new Hashtable<>(Map.of(ManagementTask.NAME, "it-negative", ManagementTask.PERIOD, -3L));
        ManagementTask counting = runs::incrementAndGet;
        List<ServiceRegistration<?>> registrations = List.of(
                context.registerService(ManagementTask.class, counting, noPeriod),
                context.registerService(ManagementTask.class, counting, words),
                context.registerService(ManagementTask.class, counting, negative));
        try {
            assertEquals(TaskScheduleState.IGNORED, status("it-no-period").state());
            assertTrue(status("it-no-period").problem(), status("it-no-period").problem().startsWith("no meshhub.management.period property"));
            assertEquals("meshhub.management.period is not a whole number: 'often'", status("it-words").problem());
            assertEquals("meshhub.management.period must be positive, is -3", status("it-negative").problem());
            ManagementTaskInfo listed = hub.admin().listManagementTasks(ListManagementTasksRequest.getDefaultInstance()).getTasksList()
                    .stream().filter(t -> t.getName().equals("it-words")).findFirst().orElseThrow();
            assertEquals("IGNORED", listed.getState());
            assertEquals("meshhub.management.period is not a whole number: 'often'", listed.getProblem());
            // Fixing the property makes it run at once.
            ServiceRegistration<?> fixed = registrations.get(1);
            words.put(ManagementTask.PERIOD, "1");
            fixed.setProperties(words);
            Poll.until("the fixed task runs", PATIENCE, () -> runs.get() >= 1);
            assertEquals(TaskScheduleState.IGNORED, status("it-no-period").state());
        } finally {
            registrations.forEach(ServiceRegistration::unregister);
        }
    }

    @Test
    public void theStatusFileIsAlwaysCompleteJsonWhileBeingRewritten() throws Exception {
        fastMonitor("dev.meshhub.monitor");
        List<TestStream> nodes = new ArrayList<>();
        try {
            for (String name : List.of("watched-a", "watched-b", "watched-c")) {
                nodes.add(connectedNode(name));
            }
            Path file = statusDirectory().resolve("mesh.json");
            Poll.until("the snapshot to list three nodes", PATIENCE, () -> connectedIn(file) == 3);

            // Read as fast as possible while the monitor rewrites the file every 50 ms.
            Set<String> snapshots = new HashSet<>();
            int reads = 0;
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (snapshots.size() < 30 && System.nanoTime() < deadline) {
                String text = Files.readString(file);
                JsonObject document = JsonParser.parseString(text).getAsJsonObject();
                snapshots.add(document.get("takenAt").getAsString());
                reads++;
            }
            assertTrue("saw " + snapshots.size() + " snapshots in " + reads + " reads", snapshots.size() >= 30);
            System.out.printf("meshhub it: mesh.json read %d times while rewritten %d times, every read complete JSON%n",
                    reads, snapshots.size());
            try (Stream<Path> files = Files.list(file.getParent())) {
                List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("mesh.json")).collect(Collectors.toList());
                assertTrue("no temp files piled up: " + names, names.size() <= 1);
            }

            JsonObject document = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            assertEquals(3, document.getAsJsonObject("nodes").get("connected").getAsInt());
            assertTrue(document.getAsJsonObject("tasks").has("SUCCEEDED"));
            assertTrue(document.getAsJsonObject("journal").has("backlog"));

            MeshStatusInfo status = hub.admin().getMeshStatus(GetMeshStatusRequest.getDefaultInstance());
            assertTrue(status.getNodesKnown());
            assertEquals(Set.of("watched-a", "watched-b", "watched-c"),
                    status.getNodesList().stream().map(n -> n.getName()).collect(Collectors.toSet()));
            assertTrue(status.getTasksKnown());
        } finally {
            nodes.forEach(TestStream::close);
        }
    }

    @Test
    public void aReadOnlyStatusDirectoryIsCountedAndRecoveredFrom() throws Exception {
        fastMonitor("dev.meshhub.monitor");
        Path directory = statusDirectory();
        Poll.until("a first status file", PATIENCE, () -> Files.isRegularFile(directory.resolve("mesh.json")));
        long failuresBefore = status("mesh-monitor").failures();
        try (ReadOnlyDirectory readOnly = ReadOnlyDirectory.make(directory)) {
            Poll.until("failed runs counted", PATIENCE, () -> status("mesh-monitor").failures() >= failuresBefore + 3);
            ManagementTaskStatus failing = status("mesh-monitor");
            assertEquals(RunOutcome.FAILED, failing.lastOutcome());
            assertTrue(failing.lastError(), failing.lastError().contains(directory.resolve("mesh.json").toString()));
            // The snapshot is still served while the disk refuses it.
            assertTrue(context.getService(context.getServiceReference(MeshStatus.class)).latest().isPresent());
        }
        String stale = takenAt(directory.resolve("mesh.json"));
        Poll.until("the monitor writes again", PATIENCE, () -> {
            ManagementTaskStatus now = status("mesh-monitor");
            return now.lastOutcome() == RunOutcome.SUCCEEDED && now.consecutiveFailures() == 0;
        });
        Poll.until("a newer file", PATIENCE, () -> !stale.equals(takenAt(directory.resolve("mesh.json"))));
        try (Stream<Path> files = Files.list(directory)) {
            List<String> left = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).collect(Collectors.toList());
            assertTrue("no temp file left behind: " + left, left.size() <= 1);
        }
    }

    @Test
    public void replacingTheMonitorLiveSwitchesTheOutputWithNodesConnected() throws Exception {
        fastMonitor("dev.meshhub.monitor");
        fastMonitor("dev.meshhub.monitor.jsonl");
        Path directory = statusDirectory();
        try (TestStream node = connectedNode("through-swap")) {
            Poll.until("mesh.json lists the node", PATIENCE, () -> connectedIn(directory.resolve("mesh.json")) == 1);
            Bundle monitor = bundle("dev.meshhub.monitor");
            monitor.stop();
            Bundle example = null;
            try {
                Poll.until("mesh-monitor unscheduled with its bundle", PATIENCE,
                        () -> scheduler.tasks().stream().noneMatch(s -> s.name().equals("mesh-monitor")));
                String lastOfOld = takenAt(directory.resolve("mesh.json"));

                example = context.installBundle(HubTestSupport.exampleMonitorBundle().toUri().toString());
                example.start();
                Path lines = directory.resolve("mesh.jsonl");
                Poll.until("the new monitor appends snapshots", PATIENCE, () -> jsonLines(lines).size() >= 3);
                for (JsonObject line : jsonLines(lines)) {
                    assertEquals(1, line.getAsJsonObject("nodes").get("connected").getAsInt());
                }
                assertEquals("the old monitor wrote nothing more", lastOfOld, takenAt(directory.resolve("mesh.json")));
                assertTrue(status("mesh-monitor-jsonl").runs() >= 3);
                Poll.until("status served by the new monitor", PATIENCE, () -> hubStatusNodes() == 1);
            } finally {
                if (example != null) {
                    example.uninstall();
                }
                monitor.start();
            }
            Poll.until("mesh-monitor back", PATIENCE, () -> scheduler.tasks().stream().anyMatch(s -> s.name().equals("mesh-monitor")));
            assertFalse("the node's stream survived the swaps", node.ended.isDone());
            assertTrue(directory.resolve("mesh.jsonl").toFile().exists());
        }
    }

    @Test
    public void theSchedulerUpdatedUnderLoadResumesItsTasksAndLeaksNoThreads() throws Exception {
        AtomicInteger steadyRuns = new AtomicInteger();
        ServiceRegistration<?> steady = register("it-through-updates", 50, null, steadyRuns::incrementAndGet);
        AtomicBoolean loading = new AtomicBoolean(true);
        List<String> lost = new CopyOnWriteArrayList<>();
        AtomicInteger done = new AtomicInteger();
        try (TestStream node = connectedNode("under-load")) {
            answerTasks(node);
            Thread load = new Thread(() -> {
                while (loading.get()) {
                    try {
                        TaskResult result = dispatcher.dispatch("under-load", CommandSpec.argv("echo", "x"), null)
                                .result().toCompletableFuture().get(10, TimeUnit.SECONDS);
                        if (result.state() != TaskState.SUCCEEDED) {
                            lost.add(result.state() + ": " + result.diagnostic());
                        }
                        done.incrementAndGet();
                    } catch (Exception e) {
                        lost.add(e.toString());
                    }
                }
            }, "test-load");
            load.start();
            Poll.until("load flowing", PATIENCE, () -> done.get() >= 20);
            int baseline = liveThreads();

            Bundle schedulerBundle = bundle("dev.meshhub.scheduler");
            for (int i = 0; i < 3; i++) {
                schedulerBundle.update();
                int before = steadyRuns.get();
                Poll.until("tasks resume after update " + (i + 1), PATIENCE, () -> steadyRuns.get() >= before + 5);
            }
            Poll.until("exactly one scheduler timer thread", PATIENCE, () -> threadsNamed("meshhub-management-timer") == 1);
            Poll.until("no more workers than the pool", PATIENCE, () -> threadsNamed("meshhub-management-") <= 1 + 2);
            loading.set(false);
            load.join(TimeUnit.SECONDS.toMillis(20));
            assertTrue("no task lost under the updates: " + lost, lost.isEmpty());
            Poll.until("thread count back to the baseline of " + baseline, Duration.ofSeconds(60), () -> liveThreads() <= baseline + 2);
            System.out.printf("meshhub it: 3 scheduler updates under load: %d tasks, none lost; threads %d before, %d after%n",
                    done.get(), baseline, liveThreads());
            assertFalse(node.ended.isDone());
        } finally {
            loading.set(false);
            steady.unregister();
        }
    }

    @Test
    public void theConsoleShowsTasksAndTheMeshStatus() throws Exception {
        fastMonitor("dev.meshhub.monitor");
        try (TestStream node = connectedNode("consoled")) {
            Poll.until("the snapshot lists the node", PATIENCE, () -> connectedIn(statusDirectory().resolve("mesh.json")) == 1);
            org.apache.felix.service.command.CommandProcessor processor = context.getService(
                    context.getServiceReference(org.apache.felix.service.command.CommandProcessor.class));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.PrintStream console = new java.io.PrintStream(out, true);
            try (org.apache.felix.service.command.CommandSession session = processor.createSession(
                    new java.io.ByteArrayInputStream(new byte[0]), console, console)) {
                Object status = session.execute("mesh:status");
                String shown = out + String.valueOf(status);
                assertTrue(shown, shown.contains("nodes connected: 1"));
                assertTrue(shown, shown.contains("consoled"));
                out.reset();
                Object tasks = session.execute("mesh:tasks-status");
                shown = out + String.valueOf(tasks);
                assertTrue(shown, shown.contains("mesh-monitor"));
                assertTrue(shown, shown.contains("NEXT-RUN"));
                Exception extra = org.junit.Assert.assertThrows(Exception.class, () -> session.execute("mesh:tasks-status --all"));
                assertTrue(extra.getMessage(), extra.getMessage().contains("takes no arguments"));
            }
        }
    }

    // ---- support ----

    private ServiceRegistration<ManagementTask> register(String name, long periodMillis, Long timeLimitMillis, ManagementTask task) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(ManagementTask.NAME, name);
        properties.put(ManagementTask.PERIOD, periodMillis);
        properties.put(ManagementTask.UNIT, "MILLISECONDS");
        if (timeLimitMillis != null) {
            properties.put(ManagementTask.TIME_LIMIT, timeLimitMillis);
        }
        return context.registerService(ManagementTask.class, task, properties);
    }

    private ManagementTaskStatus status(String name) {
        List<ManagementTaskStatus> all = scheduler.tasks();
        return all.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no management task " + name + " in " + all));
    }

    /** Makes a monitor snapshot every 50 ms, through its .cfg file as an admin would. */
    private void fastMonitor(String pid) throws Exception {
        Path cfg = hub.home.resolve("etc").resolve(pid + ".cfg");
        String wanted = "meshhub.management.period = 50\nmeshhub.management.unit = MILLISECONDS\nmeshhub.management.timeLimit = 10000\n";
        if (!Files.exists(cfg) || !Files.readString(cfg).equals(wanted)) {
            HubTestSupport.writeConfig(cfg, wanted);
        }
        if (pid.equals("dev.meshhub.monitor")) {
            Poll.until("the monitor on its fast schedule", PATIENCE,
                    () -> scheduler.tasks().stream().anyMatch(s -> s.name().equals("mesh-monitor") && s.period().toMillis() == 50));
        }
    }

    private Path statusDirectory() {
        return hub.home.resolve("data/status");
    }

    private TestStream connectedNode(String name) throws Exception {
        TestNode enrolled = hub.enroll(name);
        TestStream stream = enrolled.stream().hello().keepAlive();
        Poll.until(name + " listed", PATIENCE, () -> directory.session(enrolled.getNodeId()).isPresent());
        return stream;
    }

    /** A node that answers every task at once, successfully. */
    private static void answerTasks(TestStream stream) {
        Thread answerer = new Thread(() -> {
            try {
                while (!stream.ended.isDone()) {
                    HubMessage message = stream.received.poll(100, TimeUnit.MILLISECONDS);
                    if (message == null || !message.hasTask()) {
                        continue;
                    }
                    String id = message.getTask().getTaskId();
                    stream.send(NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(id).setPid(1)).build());
                    stream.send(NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId(id)
                            .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0)).build());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "test-node-answerer");
        answerer.setDaemon(true);
        answerer.start();
    }

    private static int connectedIn(Path file) {
        try {
            JsonObject nodes = JsonParser.parseString(Files.readString(file)).getAsJsonObject().getAsJsonObject("nodes");
            return nodes == null ? -1 : nodes.get("connected").getAsInt();
        } catch (NoSuchFileException e) {
            return -1;
        } catch (Exception e) {
            throw new AssertionError("mesh.json is not complete JSON", e);
        }
    }

    private static String takenAt(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file)).getAsJsonObject().get("takenAt").getAsString();
        } catch (Exception e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }

    /** The complete lines of a JSON-lines file (a last line being appended may be partial). */
    private static List<JsonObject> jsonLines(Path file) {
        try {
            if (!Files.exists(file)) {
                return List.of();
            }
            String text = Files.readString(file);
            List<JsonObject> lines = new ArrayList<>();
            for (String line : text.split("\n", -1)) {
                if (!line.isEmpty() && text.contains(line + "\n")) {
                    lines.add(JsonParser.parseString(line).getAsJsonObject());
                }
            }
            return lines;
        } catch (Exception e) {
            throw new AssertionError("cannot read " + file, e);
        }
    }

    private int hubStatusNodes() {
        try {
            MeshStatusInfo status = hub.admin().getMeshStatus(GetMeshStatusRequest.getDefaultInstance());
            ServiceReference<MeshStatus> best = context.getServiceReference(MeshStatus.class);
            return best != null && "dev.meshhub.monitor.jsonl".equals(best.getBundle().getSymbolicName()) ? status.getNodesCount() : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (symbolicName.equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    private static int threadsNamed(String prefix) {
        return (int) Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    private static int liveThreads() {
        return Thread.getAllStackTraces().size();
    }
}
