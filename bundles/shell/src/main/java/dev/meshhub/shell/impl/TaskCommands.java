package dev.meshhub.shell.impl;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;

/**
 * Gogo commands for work on nodes, in scope {@code mesh}: exec, tasks, task, cancel, policy. They
 * run on the shell's thread, where waiting (bounded) for an answer is fine.
 */
@Component(service = TaskCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=exec",
        "osgi.command.function=tasks",
        "osgi.command.function=task",
        "osgi.command.function=cancel",
        "osgi.command.function=policy"})
public class TaskCommands {

    static final Duration WAIT = Duration.ofSeconds(10);

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskDispatcher dispatcher;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskJournal journal;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile EnrollmentStore enrollmentStore;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile SandboxPolicy sandboxPolicy;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile PolicyAdministration policyAdministration;

    @Descriptor("run a command on a node and show its output live; returns the remote exit code")
    public int exec(CommandSession session,
            @Descriptor("run this line with /bin/sh -c (PERMISSIVE nodes only) instead of an argv")
            @Parameter(names = {"-s", "--shell"}, absentValue = "") String shell,
            @Descriptor("end the task after this long, e.g. 30s, 5m (default: the hub's)")
            @Parameter(names = {"-t", "--timeout"}, absentValue = "") String timeout,
            @Descriptor("the node's id or name") String node,
            @Descriptor("the program and its arguments (after --)") String... argv) throws Exception {
        List<String> args = new ArrayList<>(Arrays.asList(argv));
        if (!args.isEmpty() && args.get(0).equals("--")) {
            args.remove(0);
        }
        CommandSpec command = shell.isEmpty() ? new CommandSpec(args, null, "", null, null) : CommandSpec.shell(shell);
        if (!timeout.isEmpty()) {
            command = command.withTimeout(TtlFormat.parse(timeout));
        }
        // Output arrives on hub threads, where System.out is not this session's: this call's own thread writes it to the
        // session's console (a slow terminal then slows the task, never a hub thread).
        PrintStream console = session.getConsole();
        ConsoleOutput output = new ConsoleOutput(console);
        TaskHandle handle;
        try {
            handle = need(dispatcher, "the task dispatcher (transport)").dispatch(node, command, output);
        } catch (RuntimeException e) {
            output.close();
            throw e;
        }
        CompletableFuture<TaskResult> result = handle.result().toCompletableFuture();
        PrintStream err = console;
        try {
            TaskResult ended = result.get();
            output.close();
            if (ended.exitCode() == null || ended.state() != TaskState.SUCCEEDED && !ended.diagnostic().isEmpty()) {
                err.println(handle.taskId() + " " + ended.state() + (ended.diagnostic().isEmpty() ? "" : ": " + ended.diagnostic()));
            }
            return ended.exitCode() != null ? ended.exitCode() : ended.state() == TaskState.CANCELLED ? 130 : ended.state() == TaskState.TIMED_OUT ? 124 : 1;
        } catch (InterruptedException e) {
            handle.cancel("the shell command was interrupted");
            Thread.currentThread().interrupt();
            return 130;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            output.close();
        }
    }

    @Descriptor("list tasks from the journal, newest first")
    public void tasks(
            @Descriptor("only this node's tasks (id or name)") @Parameter(names = {"-n", "--node"}, absentValue = "") String node,
            @Descriptor("only tasks in this state (queued, dispatched, running, succeeded, failed, cancelled, timed_out)")
            @Parameter(names = {"-s", "--state"}, absentValue = "") String state,
            @Descriptor("at most this many") @Parameter(names = {"-l", "--limit"}, absentValue = "50") int limit) throws Exception {
        String nodeId = node.isEmpty() ? null : findNode(node).nodeId();
        TaskState wanted = state.isEmpty() ? null : parseState(state);
        List<TaskRecord> records = await(need(journal, "the task journal").list(new TaskQuery(nodeId, wanted, limit)).toCompletableFuture());
        PrintStream out = System.out;
        out.printf("%-20s %-16s %-10s %-5s %-20s %s%n", "TASK", "NODE", "STATE", "EXIT", "CREATED", "SUMMARY");
        for (TaskRecord record : records) {
            out.printf("%-20s %-16s %-10s %-5s %-20s %s%n", record.taskId(), record.nodeName(), record.state(),
                    record.exitCode() == null ? "-" : record.exitCode(), time(record.createdAt()), shorten(record.summary(), 60));
        }
    }

