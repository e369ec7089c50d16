package dev.meshhub.transport.impl;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.PolicyRules;
import dev.meshhub.proto.v1.TaskAssignment;
import dev.meshhub.proto.v1.TaskCancel;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;
import dev.meshhub.server.wire.TaskMessages;

/**
 * The hub's {@link TaskDispatcher}: checks a command against the node's policy, journals it, sends
 * it down the node's stream, and follows it to its end. Never blocks: journal writes complete on the
 * journal's writer thread, node messages arrive on gRPC threads, timers run on the hub's scheduler.
 */
final class Dispatcher implements TaskDispatcher {

    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    /** Slack the hub gives a node past a task's own timeout and grace before it gives up on it. */
    static final Duration RESULT_SLACK = Duration.ofSeconds(10);

    private final Supplier<EnrollmentStore> enrollment;
    private final Supplier<TaskJournal> journal;
    private final Supplier<SandboxPolicy> policy;
    private final NodeSessions sessions;
    private final ScheduledExecutorService timers;
    private final Duration defaultTimeout;
    private final Duration killGrace;
    private final int maxPendingPerNode;
    private final AtomicLong policyRevision = new AtomicLong(System.currentTimeMillis());
    private final SecureRandom random = new SecureRandom();

    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    private final Map<String, Set<Task>> byNode = new ConcurrentHashMap<>();

    Dispatcher(Supplier<EnrollmentStore> enrollment, Supplier<TaskJournal> journal, Supplier<SandboxPolicy> policy,
            NodeSessions sessions, ScheduledExecutorService timers, Duration defaultTimeout, Duration killGrace,
            int maxPendingPerNode) {
        this.enrollment = enrollment;
        this.journal = journal;
        this.policy = policy;
        this.sessions = sessions;
        this.timers = timers;
        this.defaultTimeout = defaultTimeout;
        this.killGrace = killGrace;
        this.maxPendingPerNode = maxPendingPerNode;
    }

    /**
     * The wire policy a node runs under now, with a fresh revision (revisions only grow within a hub
     * process; a node takes the handshake's policy as is and ignores older updates). STRICT with
     * nothing allowed when no policy service is active or it fails.
     */
    dev.meshhub.proto.v1.SandboxPolicy currentPolicy(String nodeId, String nodeName) {
        return TaskMessages.toWire(nodePolicy(nodeId, nodeName), policyRevision.incrementAndGet());
    }

    private NodePolicy nodePolicy(String nodeId, String nodeName) {
        SandboxPolicy service = policy.get();
        if (service == null) {
            return null;
        }
        try {
            return service.policyFor(nodeId, nodeName);
        } catch (RuntimeException e) {
            // A policy that cannot be read means STRICT with nothing allowed.
            LOG.warn("policy service failed for node {}; treating it as STRICT with nothing allowed", nodeId, e);
            return null;
        }
    }

    /** Pushes the current policy to every connected node whose policy changed. */
    void pushPolicies() {
        for (NodeSessionHandle session : sessions.liveSessions()) {
            pushPolicy(session);
        }
    }

    /** Pushes the node's current policy unless the node already has the same one. */
    void pushPolicy(NodeSessionHandle session) {
        NodePolicy now = nodePolicy(session.nodeId(), session.name());
        dev.meshhub.proto.v1.SandboxPolicy sent = session.policySent;
        dev.meshhub.proto.v1.SandboxPolicy next = TaskMessages.toWire(now, 0);
        if (sent != null && sent.getMode() == next.getMode() && sent.getAllowedExecutablesList().equals(next.getAllowedExecutablesList())) {
            return;
        }
        next = next.toBuilder().setRevision(policyRevision.incrementAndGet()).build();
        session.policySent = next;
        if (session.send(HubMessage.newBuilder().setPolicyUpdate(next).build())) {
            LOG.info("policy of node {} ({}) is now {} (revision {})", session.nodeId(), session.name(), next.getMode(), next.getRevision());
        }
    }

