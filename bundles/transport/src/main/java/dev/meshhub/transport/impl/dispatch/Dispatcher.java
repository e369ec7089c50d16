package dev.meshhub.transport.impl.dispatch;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
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
import dev.meshhub.server.support.GrpcServers;
import dev.meshhub.server.wire.TaskMessages;
import dev.meshhub.transport.impl.TransportConfig;
import dev.meshhub.transport.impl.TransportConfigCheck;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;
import dev.meshhub.transport.impl.session.SessionListener;

/**
 * The hub's {@link TaskDispatcher}: checks a command against the node's policy, journals it, sends
 * it down the node's stream, and follows it to its end. Never blocks: journal writes complete on the
 * journal's writer thread, node messages arrive on gRPC threads, timers run on its own timer thread.
 *
 * <p>The journal, the enrollment store and the policy are optional, dynamic, greedy references: they
 * are replaced under it without a restart. While no journal is bound new tasks are refused, and the
 * state changes of tasks already running are kept and written once a journal is back
 * ({@link JournalWrites}). A policy change (posted on {@link SandboxPolicy#TOPIC_CHANGED}) or a new
 * policy service is pushed to every connected node. Its limits apply live.
 */
@Component(service = {TaskDispatcher.class, Dispatcher.class, EventHandler.class},
        configurationPid = TransportConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        property = EventConstants.EVENT_TOPIC + "=" + SandboxPolicy.TOPIC_CHANGED)
public final class Dispatcher implements TaskDispatcher, SessionListener, EventHandler {

    private final DispatchFigures figures = new DispatchFigures();

    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    /** Slack the hub gives a node past a task's own timeout and grace before it gives up on it. */
    static final Duration RESULT_SLACK = Duration.ofSeconds(10);

    private final NodeSessions sessions;
    private final ScheduledExecutorService timers;
    private final JournalWrites writes;
    private final TaskOutputs outputs;
    private final PolicyDistribution policies = new PolicyDistribution();
    private final SecureRandom random = new SecureRandom();
    private final TasksInFlight tasks = new TasksInFlight();
    private volatile TaskLimits limits;
    private final Targets targets;

    /** The component: its own timer thread. */
    @Activate
    public Dispatcher(@Reference NodeSessions sessions, TransportConfig config, Map<String, Object> properties) {
        this(sessions, GrpcServers.timer("meshhub-task-timer"), check(config, properties));
    }

    /** Without OSGi (tests): timers supplied, services bound by hand. */
    public Dispatcher(NodeSessions sessions, ScheduledExecutorService timers, TaskLimits limits) {
        this.sessions = sessions;
        this.timers = timers;
        this.limits = limits;
        this.writes = new JournalWrites(timers);
        this.outputs = new TaskOutputs(sessions, writes::journal);
        this.targets = new Targets(sessions);
        sessions.addListener(this);
        timers.scheduleWithFixedDelay(() -> outputs.sweep(tasks.all(), this.limits.outputStall().toNanos()), 1, 1, TimeUnit.SECONDS);
    }

    private static TaskLimits check(TransportConfig config, Map<String, Object> properties) {
        TransportConfigCheck.requireUsable(properties);
        return TaskLimits.of(config);
    }

    @Modified
    void modified(TransportConfig config, Map<String, Object> properties) {
        if (!TransportConfigCheck.usable(properties)) {
            return;
        }
        TaskLimits next = TaskLimits.of(config);
        if (!next.equals(limits)) {
            limits = next;
            LOG.info("task limits now: default timeout {} ms, kill grace {} ms, at most {} pending per node, output window {} bytes,"
                    + " output stall limit {} s", next.defaultTimeout().toMillis(), next.killGrace().toMillis(), next.maxPendingPerNode(),
                    next.outputWindowBytes(), next.outputStall().toSeconds());
        }
    }

