package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
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

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;

/**
 * The hot-swap soak (BENCHMARKS row 13): 50 nodes on real streams, tasks dispatched continuously
 * (60 a second), and in turn the policy, monitor, scheduler, locks, mirror, admin and journal bundles
 * updated in place and the transport's settings edited. Goals: no stream dropped, no task lost or left
 * unfinished; threads, open files and heap after GC flat. Refusals callers saw are reported with their
 * reasons. {@code -Dmeshhub.soak.swaps/nodes/rate} change its size: {@code ./mvnw verify} runs 16 swaps
 * (runtime/pom.xml), {@code bench/run --rows 13} the benchmark's 100 and prints the figures.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotSwapSoakIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final int SWAPS = Integer.getInteger("meshhub.soak.swaps", 100);
    private static final int NODES = Integer.getInteger("meshhub.soak.nodes", 50);
    private static final int RATE = Integer.getInteger("meshhub.soak.rate", 60);
    /** Load runs this long between two swaps, so every swap happens under load. */
    private static final Duration BETWEEN_SWAPS = Duration.ofMillis(300);
    private static final List<String> BUNDLES = List.of("dev.meshhub.policy", "dev.meshhub.monitor", "dev.meshhub.scheduler",
            "dev.meshhub.locks", "dev.meshhub.mirror", "dev.meshhub.admin", "dev.meshhub.journal");

    @Inject
    private TaskDispatcher dispatcher;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("HotSwapSoakIT", Map.of("maxPendingTasksPerNode", "256"), "meshhub");
    }

    /** What callers saw. */
    private final List<TaskHandle> accepted = new ArrayList<>();
    private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
    private final Map<TaskState, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    private final AtomicLong refusedAfterAcceptance = new AtomicLong();

    @Test
    public void swapsUnderLoadDropNoStreamAndLoseNoTask() throws Exception {
        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
        List<SoakNode> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < NODES; i++) {
                String name = "soak-" + i;
                nodes.add(SoakNode.connect(name, TestNode.enroll(hub,
                        SyncConfigurationRequest.newBuilder().setInviteToken(hub.invite()).setNodeName(name).build(), scheduler), scheduler,
                        HubTestSupport.HEARTBEAT_INTERVAL_MS));
            }
            Poll.until(NODES + " nodes listed", PATIENCE, () -> directory.connected().size() >= NODES);

            AtomicInteger next = new AtomicInteger();
            var load = scheduler.scheduleAtFixedRate(() -> dispatchOne(nodes.get(Math.floorMod(next.getAndIncrement(), NODES)).name),
                    0, 1_000_000 / RATE, TimeUnit.MICROSECONDS);
            sleep(Duration.ofSeconds(3)); // warm up, then measure the starting point under load
            Usage start = Usage.now();
            long started = System.nanoTime();
            int acceptedAtStart;
            synchronized (accepted) {
                acceptedAtStart = accepted.size();
            }

            Map<String, Integer> swapsByKind = new LinkedHashMap<>();
            Path cfg = hub.home.resolve("etc/dev.meshhub.transport.cfg");
            String original = Files.readString(cfg);
            for (int swap = 0; swap < SWAPS; swap++) {
                int kind = swap % (BUNDLES.size() + 1);
                if (kind < BUNDLES.size()) {
                    update(BUNDLES.get(kind));
                    swapsByKind.merge(BUNDLES.get(kind).substring("dev.meshhub.".length()), 1, Integer::sum);
                } else {
                    editTransport(cfg, original, swap);
                    swapsByKind.merge("transport settings", 1, Integer::sum);
                }
                sleep(BETWEEN_SWAPS);
            }
            HubTestSupport.writeConfig(cfg, original);
            awaitHanded("heartbeatIntervalMs", String.valueOf(HubTestSupport.HEARTBEAT_INTERVAL_MS));
            double seconds = (System.nanoTime() - started) / 1e9;
            load.cancel(false);
            // cancel() does not wait for a dispatch already running: one accepted after the count below would
            // end as 'succeeded' without being counted as accepted.
            synchronized (dispatching) {
                loadStopped = true;
            }
            int acceptedDuringSwaps;
            synchronized (accepted) {
                acceptedDuringSwaps = accepted.size() - acceptedAtStart;
            }

            // Every accepted task ends, and the journal holds what its caller was told (one deadline for all).
            List<TaskHandle> tasks;
            synchronized (accepted) {
                tasks = List.copyOf(accepted);
            }
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            long unfinished = 0;
            for (TaskHandle task : tasks) {
                try {
                    task.result().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    unfinished++;
                } catch (java.util.concurrent.ExecutionException refusedLater) {
                    // counted by the result callback
                }
            }
            TaskJournal journal = service(TaskJournal.class);
            List<String> disagreements = new ArrayList<>();
            deadline = System.nanoTime() + PATIENCE.toNanos();
            for (TaskHandle task : tasks) {
                TaskResult result = task.result().toCompletableFuture().getNow(null);
                if (result != null && result.state() == TaskState.SUCCEEDED) {
                    String disagreement = journaled(journal, task.taskId(), TaskState.SUCCEEDED, deadline);
                    if (disagreement != null) {
                        disagreements.add(disagreement);
                    }
                }
            }
            long journalDisagrees = disagreements.size();
            long succeeded = count(TaskState.SUCCEEDED);
            long lost = tasks.size() - succeeded - refusedAfterAcceptance.get() - unfinished + journalDisagrees;
            long dropped = nodes.stream().filter(node -> node.ended.isDone()).count();
            long answered = nodes.stream().mapToLong(node -> node.tasksAnswered.get()).sum();
            long told = nodes.stream().mapToLong(node -> node.settingsUpdates.get()).sum();
            int acceptedCount = tasks.size();
            // The soak's own bookkeeping (every handle and result) is let go first: the heap figure is the hub's.
            tasks = null;
            synchronized (accepted) {
                accepted.clear();
            }
            Usage end = Usage.now();

            String report = String.format(java.util.Locale.ROOT, "meshhub soak: %d swaps %s in %.1f s; %d nodes, %d streams dropped;"
                            + " tasks accepted %d (%.0f/s during the swaps), succeeded %d, lost %d (journal disagrees on %d), unfinished %d,"
                            + " refused %d before and %d after acceptance %s; nodes answered %d tasks and were sent %d settings"
                            + " updates; threads %d -> %d, open files %d -> %d, heap after GC %.1f MiB -> %.1f MiB",
                    SWAPS, swapsByKind, seconds, NODES, dropped, acceptedCount, acceptedDuringSwaps / seconds, succeeded, lost,
                    journalDisagrees, unfinished, refusals.values().stream().mapToInt(AtomicInteger::get).sum(),
                    refusedAfterAcceptance.get(), new TreeMap<>(refusals), answered, told, start.threads, end.threads,
                    start.files, end.files, start.heapMiB, end.heapMiB);
            System.out.println(report);
            System.out.println("meshhub soak: thread kinds that grew " + end.grownSince(start) + "; classes loaded "
                    + start.classes + " -> " + end.classes + "; bundles removal pending " + context.getBundle(0)
                    .adapt(org.osgi.framework.wiring.FrameworkWiring.class).getRemovalPendingBundles());
            if (!disagreements.isEmpty()) {
                System.out.println("meshhub soak: the journal disagrees on " + disagreements.subList(0, Math.min(10, disagreements.size())));
            }
            writeReport(Map.of("swaps", SWAPS, "nodes", NODES, "seconds", seconds, "dropped", dropped, "accepted", acceptedCount,
                    "ratePerSecond", acceptedDuringSwaps / seconds,
                    "succeeded", succeeded, "lost", lost, "unfinished", unfinished,
                    "refused", refusals.values().stream().mapToInt(AtomicInteger::get).sum() + refusedAfterAcceptance.get()),
                    start, end, report);

            assertEquals("streams dropped: " + report, 0, dropped);
            assertEquals("tasks left unfinished: " + report, 0, unfinished);
            assertEquals("tasks lost: " + report, 0, lost);
            assertTrue("tasks flowed throughout (>= 50/s): " + report, acceptedDuringSwaps / seconds >= 50);
            assertTrue("threads flat: " + report + "; grown: " + end.grownSince(start), end.threads <= start.threads + 8);
            assertTrue("open files flat: " + report, end.files <= start.files + 8);
            assertTrue("heap after GC flat: " + report, end.heapMiB <= start.heapMiB + 64);
        } finally {
            for (SoakNode node : nodes) {
                node.close();
            }
            scheduler.shutdownNow();
        }
    }

    private final Object dispatching = new Object();
    private boolean loadStopped; // guarded by dispatching

    private void dispatchOne(String node) {
        TaskHandle task;
        synchronized (dispatching) {
            if (loadStopped) {
                return;
            }
            try {
                task = dispatcher.dispatch(node, CommandSpec.argv("echo", "soak"), null);
            } catch (DispatchException e) {
                refusals.computeIfAbsent(e.reason() + ": " + e.getMessage().replaceAll("soak-\\d+ \\(n-[0-9a-f]+\\)", "NODE"),
                        k -> new AtomicInteger()).incrementAndGet();
                return;
            }
            synchronized (accepted) {
                accepted.add(task);
            }
        }
        task.result().whenComplete((result, failure) -> {
            if (failure != null) {
                refusedAfterAcceptance.incrementAndGet();
                refusals.computeIfAbsent("after acceptance: " + failure.getCause(), k -> new AtomicInteger()).incrementAndGet();
            } else {
                outcomes.computeIfAbsent(result.state(), s -> new AtomicInteger()).incrementAndGet();
            }
        });
    }

    private long count(TaskState state) {
        AtomicInteger n = outcomes.get(state);
        return n == null ? 0 : n.get();
    }

    /** Updates a bundle in place from its location and waits until what it offers is back. */
    private void update(String symbolicName) throws Exception {
        Bundle bundle = bundle(symbolicName);
        bundle.update();
        BooleanSupplier back = switch (symbolicName) {
            case "dev.meshhub.policy" -> () -> present(SandboxPolicy.class);
            case "dev.meshhub.monitor" -> () -> present(MeshStatus.class);
            case "dev.meshhub.scheduler" -> () -> present(ManagementScheduler.class);
            case "dev.meshhub.locks" -> () -> present(LockRegistry.class);
            case "dev.meshhub.mirror" -> () -> present(MirrorStore.class);
            case "dev.meshhub.admin" -> () -> HubClient.listens(hub.adminPort);
            case "dev.meshhub.journal" -> () -> present(TaskJournal.class) && present(EnrollmentStore.class);
            default -> throw new IllegalArgumentException(symbolicName);
        };
        Poll.until(symbolicName + " back after its update", PATIENCE, () -> bundle.getState() == Bundle.ACTIVE && back.getAsBoolean());
    }

    /** Live settings (heartbeat, limits, threads) and a connection setting (keepalive: a new listener). */
    private void editTransport(Path cfg, String original, int swap) throws Exception {
        boolean odd = (swap / (BUNDLES.size() + 1)) % 2 == 0;
        String interval = odd ? "250" : String.valueOf(HubTestSupport.HEARTBEAT_INTERVAL_MS);
        HubTestSupport.writeConfig(cfg, original + "\nheartbeatIntervalMs = " + interval + "\ngrpcThreads = " + (odd ? 6 : 4)
                + "\nfileIoThreads = " + (odd ? 3 : 4) + "\nkeepAliveTimeSeconds = " + (odd ? 31 : 30) + "\n");
        awaitHanded("heartbeatIntervalMs", interval);
    }

    private void awaitHanded(String key, String value) {
        for (String component : new String[] {"NodeServer", "session.NodeSessions", "dispatch.Dispatcher", "sync.FileSyncService"}) {
            Poll.until(component + " handed " + key + " = " + value, PATIENCE, () -> value.equals(String.valueOf(
                    HubTestSupport.componentProperty(context, "dev.meshhub.transport.impl." + component, key))));
        }
    }

    /** Null once the journal records {@code state} for the task (waiting until {@code deadline}), else what it records. */
    private String journaled(TaskJournal journal, String taskId, TaskState state, long deadline) {
        while (true) {
            var record = journal.get(taskId).toCompletableFuture().join();
            if (record.map(r -> r.state() == state).orElse(false)) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return taskId + " " + record.map(r -> r.state() + " (" + r.diagnostic() + ")").orElse("not journaled at all");
            }
            sleep(Duration.ofMillis(50));
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

    private boolean present(Class<?> type) {
        return context.getServiceReference(type) != null;
    }

    private <S> S service(Class<S> type) {
        ServiceReference<S> reference = context.getServiceReference(type);
        assertTrue("no " + type.getSimpleName() + " service", reference != null);
        return context.getService(reference);
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void writeReport(Map<String, Object> figures, Usage start, Usage end, String line) throws IOException {
        Properties properties = new Properties();
        figures.forEach((key, value) -> properties.setProperty(key, String.valueOf(value)));
        properties.setProperty("threads.start", String.valueOf(start.threads));
        properties.setProperty("threads.end", String.valueOf(end.threads));
        properties.setProperty("files.start", String.valueOf(start.files));
        properties.setProperty("files.end", String.valueOf(end.files));
        properties.setProperty("heapMiB.start", String.format(java.util.Locale.ROOT, "%.1f", start.heapMiB));
        properties.setProperty("heapMiB.end", String.format(java.util.Locale.ROOT, "%.1f", end.heapMiB));
        properties.setProperty("line", line);
        Path file = Path.of(System.getProperty("meshhub.soak.report", "target/soak-report.properties")).toAbsolutePath();
        Files.createDirectories(file.getParent());
        try (var out = Files.newBufferedWriter(file)) {
            properties.store(out, "HotSwapSoakIT");
        }
    }

    /** Threads, open files and heap after a full GC, of this JVM (the hub and the soak's nodes). */
    private record Usage(int threads, long files, double heapMiB, Map<String, Integer> threadGroups, int classes) {
        /** Thread kinds (names without their numbers) with more threads now than at {@code start}. */
        Map<String, String> grownSince(Usage start) {
            Map<String, String> grown = new TreeMap<>();
            threadGroups.forEach((kind, n) -> {
                int before = start.threadGroups.getOrDefault(kind, 0);
                if (n > before) {
                    grown.put(kind, before + " -> " + n);
                }
            });
            return grown;
        }

        static Usage now() {
            System.gc();
            System.gc();
            double heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
            long files;
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                files = fds.count();
            } catch (IOException e) {
                files = -1;
            }
            Map<String, Integer> groups = new TreeMap<>();
            for (Thread thread : Thread.getAllStackTraces().keySet()) {
                groups.merge(thread.getName().replaceAll("\\d+", "#"), 1, Integer::sum);
            }
            return new Usage(ManagementFactory.getThreadMXBean().getThreadCount(), files, heap, groups,
                    ManagementFactory.getClassLoadingMXBean().getLoadedClassCount());
        }
    }
}