    @Override
    public TaskHandle dispatch(String node, CommandSpec command, TaskOutputListener output) {
        if (node == null || node.isBlank() || command == null) {
            throw new DispatchException(DispatchException.Reason.INVALID, "name a node (id or name) and a command");
        }
        Target target = target(node);
        SandboxPolicy service = policy.get();
        if (service == null) {
            throw new DispatchException(DispatchException.Reason.NO_POLICY,
                    "no sandbox policy service is active, so nothing is executed (fail closed); start or deploy a policy bundle");
        }
        CommandTask wire = TaskMessages.toWire(command, defaultTimeout, killGrace);
        Optional<PolicyRules.Refusal> refusal = PolicyRules.check(target.label(),
                TaskMessages.toWire(nodePolicy(target.node().nodeId(), target.node().name()), 0), wire);
        if (refusal.isPresent()) {
            LOG.warn("refused task for node {}: {}", target.label(), refusal.get().message());
            throw new DispatchException(DispatchException.Reason.POLICY_DENIED, refusal.get().message());
        }
        long limit = wire.getTimeoutMs() + (long) wire.getKillGraceMs() + RESULT_SLACK.toMillis();
        return submit(target, "command", command.summary(), TaskAssignment.newBuilder().setCommand(wire), limit, output);
    }

    /**
     * Sends a push: the node fetches the file with the Download RPC and writes it into its workspace.
     * Journaled as kind {@code push}. Not a command, so the policy's command rules do not apply; the
     * node confines the destination to its workspace.
     */
    TaskHandle dispatchDownload(String node, dev.meshhub.proto.v1.FileDownload download, String summary) {
        Target target = target(node);
        long limit = download.getTimeoutMs() + RESULT_SLACK.toMillis();
        return submit(target, "push", summary, TaskAssignment.newBuilder().setDownload(download), limit, TaskOutputListener.NONE);
    }

    /** The node a task is for: enrolled, not revoked, connected. */
    private record Target(EnrolledNode node, NodeSessionHandle session, String label) {
    }