    @Deactivate
    void deactivate() {
        sessions.removeListener(this);
        stop("the hub's transport stopped while the task was in flight");
        timers.shutdownNow();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindEnrollmentStore")
    public void bindEnrollmentStore(EnrollmentStore store) {
        targets.bind(store);
    }

    public void unbindEnrollmentStore(EnrollmentStore store) {
        targets.unbind(store);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindTaskJournal")
    public void bindTaskJournal(TaskJournal journal) {
        writes.bind(journal);
    }

    public void unbindTaskJournal(TaskJournal journal) {
        writes.unbind(journal);
    }

    /** The tasks' output logs: optional, dynamic, greedy; a task sent while none runs has no log (its journal tail remains). */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindTaskLogs")
    public void bindTaskLogs(TaskLogs logs) {
        outputs.bind(logs);
    }

    public void unbindTaskLogs(TaskLogs logs) {
        outputs.unbind(logs);
    }

    /**
     * The sandbox policy: optional (with none, nothing is executed), dynamic and greedy, so a newly
     * deployed policy takes over without restarting this component or dropping a stream (STACK.md
     * trap 8). A newly bound policy is pushed to the connected nodes.
     */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindSandboxPolicy", updated = "updatedSandboxPolicy")
    public void bindSandboxPolicy(SandboxPolicy policy) {
        policies.bind(policy);
        pushPoliciesSoon();
    }

    void updatedSandboxPolicy(SandboxPolicy policy) {
        pushPoliciesSoon();
    }

    public void unbindSandboxPolicy(SandboxPolicy policy) {
        policies.unbind(policy);
    }

    @Override
    public void handleEvent(Event event) {
        // A policy changed (SandboxPolicy.TOPIC_CHANGED): push what changed to the connected nodes.
        pushPoliciesSoon();
    }

    private void pushPoliciesSoon() {
        try {
            timers.execute(this::pushPolicies);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // the dispatcher is stopping
        }
    }

    /** Pushes the current policy to every connected node whose policy changed. */
    void pushPolicies() {
        for (NodeSessionHandle session : sessions.liveSessions()) {
            policies.push(session);
        }
    }

    @Override
    public void sessionRegistered(NodeSessionHandle session) {
        policies.push(session);
    }

    /** The wire policy a node runs under now, with a fresh revision (for its handshake). */
    public dev.meshhub.proto.v1.SandboxPolicy currentPolicy(String nodeId, String nodeName) {
        return policies.current(nodeId, nodeName);
    }

    /** State changes waiting for a journal to come back. */
    int journalWritesWaiting() {
        return writes.waiting();
    }

    @Override
    public java.util.Optional<dev.meshhub.api.stats.DispatchStats> stats() {
        return java.util.Optional.of(figures.snapshot());
    }

    @Override
    public TaskHandle dispatch(String node, CommandSpec command, TaskOutputListener output) {
        if (node == null || node.isBlank() || command == null) {
            throw new DispatchException(DispatchException.Reason.INVALID, "name a node (id or name) and a command");
        }
        Targets.Target target = targets.resolve(node);
        SandboxPolicy service = policies.service();
        if (service == null) {
            throw new DispatchException(DispatchException.Reason.NO_POLICY,
                    "no sandbox policy service is active, so nothing is executed (fail closed); start or deploy a policy bundle");
        }
        TaskLimits current = limits;
        CommandTask wire = TaskMessages.toWire(command, current.defaultTimeout(), current.killGrace());
        Optional<PolicyRules.Refusal> refusal = PolicyRules.check(target.label(),
                TaskMessages.toWire(policies.nodePolicy(target.node().nodeId(), target.node().name()), 0), wire);
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
    public TaskHandle dispatchDownload(String node, dev.meshhub.proto.v1.FileDownload download, String summary) {
        Targets.Target target = targets.resolve(node);
        long limit = download.getTimeoutMs() + RESULT_SLACK.toMillis();
        return submit(target, "push", summary, TaskAssignment.newBuilder().setDownload(download), limit, TaskOutputListener.NONE);
    }

    /** Journals the task (as DISPATCHED), and only then sends it down the node's stream. */
    private TaskHandle submit(Targets.Target target, String kind, String summary, TaskAssignment.Builder wire, long resultLimitMs,
                              TaskOutputListener output) {
        TaskJournal taskJournal = writes.journal();
        if (taskJournal == null) {
            throw new DispatchException(DispatchException.Reason.UNAVAILABLE, "the task journal is not available (journal stopped?); retry shortly");
        }
        String nodeId = target.node().nodeId();
        String taskId = "t-" + HexFormat.of().formatHex(nextBytes());
        // Output credit for nodes that understand it; the hub then holds at most one window of this task's output.
        long window = wire.hasCommand() && target.session().outputCredit() ? limits.outputWindowBytes() : 0;
        TaskAssignment assignment = wire.setTaskId(taskId).setOutputWindowBytes(window).build();
        OutputFlow flow = outputs.open(taskId, target.session(), window, output);
        DispatchedTask task = new DispatchedTask(taskId, nodeId, target.node().name(), target.session(), flow, this::cancel);
        tasks.add(task, limits.maxPendingPerNode(), target.label());
        figures.accepted(kind);

        // Journaled DISPATCHED in one write (the profile of benchmark 1: each commit in series is most of a round trip);
        // if the send below fails, the task is journaled FAILED.
        taskJournal.createDispatched(new NewTask(taskId, nodeId, target.node().name(), kind, summary,
                        JournalWrites.withoutSecrets(assignment).toByteArray()))
                .whenComplete((record, failure) -> {
                    if (failure != null) {
                        tasks.forget(task);
                        DispatchException refused = new DispatchException(DispatchException.Reason.UNAVAILABLE,
                                "the journal could not record the task (" + JournalWrites.rootMessage(failure) + "); nothing was sent to the node");
                        task.dispatched.completeExceptionally(refused);
                        task.result.completeExceptionally(refused);
                        return;
                    }
                    // From here on finish() journals the end itself; send() does if it ended before.
                    task.created = true;
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
    private void send(DispatchedTask task, TaskAssignment assignment, long limit) {
        DispatchedTask.Outcome ended = task.outcome();
        if (ended != null) {
            // Ended (cancelled, node lost) while it was being journaled: record that, send nothing.
            writes.transition(task.taskId, ended.state(), ended.exitCode(), ended.diagnostic());
            task.dispatched.complete(null);
            return;
        }
        if (assignment.hasCommand()) {
            outputs.startLog(task);
        }
        if (!task.session.send(HubMessage.newBuilder().setTask(assignment).build())) {
            finish(task, TaskState.FAILED, null, "node " + task.label() + " disconnected before the task could be sent");
            task.dispatched.complete(null);
            return;
        }
        task.dispatched.complete(null);
        task.timer = timers.schedule(() -> finish(task, TaskState.TIMED_OUT, null,
                "no result from node " + task.label() + " within " + limit + " ms; the hub gave up on it"), limit, TimeUnit.MILLISECONDS);
        if (task.isFinished()) {
            // The node answered while the task was being sent: finish() ran before there was a timer to cancel.
            // (timer and the outcome are each written before the other is read, so one side cancels it.)
            task.timer.cancel(false);
        }
        LOG.debug("task {} sent to node {}", task.taskId, task.label());
    }

    /** A node reports that it started a task. A node may only speak for its own tasks. */
    public void started(NodeSessionHandle session, TaskStarted started) {
        DispatchedTask task = ownTask(session, started.getTaskId());
        if (task != null) {
            figures.started(task);
        }
        if (task != null && !task.isFinished()) {
            // For RUNNING the journal keeps the "diagnostic" as the program the node says it ran.
            writes.transition(task.taskId, TaskState.RUNNING, null, started.getProgram());
        }
    }

    /** A chunk of a task's output (gRPC thread): to its log, its caller and the journal's tail, paced by credit. */
    public void output(NodeSessionHandle session, dev.meshhub.proto.v1.TaskOutput chunk) {
        DispatchedTask task = ownTask(session, chunk.getTaskId());
        if (task != null && !task.isFinished()) {
            outputs.arrived(task, chunk);
        }
    }

    public void finished(NodeSessionHandle session, TaskFinished finished) {
        DispatchedTask task = ownTask(session, finished.getTaskId());
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

    private DispatchedTask ownTask(NodeSessionHandle session, String taskId) {
        DispatchedTask task = tasks.get(taskId);
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
    @Override
    public void sessionEnded(NodeSessionHandle session, String cause) {
        List<DispatchedTask> pending = tasks.ofNode(session.nodeId());
        if (pending.isEmpty()) {
            return;
        }
        String diagnostic = "node " + session.name() + " (" + session.nodeId() + ") disconnected: " + cause
                + "; last heartbeat " + session.lastHeard();
        for (DispatchedTask task : pending) {
            if (task.session == session) {
                finish(task, TaskState.FAILED, null, diagnostic);
            }
        }
    }

    @Override
    public boolean cancel(String taskId, String reason) {
        DispatchedTask task = tasks.get(taskId);
        if (task == null || task.isFinished()) {
            return false;
        }
        task.cancel(reason);
        return true;
    }

    private void finish(DispatchedTask task, TaskState state, Integer exitCode, String diagnostic) {
        if (!task.finish(state, exitCode, diagnostic)) {
            return;
        }
        if (task.timer != null) {
            task.timer.cancel(false);
        }
        tasks.forget(task);
        outputs.ended(task, state, exitCode, diagnostic);
        // The end is journaled once the creation is: here if it is already, else by send() when it is.
        // (Both flags are volatile and each side writes its own before reading the other's, so at least
        // one side records the end; a second, identical terminal write changes nothing.)
        if (task.created) {
            writes.transition(task.taskId, state, exitCode, diagnostic);
        }
        task.result.complete(new TaskResult(task.taskId, task.nodeId, state, exitCode, diagnostic == null ? "" : diagnostic));
        // Per task: DEBUG (the journal is the record; an INFO line per task costs throughput).
        LOG.debug("task {} on node {} ended {}{}{}", task.taskId, task.label(), state, exitCode == null ? "" : " (exit " + exitCode + ")",
                diagnostic == null || diagnostic.isEmpty() ? "" : ": " + diagnostic);
    }


    /** Fails every task the hub follows (the transport is stopping). */
    void stop(String diagnostic) {
        for (DispatchedTask task : tasks.all()) {
            finish(task, TaskState.FAILED, null, diagnostic);
        }
    }

    int pendingTasks() {
        return tasks.size();
    }



    /** Cancels a task: before it is sent it simply ends; after, the node is told and has a grace to confirm. */
    private void cancel(DispatchedTask task, String why) {
            if (!task.dispatched.isDone()) {
                finish(task, TaskState.CANCELLED, null, "cancelled before it was sent: " + why);
                return;
            }
            if (!task.session.send(HubMessage.newBuilder().setCancelTask(TaskCancel.newBuilder().setTaskId(task.taskId).setReason(why)).build())) {
                finish(task, TaskState.CANCELLED, null, "cancelled (" + why + "); the node was already gone");
                return;
            }
            // The node ends the process tree and reports CANCELLED; if it never does, the hub records it.
            long wait = limits.killGrace().toMillis() + RESULT_SLACK.toMillis();
            timers.schedule(() -> finish(task, TaskState.CANCELLED, null,
                    "cancel sent (" + why + "); node " + task.label() + " did not confirm within " + wait + " ms"), wait, TimeUnit.MILLISECONDS);
        LOG.info("cancel of task {} sent to node {}: {}", task.taskId, task.label(), why);
    }

}
