package dev.meshhub.node;

import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.FileDownload;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.OutputCredit;
import dev.meshhub.proto.v1.PolicyRules;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.TaskAssignment;
import dev.meshhub.proto.v1.TaskCancel;
import dev.meshhub.proto.v1.TaskFinished;
import io.grpc.Channel;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the tasks the hub assigns to this node, under the node's sandbox policy.
 *
 * <p>For each assignment: the policy check ({@link PolicyRules}, the same rules as the hub's),
 * the {@linkplain WorkingDirectory working directory} check, the concurrency limit, then the
 * process, started directly from its argv (a shell only for a shell command, which only a
 * PERMISSIVE policy lets through), with the agent's environment plus the task's variables (and
 * {@value ProcessTree#MARKER_VARIABLE}, which lets its process tree be found) and stdin from
 * {@code /dev/null}. Every outcome, refusals included, is one {@code TaskFinished}.
 *
 * <p>A DOWNLOAD assignment (a file the hub pushes) is allowed under either policy; only the
 * {@linkplain WorkingDirectory#resolveDestination destination rules} apply. It counts towards the
 * concurrency limit and is fetched by a {@link RunningDownload} on a thread of its own, cancelled and
 * timed out like a command.
 *
 * <p>Threading: all methods but {@link #close()} run on the agent's thread, which owns the stream.
 * Process trees are searched and signalled on this supervisor's own process-control thread
 * ({@code meshnode-tasks-N}), so that neither the process table scans nor the grace periods ever
 * hold up the stream. Output is read by two threads per task ({@link OutputPump}), a download
 * runs on one.
 */
final class TaskSupervisor implements AutoCloseable {

    /** Grace between SIGTERM and SIGKILL when the assignment sets none. */
    static final long DEFAULT_KILL_GRACE_MS = 5_000;
    /** Largest grace a task may ask for. */
    static final long MAX_KILL_GRACE_MS = 60_000;
    /** Largest grace when the agent itself stops: it should not linger. */
    static final long SHUTDOWN_KILL_GRACE_MS = 5_000;
    /** How often running trees are searched for new descendants (see {@link ProcessTree}). */
    static final long TRACK_INTERVAL_MS = 1_000;
    /** How many finished task ids are remembered to recognise a repeated assignment. */
    static final int REMEMBERED_TASK_IDS = 4_096;

    private static final Logger LOG = Logger.getLogger(TaskSupervisor.class.getName());
    private static final File NO_INPUT = new File(File.separatorChar == '\\' ? "NUL" : "/dev/null");

    private final Path workspace;
    private final Path stateDirectory;
    private final List<Path> privateDirectories;
    private final Confinement confinement;
    private final int maxTasks;
    private final long defaultTimeoutMs;
    private final ScheduledExecutorService scheduler;
    private final Executor serial;
    /** Process-control thread: tree searches, signals, grace waits. */
    private final ScheduledThreadPoolExecutor control;
    /** Trees of running or ending tasks, for the periodic search. */
    private final Set<ProcessTree> trees = ConcurrentHashMap.newKeySet();
    /** Trees being ended, so that {@link #close()} can wait for them. */
    private final Set<CompletableFuture<ProcessTree.Ending>> endings = ConcurrentHashMap.newKeySet();
    /** Download threads still at work, so that {@link #close()} can wait until they removed their temporary files. */
    private final Set<CompletableFuture<Void>> downloads = ConcurrentHashMap.newKeySet();

    // Confined to the agent's thread.
    private SandboxPolicy policy;
    private final Map<String, SupervisedTask> running = new LinkedHashMap<>();
    private final Map<String, Boolean> seen = new LinkedHashMap<>(64, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_TASK_IDS;
        }
    };

    /**
     * @param scheduler the agent's single thread, on which every method but {@link #close()} is
     *                  called
     * @param serial    hands work to that thread, dropping it once the agent is closed
     * @param instance  number of the agent, for thread names
     */
    TaskSupervisor(NodeAgentConfig config, ScheduledExecutorService scheduler, Executor serial, int instance) {
        this.workspace = config.workspace();
        this.stateDirectory = config.stateDirectory();
        this.privateDirectories = config.privateDirectories();
        this.confinement = Confinement.detect(config.confinement(), StrictLaunch.DEFAULT_TRUSTED_DIRECTORIES);
        this.maxTasks = config.maxTasks();
        this.defaultTimeoutMs = config.defaultTaskTimeout().toMillis();
        this.scheduler = scheduler;
        this.serial = serial;
        this.control = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "meshnode-tasks-" + instance);
            t.setDaemon(true);
            return t;
        });
        control.setRemoveOnCancelPolicy(true);
        if (!ProcessTree.MARKER_SEARCH) {
            // Without /proc, orphans can only be found if they were seen while their parent lived.
            control.scheduleWithFixedDelay(this::trackTrees, TRACK_INTERVAL_MS, TRACK_INTERVAL_MS,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** How STRICT tasks are confined here (said in the Hello). */
    Confinement confinement() {
        return confinement;
    }

    // ---- policy ----

    /** The policy from the handshake: the hub's current word, taken whatever its revision. */
    void policyFromHandshake(SandboxPolicy handshake) {
        boolean changed = policy == null || !policy.equals(handshake);
        policy = handshake;
        LOG.log(changed ? Level.INFO : Level.FINE, "policy now " + describe(handshake));
    }

    /** A policy_update: replaces the policy only when its revision is higher. */
    void policyUpdate(SandboxPolicy update) {
        if (policy != null && update.getRevision() <= policy.getRevision()) {
            LOG.info("ignoring a stale policy update " + describe(update) + "; this node already has revision "
                    + policy.getRevision());
            return;
        }
        policy = update;
        LOG.info("policy now " + describe(update));
    }

    /** STRICT or PERMISSIVE (revision N); an unset mode counts as STRICT. */
    static String describe(SandboxPolicy p) {
        return (PolicyRules.isStrict(p) ? "STRICT" : "PERMISSIVE") + " (revision " + p.getRevision() + ")";
    }

    // ---- tasks ----

    /**
     * Checks and starts an assigned task; every outcome but "ignored" is reported to {@code out}.
     *
     * @param hub the channel to the hub with the node's credential header, for the file a DOWNLOAD
     *            task fetches
     */
    void assign(TaskAssignment assignment, String nodeLabel, OutboundQueue out, Channel hub) {
        String id = assignment.getTaskId();
        if (id.isEmpty()) {
            LOG.warning("ignoring a task assignment without a task id");
            return;
        }
        if (running.containsKey(id) || seen.containsKey(id)) {
            LOG.warning("ignoring a repeated assignment of task " + shorten(id, 60) + " (already "
                    + (running.containsKey(id) ? "running" : "handled") + ")");
            return;
        }
        seen.put(id, Boolean.TRUE);
        if (assignment.getKindCase() == TaskAssignment.KindCase.DOWNLOAD) {
            download(id, assignment.getDownload(), nodeLabel, out, hub);
            return;
        }
        if (assignment.getKindCase() != TaskAssignment.KindCase.COMMAND) {
            fail(out, id, TaskFinished.Outcome.FAILED, "this node agent cannot run this kind of task ("
                    + assignment.getKindCase() + "); upgrade meshnode on node " + nodeLabel);
            return;
        }
        CommandTask command = assignment.getCommand();
        long window = assignment.getOutputWindowBytes();
        Optional<PolicyRules.Refusal> refusal = PolicyRules.check(nodeLabel, policy, command);
        boolean shell = command.getProgramCase() == CommandTask.ProgramCase.SHELL_COMMAND;
        if (refusal.isEmpty() && shell && PolicyRules.isStrict(policy)) {
            // PolicyRules refuses this already; kept so no change there can ever start a shell in STRICT.
            refusal = Optional.of(new PolicyRules.Refusal(PolicyRules.NO_SHELL, "node " + nodeLabel
                    + " runs under STRICT policy; shell commands are not allowed (rule " + PolicyRules.NO_SHELL + ")"));
        }
        if (refusal.isPresent()) {
            fail(out, id, TaskFinished.Outcome.REFUSED, refusal.get().message());
            return;
        }
        Path directory;
        try {
            directory = WorkingDirectory.resolve(workspace, command.getWorkingDirectory(), nodeLabel);
        } catch (WorkingDirectory.Refused e) {
            fail(out, id, TaskFinished.Outcome.REFUSED, e.getMessage());
            return;
        } catch (IOException e) {
            fail(out, id, TaskFinished.Outcome.FAILED, "node " + nodeLabel + " cannot use its workspace "
                    + workspace + ": " + e);
            return;
        }
        if (running.size() >= maxTasks) {
            fail(out, id, TaskFinished.Outcome.FAILED, "node is busy: " + running.size() + " tasks running");
            return;
        }

        List<String> argv = shell ? List.of("/bin/sh", "-c", command.getShellCommand()) : command.getArgv().getArgsList();
        String program = shorten(argv.get(0), 60);
        String marker = UUID.randomUUID().toString();
        StrictLaunch strict = null;
        if (PolicyRules.isStrict(policy)) {
            try {
                Map<String, String> variables = new LinkedHashMap<>(command.getEnvironmentMap());
                variables.putAll(command.getSecretEnvironmentMap());
                strict = StrictLaunch.of(nodeLabel, argv, variables, policy.getTrustedDirectoriesList(), workspace,
                        directory, privateDirectories, confinement, Map.entry(ProcessTree.MARKER_VARIABLE, marker));
            } catch (StrictLaunch.Refused e) {
                fail(out, id, TaskFinished.Outcome.REFUSED, e.getMessage());
                return;
            } catch (IOException e) {
                fail(out, id, TaskFinished.Outcome.FAILED, "cannot start '" + program + "': " + e.getMessage());
                return;
            }
            program = strict.program().toString();
        }
        Process process;
        try {
            ProcessBuilder builder = new ProcessBuilder(strict != null ? strict.command() : argv)
                    .directory(directory.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(NO_INPUT));
            if (strict != null) {
                // STRICT: exactly the environment StrictLaunch built, nothing of the agent's own.
                builder.environment().clear();
                builder.environment().putAll(strict.environment());
            } else {
                builder.environment().putAll(command.getEnvironmentMap());
                builder.environment().putAll(command.getSecretEnvironmentMap());
            }
            // Set last so a task cannot choose it; it lets the tree be found again (ProcessTree).
            builder.environment().put(ProcessTree.MARKER_VARIABLE, marker);
            process = builder.start();
        } catch (IOException | RuntimeException e) {
            fail(out, id, TaskFinished.Outcome.FAILED, "cannot start '" + program + "': " + startFailure(e));
            return;
        }
        long timeoutMs = command.getTimeoutMs() != 0 ? Integer.toUnsignedLong(command.getTimeoutMs()) : defaultTimeoutMs;
        long graceMs = command.getKillGraceMs() != 0
                ? Math.min(Integer.toUnsignedLong(command.getKillGraceMs()), MAX_KILL_GRACE_MS)
                : DEFAULT_KILL_GRACE_MS;
        RunningTask task = new RunningTask(id, program, process, marker, out, CreditGate.of(window), timeoutMs, graceMs, this,
                scheduler, serial);
        running.put(id, task);
        trees.add(task.tree());
        task.start();
        LOG.info("task " + shorten(id, 60) + ": started '" + program + "' as pid " + process.pid() + " in "
                + directory + " (" + (shell ? "shell" : strict == null ? "argv" : "argv, " + confinement.description())
                + ", timeout " + timeoutMs + " ms)");
    }

    /** Starts fetching a file the hub pushes; the destination is checked on the download's thread. */
    private void download(String id, FileDownload download, String nodeLabel, OutboundQueue out, Channel hub) {
        Optional<String> problem = FileDownloader.problem(download);
        if (problem.isPresent()) {
            fail(out, id, TaskFinished.Outcome.FAILED, problem.get() + "; node " + nodeLabel + " cannot download it");
            return;
        }
        if (running.size() >= maxTasks) {
            fail(out, id, TaskFinished.Outcome.FAILED, "node is busy: " + running.size() + " tasks running");
            return;
        }
        long timeoutMs = download.getTimeoutMs() != 0 ? Integer.toUnsignedLong(download.getTimeoutMs()) : defaultTimeoutMs;
        RunningDownload task = new RunningDownload(id, download, workspace, stateDirectory, nodeLabel, hub, out, timeoutMs, this,
                scheduler, serial);
        running.put(id, task);
        CompletableFuture<Void> ended = task.threadEnded();
        downloads.add(ended);
        ended.whenComplete((v, t) -> downloads.remove(ended));
        task.start();
    }

    /** An OutputCredit: more room for a running task's output; for tasks not running here, ignored. */
    void credit(OutputCredit credit) {
        if (running.get(credit.getTaskId()) instanceof RunningTask task) {
            task.credit(credit.getBytes());
        }
    }

    /** A TaskCancel: ends the task (a process tree, a download); unknown or finished tasks are ignored. */
    void cancel(TaskCancel cancel) {
        SupervisedTask task = running.get(cancel.getTaskId());
        if (task == null) {
            LOG.info("ignoring a cancel of task " + shorten(cancel.getTaskId(), 60)
                    + ", which is not running on this node");
            return;
        }
        String reason = cancel.getReason().isBlank() ? "cancelled by the hub"
                : "cancelled by the hub: " + shorten(cancel.getReason(), 200);
        task.stop(TaskFinished.Outcome.CANCELLED, reason);
    }

    /**
     * The session ended: no result can be reported any more, so every running task's process tree
     * is ended (the hub fails those tasks on its side).
     *
     * @param maxGraceMs cap on the grace between SIGTERM and SIGKILL
     */
    void abandonAll(String why, long maxGraceMs) {
        if (running.isEmpty()) {
            return;
        }
        LOG.warning(why + ": ending " + running.size() + (running.size() == 1 ? " running task" : " running tasks")
                + " whose results can no longer be reported (" + String.join(", ", shortIds()) + ")");
        for (SupervisedTask task : List.copyOf(running.values())) {
            task.abandon(maxGraceMs);
        }
        running.clear();
    }

    /** Called by a task once it reported its result. */
    void finished(RunningTask task, TaskFinished result) {
        // A tree that was ended left the set when its ending completed; stop searching a finished one.
        trees.remove(task.tree());
        finished((SupervisedTask) task, result);
    }

    /** Called by a task once it reported its result. */
    void finished(SupervisedTask task, TaskFinished result) {
        running.remove(task.id());
        LOG.info("task " + shorten(task.id(), 60) + " finished: " + result.getOutcome()
                + (result.hasExitCode() ? " (exit code " + result.getExitCode() + ")" : "")
                + (result.getDiagnostic().isEmpty() ? "" : ": " + result.getDiagnostic()));
    }

    /** Ends a tree on the process-control thread (see {@link ProcessTree#end}). */
    CompletableFuture<ProcessTree.Ending> endTree(ProcessTree tree, long graceMs) {
        CompletableFuture<ProcessTree.Ending> ending;
        try {
            ending = tree.end(graceMs, control);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
        endings.add(ending);
        ending.whenComplete((result, failure) -> {
            endings.remove(ending);
            trees.remove(tree);
        });
        return ending;
    }

    /**
     * Waits (on the caller's thread, never the agent's) until the trees being ended are gone and the
     * abandoned downloads removed their temporary files, at most the shutdown grace plus a margin;
     * then kills whatever is left and stops the process-control thread. Call after
     * {@link #abandonAll}.
     */
    @Override
    public void close() {
        try {
            List<CompletableFuture<?>> waits = new ArrayList<>(endings);
            waits.addAll(downloads);
            CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new))
                    .get(SHUTDOWN_KILL_GRACE_MS + 1_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.log(Level.FINE, "waiting for task process trees to end", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!trees.isEmpty()) {
            try {
                control.submit(() -> {
                    for (ProcessTree tree : trees) {
                        int killed = tree.signal(true);
                        if (killed > 0) {
                            LOG.warning("killed " + killed + " remaining processes of pid " + tree.rootPid());
                        }
                    }
                }).get(5, TimeUnit.SECONDS);
            } catch (RejectedExecutionException | TimeoutException | ExecutionException e) {
                LOG.log(Level.WARNING, "could not kill the remaining task processes", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        control.shutdownNow();
    }

    // ---- helpers ----

    private void trackTrees() {
        for (ProcessTree tree : trees) {
            try {
                tree.track();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "searching the process tree of pid " + tree.rootPid(), e);
            }
        }
    }

    private void fail(OutboundQueue out, String id, TaskFinished.Outcome outcome, String diagnostic) {
        LOG.log(outcome == TaskFinished.Outcome.REFUSED ? Level.WARNING : Level.INFO,
                "task " + shorten(id, 60) + " " + outcome + ": " + diagnostic);
        out.add(NodeMessage.newBuilder()
                .setTaskFinished(TaskFinished.newBuilder().setTaskId(id).setOutcome(outcome).setDiagnostic(diagnostic))
                .build());
    }

    /** The operating system's reason, e.g. "No such file or directory". */
    static String startFailure(Exception e) {
        if (e instanceof IllegalArgumentException) {
            // ProcessBuilder quotes the offending value, which may be a secret: do not pass it on.
            return "an environment variable or argument holds a character the system does not allow (NUL or '=')";
        }
        Throwable reason = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause() : e;
        String message = reason.getMessage() == null ? reason.getClass().getSimpleName() : reason.getMessage();
        return message.replaceFirst("^error=\\d+, ", "");
    }

    private List<String> shortIds() {
        List<String> ids = new ArrayList<>();
        for (String id : running.keySet()) {
            if (ids.size() == 10) {
                ids.add("...");
                break;
            }
            ids.add(shorten(id, 40));
        }
        return ids;
    }

    /** Printable and at most {@code max} characters, for logs and diagnostics. */
    static String shorten(String text, int max) {
        StringBuilder b = new StringBuilder(Math.min(text.length(), max + 3));
        for (int i = 0; i < text.length() && b.length() < max; i++) {
            char c = text.charAt(i);
            b.append(c < ' ' || c == 0x7f ? '?' : c);
        }
        if (text.length() > max) {
            b.append("...");
        }
        return b.toString();
    }
}