    private Target target(String node) {
        EnrollmentStore store = enrollment.get();
        if (store == null) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the enrollment store is not available (journal stopped?); retry shortly");
        }
        EnrolledNode target;
        try {
            target = store.find(node).filter(n -> !n.revoked()).orElseThrow(() -> new DispatchException(
                    DispatchException.Reason.UNKNOWN_NODE, "no enrolled node with id or name '" + shorten(node) + "'"));
        } catch (DispatchException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the enrollment store is not available; retry shortly", e);
        }
        String label = target.name() + " (" + target.nodeId() + ")";
        NodeSessionHandle session = sessions.live(target.nodeId()).orElseThrow(() -> new DispatchException(
                DispatchException.Reason.NODE_OFFLINE, "node " + label + " is not connected"));
        return new Target(target, session, label);
    }

    /** Journals the task, and only then sends it down the node's stream. */
    private TaskHandle submit(Target target, String kind, String summary, TaskAssignment.Builder wire, long resultLimitMs,
                              TaskOutputListener output) {
        TaskJournal taskJournal = journal.get();
        if (taskJournal == null) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the task journal is not available (journal stopped?); retry shortly");
        }
        String nodeId = target.node().nodeId();
        Set<Task> pending = byNode.computeIfAbsent(nodeId, id -> ConcurrentHashMap.newKeySet());
        if (pending.size() >= maxPendingPerNode) {
            throw new DispatchException(DispatchException.Reason.BUSY, "node " + target.label() + " already has " + pending.size()
                    + " tasks pending (limit " + maxPendingPerNode + "); retry when some have finished");
        }
        String taskId = "t-" + HexFormat.of().formatHex(nextBytes());
        TaskAssignment assignment = wire.setTaskId(taskId).build();
        Task task = new Task(taskId, nodeId, target.node().name(), target.session(), output == null ? TaskOutputListener.NONE : output);
        tasks.put(taskId, task);
        pending.add(task);

        taskJournal.create(new NewTask(taskId, nodeId, target.node().name(), kind, summary, assignment.toByteArray()))
                .whenComplete((record, failure) -> {
                    if (failure != null) {
                        forget(task);
                        DispatchException refused = new DispatchException(DispatchException.Reason.UNAVAILABLE,
                                "the journal could not record the task (" + rootMessage(failure) + "); nothing was sent to the node");
                        task.dispatched.completeExceptionally(refused);
                        task.result.completeExceptionally(refused);
                        return;
                    }
                    send(task, assignment, resultLimitMs);
                });
        return task;
    }

    private byte[] nextBytes() {
        byte[] bytes = new byte[8];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Runs on the journal's thread once the task is durable: only now does it go to the node. */
    private void send(Task task, TaskAssignment assignment, long limit) {
        if (task.isFinished()) {
            // Ended (cancelled, node lost) while it was being journaled: record that, send nothing.
            journalTransition(task, task.finalState, null, task.finalDiagnostic);
            task.dispatched.complete(null);
            return;
        }
        if (!task.session.send(HubMessage.newBuilder().setTask(assignment).build())) {
            finish(task, TaskState.FAILED, null, "node " + task.label() + " disconnected before the task could be sent");
            task.dispatched.complete(null);
            return;
        }
        journalTransition(task, TaskState.DISPATCHED, null, "");
        task.dispatched.complete(null);
        task.timer = timers.schedule(() -> finish(task, TaskState.TIMED_OUT, null,
                "no result from node " + task.label() + " within " + limit + " ms; the hub gave up on it"), limit, TimeUnit.MILLISECONDS);
        LOG.debug("task {} sent to node {}", task.taskId, task.label());
    }

    /** A node reports that it started a task. A node may only speak for its own tasks. */
    void started(NodeSessionHandle session, TaskStarted started) {
        Task task = ownTask(session, started.getTaskId());
        if (task != null && !task.isFinished()) {
            journalTransition(task, TaskState.RUNNING, null, "");
        }
    }

    void output(NodeSessionHandle session, dev.meshhub.proto.v1.TaskOutput chunk) {
        Task task = ownTask(session, chunk.getTaskId());
        if (task == null || task.isFinished()) {
            return;
        }
        byte[] data = chunk.getData().toByteArray();
        TaskOutput output = new TaskOutput(task.taskId,
                chunk.getStream() == dev.meshhub.proto.v1.TaskOutput.Stream.STDERR ? TaskOutput.Stream.STDERR : TaskOutput.Stream.STDOUT,
                data, chunk.getSequence());
        try {
            task.listener.onOutput(output);
        } catch (RuntimeException e) {
            LOG.warn("output listener of task {} failed; output continues to the journal", task.taskId, e);
        }
        TaskJournal taskJournal = journal.get();
        if (taskJournal != null) {
            taskJournal.appendOutput(task.taskId, data).whenComplete((ok, failure) -> {
                if (failure != null) {
                    LOG.debug("output of task {} not journaled: {}", task.taskId, rootMessage(failure));
                }
            });
        }
    }

    void finished(NodeSessionHandle session, TaskFinished finished) {
        Task task = ownTask(session, finished.getTaskId());
        if (task == null) {
            return;
        }
        Integer exitCode = finished.hasExitCode() ? finished.getExitCode() : null;
        switch (finished.getOutcome()) {
            case SUCCEEDED -> finish(task, TaskState.SUCCEEDED, exitCode, finished.getDiagnostic());
            case CANCELLED -> finish(task, TaskState.CANCELLED, exitCode, finished.getDiagnostic());
            case TIMED_OUT -> finish(task, TaskState.TIMED_OUT, exitCode, finished.getDiagnostic());
            case REFUSED -> finish(task, TaskState.FAILED, exitCode, "refused by the node: " + finished.getDiagnostic());
            default -> finish(task, TaskState.FAILED, exitCode, finished.getDiagnostic());
        }
    }

    private Task ownTask(NodeSessionHandle session, String taskId) {
        Task task = tasks.get(taskId);
        if (task == null) {
            LOG.debug("node {} reported on task {}, which the hub is not following", session.nodeId(), taskId);
            return null;
        }
        if (!task.nodeId.equals(session.nodeId())) {
            LOG.warn("node {} reported on task {} of node {}; ignored (a node may only act as itself)", session.nodeId(), taskId, task.nodeId);
            return null;
        }
        return task;
    }

    /**
     * A session ended: every task sent down it fails at once, durably, with a diagnostic naming the
     * node, when it was last heard from, and why the session ended.
     */
    void sessionEnded(NodeSessionHandle session, String cause) {
        Set<Task> pending = byNode.get(session.nodeId());
        if (pending == null) {
            return;
        }
        String diagnostic = "node " + session.name() + " (" + session.nodeId() + ") disconnected: " + cause
                + "; last heartbeat " + session.lastHeard();
        for (Task task : List.copyOf(pending)) {
            if (task.session == session) {
                finish(task, TaskState.FAILED, null, diagnostic);
            }
        }
    }

    @Override
    public boolean cancel(String taskId, String reason) {
        Task task = tasks.get(taskId);
        if (task == null || task.isFinished()) {
            return false;
        }
        task.cancel(reason);
        return true;
    }

    private void finish(Task task, TaskState state, Integer exitCode, String diagnostic) {
        if (!task.finish(state, diagnostic)) {
            return;
        }
        if (task.timer != null) {
            task.timer.cancel(false);
        }
        forget(task);
        if (task.dispatched.isDone()) {
            journalTransition(task, state, exitCode, diagnostic);
        }
        // else: send() records the end once the task's creation is durable.
        task.result.complete(new TaskResult(task.taskId, task.nodeId, state, exitCode, diagnostic == null ? "" : diagnostic));
        // Per task: DEBUG (the journal is the record; an INFO line per task costs throughput).
        LOG.debug("task {} on node {} ended {}{}{}", task.taskId, task.label(), state, exitCode == null ? "" : " (exit " + exitCode + ")",
                diagnostic == null || diagnostic.isEmpty() ? "" : ": " + diagnostic);
    }

    private void forget(Task task) {
        tasks.remove(task.taskId, task);
        Set<Task> pending = byNode.get(task.nodeId);
        if (pending != null) {
            pending.remove(task);
        }
    }

    private void journalTransition(Task task, TaskState state, Integer exitCode, String diagnostic) {
        TaskJournal taskJournal = journal.get();
        if (taskJournal == null) {
            LOG.warn("task {} became {} but the journal is not available to record it", task.taskId, state);
            return;
        }
        taskJournal.transition(task.taskId, state, exitCode, diagnostic == null ? "" : diagnostic).whenComplete((changed, failure) -> {
            if (failure != null) {
                LOG.warn("task {} became {} but the journal could not record it: {}", task.taskId, state, rootMessage(failure));
            }
        });
    }

    /** Fails every task the hub follows (the transport is stopping). */
    void stop(String diagnostic) {
        for (Task task : List.copyOf(tasks.values())) {
            finish(task, TaskState.FAILED, null, diagnostic);
        }
    }

    int pendingTasks() {
        return tasks.size();
    }

    private static String rootMessage(Throwable failure) {
        Throwable t = failure;
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException || t.getMessage() == null)) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static String shorten(String text) {
        return text.length() > 100 ? text.substring(0, 100) + "..." : text;
    }

    /** One task the hub follows until it ends. */
    private final class Task implements TaskHandle {
        final String taskId;
        final String nodeId;
        final String nodeName;
        final NodeSessionHandle session;
        final TaskOutputListener listener;
        final CompletableFuture<Void> dispatched = new CompletableFuture<>();
        final CompletableFuture<TaskResult> result = new CompletableFuture<>();
        final AtomicBoolean finished = new AtomicBoolean();
        volatile TaskState finalState;
        volatile String finalDiagnostic;
        volatile ScheduledFuture<?> timer;

        Task(String taskId, String nodeId, String nodeName, NodeSessionHandle session, TaskOutputListener listener) {
            this.taskId = taskId;
            this.nodeId = nodeId;
            this.nodeName = nodeName;
            this.session = session;
            this.listener = listener;
        }

        boolean finish(TaskState state, String diagnostic) {
            if (!finished.compareAndSet(false, true)) {
                return false;
            }
            finalState = state;
            finalDiagnostic = diagnostic;
            return true;
        }

        boolean isFinished() {
            return finished.get();
        }

        String label() {
            return nodeName + " (" + nodeId + ")";
        }

        @Override
        public String taskId() {
            return taskId;
        }

        @Override
        public String nodeId() {
            return nodeId;
        }

        @Override
        public CompletionStage<Void> dispatched() {
            return dispatched.copy();
        }

        @Override
        public CompletionStage<TaskResult> result() {
            return result.copy();
        }

        @Override
        public void cancel(String reason) {
            if (isFinished()) {
                return;
            }
            String why = reason == null || reason.isBlank() ? "cancelled" : reason;
            if (!dispatched.isDone()) {
                Dispatcher.this.finish(this, TaskState.CANCELLED, null, "cancelled before it was sent: " + why);
                return;
            }
            if (!session.send(HubMessage.newBuilder().setCancelTask(TaskCancel.newBuilder().setTaskId(taskId).setReason(why)).build())) {
                Dispatcher.this.finish(this, TaskState.CANCELLED, null, "cancelled (" + why + "); the node was already gone");
                return;
            }
            // The node ends the process tree and reports CANCELLED; if it never does, the hub records it.
            long wait = killGrace.toMillis() + RESULT_SLACK.toMillis();
            timers.schedule(() -> Dispatcher.this.finish(this, TaskState.CANCELLED, null,
                    "cancel sent (" + why + "); node " + label() + " did not confirm within " + wait + " ms"), wait, TimeUnit.MILLISECONDS);
            LOG.info("cancel of task {} sent to node {}: {}", taskId, label(), why);
        }
    }
}
