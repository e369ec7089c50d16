package dev.meshhub.node;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.ArgvCommand;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.SandboxPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.rules.ExternalResource;
import org.junit.rules.TemporaryFolder;

/**
 * Shared setup of the task tests: a {@link FakeHub}, a workspace, one agent connected under a
 * chosen policy, the agent's log lines, and builders for commands and policies.
 */
final class TaskHarness extends ExternalResource {

    final FakeHub hub = new FakeHub();
    final TemporaryFolder tmp = new TemporaryFolder();
    Path workspace;
    private Path state;
    NodeAgent agent;

    private final List<String> log = new ArrayList<>();
    // Held strongly: LogManager keeps loggers weakly, and a collected logger loses its handler.
    private final Logger agentLogger = Logger.getLogger("dev.meshhub.node");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (log) {
                log.add(record.getLevel() + " " + record.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @Override
    protected void before() throws Throwable {
        tmp.create();
        hub.start();
        workspace = tmp.newFolder("ws").toPath();
        state = tmp.getRoot().toPath().resolve("state");
        agentLogger.addHandler(capture);
    }

    @Override
    protected void after() {
        agentLogger.removeHandler(capture);
        if (agent != null) {
            agent.close();
        }
        try {
            hub.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tmp.delete();
    }

    /** Starts an agent (enrolling with the hub's token) under {@code policy}; returns its stream after Hello. */
    FakeHub.NodeStream connect(SandboxPolicy policy) throws InterruptedException {
        return connect(policy, b -> { });
    }

    FakeHub.NodeStream connect(SandboxPolicy policy, Consumer<NodeAgentConfig.Builder> tweak)
            throws InterruptedException {
        hub.policy = policy;
        NodeAgentConfig.Builder config = NodeAgentConfig.builder(hub.address(), workspace).verification(HubVerification.plaintext())
                .stateDirectory(state)
                .inviteToken(FakeHub.TOKEN)
                .agentVersion("test-1")
                .backoff(() -> new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), new Random(7)::nextDouble));
        tweak.accept(config);
        agent = new NodeAgent(config.build());
        agent.start();
        FakeHub.NodeStream stream = nextStream();
        if (hub.manualInbound) {
            stream.request(1);
        }
        assertTrue("first message must be Hello", stream.next().hasHello());
        return stream;
    }

    FakeHub.NodeStream nextStream() throws InterruptedException {
        FakeHub.NodeStream s = hub.streams.poll(Await.DEADLINE_MS, TimeUnit.MILLISECONDS);
        assertNotNull("the node opened no TaskStream", s);
        return s;
    }

    /** The agent's state directory (outside the workspace). */
    Path state() {
        return state;
    }

    Path file(String relative) {
        return workspace.resolve(relative);
    }

    Path newFolder(String name) throws IOException {
        return tmp.newFolder(name).toPath();
    }

    boolean logged(String fragment) {
        synchronized (log) {
            return log.stream().anyMatch(line -> line.contains(fragment));
        }
    }

    String logText() {
        synchronized (log) {
            return String.join("\n", log);
        }
    }

    // ---- builders ----

    static SandboxPolicy strict(long revision, String... allowed) {
        return SandboxPolicy.newBuilder().setMode(SandboxPolicy.Mode.STRICT).setRevision(revision)
                .addAllAllowedExecutables(List.of(allowed)).build();
    }

    static SandboxPolicy permissive(long revision) {
        return SandboxPolicy.newBuilder().setMode(SandboxPolicy.Mode.PERMISSIVE).setRevision(revision).build();
    }

    static CommandTask.Builder argv(String... args) {
        return CommandTask.newBuilder().setArgv(ArgvCommand.newBuilder().addAllArgs(List.of(args)));
    }

    static CommandTask.Builder shell(String line) {
        return CommandTask.newBuilder().setShellCommand(line);
    }

    /**
     * A script that starts two background sleeps, prints their pids (one per line) and waits: a
     * process tree of three, whose members the test can check by pid.
     */
    static CommandTask.Builder treeOfThree(String prefix) {
        return shell(prefix + "sleep 300 & echo $!; sleep 300 & echo $!; wait");
    }

    // ---- process checks ----

    static boolean running(long pid) {
        return ProcessHandle.of(pid).map(ProcessTree::isRunning).orElse(false);
    }

    /** Waits until none of the processes runs any more (a zombie counts as ended). */
    static void awaitGone(List<Long> pids) throws InterruptedException {
        Await.until("processes " + pids + " are gone", () -> pids.stream().noneMatch(TaskHarness::running));
    }

    /** The task's pid and the pids it printed. */
    static List<Long> treePids(TaskRun run) {
        List<Long> pids = new ArrayList<>();
        pids.add(run.started().getPid());
        pids.addAll(run.printedPids());
        return pids;
    }

    static void assertAllRunning(List<Long> pids) {
        for (long pid : pids) {
            assertTrue("pid " + pid + " of the task should be running", running(pid));
        }
    }
}