    @Descriptor("show one task: state, times, exit code, diagnostic, the tail of its output")
    public void task(@Descriptor("the task id") String taskId) throws Exception {
        Optional<TaskRecord> found = await(need(journal, "the task journal").get(taskId).toCompletableFuture());
        TaskRecord record = found.orElseThrow(() -> new IllegalArgumentException("no task '" + shorten(taskId, 40) + "'"));
        PrintStream out = System.out;
        out.println("task       " + record.taskId());
        out.println("node       " + record.nodeName() + " (" + record.nodeId() + ")");
        out.println("command    " + record.summary());
        out.println("state      " + record.state() + (record.exitCode() == null ? "" : " (exit " + record.exitCode() + ")"));
        out.println("created    " + time(record.createdAt()));
        out.println("dispatched " + time(record.dispatchedAt()));
        out.println("started    " + time(record.startedAt()));
        out.println("finished   " + time(record.finishedAt()));
        if (record.diagnostic() != null && !record.diagnostic().isEmpty()) {
            out.println("diagnostic " + record.diagnostic());
        }
        if (record.outputTail() != null && record.outputTail().length > 0) {
            out.println("output (last " + record.outputTail().length + " bytes):");
            out.println(new String(record.outputTail(), StandardCharsets.UTF_8));
        }
    }

    @Descriptor("cancel a task: the node ends its whole process tree")
    public String cancel(@Descriptor("the task id") String taskId) throws Exception {
        Optional<TaskRecord> found = await(need(journal, "the task journal").get(taskId).toCompletableFuture());
        TaskRecord record = found.orElseThrow(() -> new IllegalArgumentException("no task '" + shorten(taskId, 40) + "'"));
        if (record.state().isTerminal()) {
            throw new IllegalArgumentException("task " + taskId + " has already ended (" + record.state() + ")");
        }
        if (!need(dispatcher, "the task dispatcher (transport)").cancel(taskId, "cancelled from the shell")) {
            throw new IllegalStateException("the hub is not following task " + taskId + " (it may have just ended)");
        }
        return "cancel sent to " + taskId;
    }

    @Descriptor("show a node's sandbox policy, or set its mode (PERMISSIVE needs --confirm)")
    public String policy(
            @Descriptor("confirm PERMISSIVE: the node may then run shell commands")
            @Parameter(names = {"-c", "--confirm"}, presentValue = "true", absentValue = "false") boolean confirm,
            @Descriptor("the node's id or name") String node,
            @Descriptor("strict or permissive (omit to show the policy)") String... mode) throws Exception {
        EnrolledNode target = findNode(node);
        if (mode.length == 0) {
            NodePolicy current = need(sandboxPolicy, "a sandbox policy service (nothing runs without one)").policyFor(target.nodeId(), target.name());
            return target.name() + " (" + target.nodeId() + "): " + current.mode() + ", revision " + current.revision()
                    + ", from " + current.source() + (current.mode() == SandboxMode.STRICT
                            ? ", allowed: " + (current.allowedExecutables().isEmpty() ? "nothing" : String.join(", ", current.allowedExecutables()))
                            : "");
        }
        SandboxMode wanted;
        try {
            wanted = SandboxMode.valueOf(mode[0].toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mode must be strict or permissive, not '" + shorten(mode[0], 20) + "'");
        }
        if (wanted == SandboxMode.PERMISSIVE && !confirm) {
            throw new IllegalArgumentException("PERMISSIVE lets node " + target.name() + " run shell commands; add --confirm to do it");
        }
        PolicyAdministration administration = need(policyAdministration, "a policy service that takes changes");
        if (administration != sandboxPolicy) {
            throw new IllegalStateException("the active sandbox policy takes no changes at run time; change its configuration instead");
        }
        NodePolicy changed = await(administration.setMode(target.nodeId(), target.name(), wanted, confirm, "shell").toCompletableFuture());
        return target.name() + " (" + target.nodeId() + ") is now " + changed.mode() + " (revision " + changed.revision() + ")";
    }

    private EnrolledNode findNode(String node) {
        return need(enrollmentStore, "the enrollment store (journal)").find(node)
                .orElseThrow(() -> new IllegalArgumentException("no node with id or name '" + shorten(node, 60) + "'"));
    }

    static TaskState parseState(String state) {
        try {
            return TaskState.valueOf(state.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown state '" + shorten(state, 20) + "'; use one of " + Arrays.toString(TaskState.values()).toLowerCase(java.util.Locale.ROOT));
        }
    }

    private static <T> T need(T service, String what) {
        if (service == null) {
            throw new IllegalStateException(what + " is not available");
        }
        return service;
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new IllegalStateException("the journal did not answer within " + WAIT.toSeconds() + " s");
        }
    }

    private static String time(Instant instant) {
        return instant == null ? "-" : instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static String shorten(String text, int max) {
        return text == null ? "" : text.length() > max ? text.substring(0, max - 3) + "..." : text;
    }
}
