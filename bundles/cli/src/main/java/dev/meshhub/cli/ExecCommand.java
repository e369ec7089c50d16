package dev.meshhub.cli;

import dev.meshhub.proto.v1.ArgvCommand;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskOutput;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshctl exec NODE [OPTIONS] -- ARGV...}: runs a command on a node and streams its output
 * live (remote stdout to stdout, remote stderr to stderr, raw bytes); exits with the remote exit
 * code.
 *
 * <p>The Exec call has no deadline (the task's own timeout bounds it) but connecting has one.
 * Output is paced end to end: meshctl reads as fast as its stdout takes it, and the remote process
 * waits when it is slower. Ctrl-C cancels the task (CancelTask), then the call. Exits with the remote
 * exit code only when every byte of output arrived; otherwise with {@link #EXIT_OUTPUT_INCOMPLETE}.
 */
@Command(name = "exec", mixinStandardHelpOptions = true,
        customSynopsis = {"meshctl exec [OPTIONS] NODE -- ARGV...",
            "       meshctl exec [OPTIONS] NODE --shell LINE"},
        description = {"Runs a command on a node and streams its output live.",
            "The remote stdout goes to stdout, the remote stderr to stderr, as produced.",
            "Everything after '--' is the command, passed verbatim (no splitting, no",
            "globbing). Output is paced end to end: a slow reader slows the remote",
            "process, nothing is dropped. Ctrl-C cancels the task."},
        footerHeading = "%n",
        footer = {"Examples:",
            "  meshctl exec web-1 -- uname -a",
            "  meshctl exec web-1 --timeout 5m --cwd build --env CI=1 -- make -j4 test",
            "  meshctl exec web-1 --shell 'ls *.log | wc -l'     (PERMISSIVE nodes only)",
            "",
            "Exit codes: the remote exit code when the command ran and exited and all its output"
                + " arrived; 124 it timed out; 130 it was cancelled (or Ctrl-C); 125 the output did not all arrive"
                + " (the call was detached or cut after the task started: the task may run on, and its whole output"
                + " is on the hub: meshctl task ID --output); 1 the hub refused it (policy, unknown or offline node,"
                + " busy), it could not start, or the hub cannot be reached; 2 usage error."})
final class ExecCommand implements Callable<Integer> {

    /** Like timeout(1). */
    static final int EXIT_TIMED_OUT = 124;
    /** Like a shell's Ctrl-C (128 + SIGINT). */
    static final int EXIT_CANCELLED = 130;
    /** The task started but not all of its output reached meshctl (git and others use 125 for "the tool itself failed"). */
    static final int EXIT_OUTPUT_INCOMPLETE = 125;
    /** How long an interrupt waits for the cancel to reach the hub before the process ends. */
    static final long INTERRUPT_GRACE_SECONDS = 3;
    /** timeout_ms is a uint32. */
    private static final long MAX_TIMEOUT_MS = 0xFFFF_FFFFL;

    @Parameters(index = "0", paramLabel = "NODE", description = "The node's id (n-...) or name.")
    String node;

    @Parameters(index = "1..*", paramLabel = "ARGV",
            description = "The command and its arguments, after '--'; argv[0] is the executable.")
    List<String> argv = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "DURATION", converter = Ttl.Converter.class,
            description = "End the task (whole process tree) after this long: 30s, 5m, 1h"
                    + " (default: the hub's).")
    Duration timeout;

    @Option(names = "--cwd", paramLabel = "DIR",
            description = "Working directory, relative to the node's workspace (default: the workspace).")
    String cwd;

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "Extra environment variable (repeatable).")
    List<String> env = new ArrayList<>();

    @Option(names = "--secret-env", paramLabel = "NAME[=VALUE]",
            description = "An environment variable whose value the hub never stores (the journal keeps only its name)."
                    + " Without =VALUE the value is read from meshctl's own environment, so it is not on any command line"
                    + " (repeatable).")
    List<String> secretEnv = new ArrayList<>();

    @Option(names = "--shell", paramLabel = "LINE",
            description = "Run LINE with /bin/sh -c instead of an argv (only nodes whose policy is PERMISSIVE"
                    + " accept it).")
    String shell;

    @Option(names = "--cancel-on-detach", description = "Cancel the task if this call is detached (it read nothing for the"
            + " hub's stall limit, 60 s by default) or goes away (meshctl killed, connection lost), instead of letting it run on.")
    boolean cancelOnDetach;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ExecRequest request = request();
        MeshCtl root = MeshCtl.root(spec);
        Context.CancellableContext callContext = Context.current().withCancellation();
        AtomicBoolean interrupted = new AtomicBoolean();
        CountDownLatch ended = new CountDownLatch(1);
        Run run = new Run(root, interrupted, callContext);
        try (Interrupts.Registration registration = root.interrupts().register(() -> {
                interrupted.set(true);
                callContext.cancel(null);
                try {
                    ended.await(INTERRUPT_GRACE_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            })) {
            try (AdminClient client = root.connect()) {
                return run.exec(client, request);
            }
        } finally {
            callContext.cancel(null);
            ended.countDown();
        }
    }

    /** Validates the options (usage errors, exit 2) and builds the request. */
    ExecRequest request() {
        CommandLine cl = spec.commandLine();
        if (!argv.isEmpty() && argumentsAfterDelimiter() < argv.size()) {
            throw new CommandLine.ParameterException(cl, "put the command after '--': meshctl exec NODE [OPTIONS]"
                    + " -- ARGV... (unexpected '" + argv.get(0) + "' before '--')");
        }
        if (shell != null && !argv.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "give either --shell LINE or '-- ARGV...', not both");
        }
        if (shell == null && argv.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "nothing to run: add '-- ARGV...' or --shell LINE");
        }
        if (shell != null && shell.isBlank()) {
            throw new CommandLine.ParameterException(cl, "--shell needs a command line");
        }
        if (shell == null && argv.get(0).isEmpty()) {
            throw new CommandLine.ParameterException(cl, "the executable (the first word after '--') is empty");
        }
        CommandTask.Builder command = CommandTask.newBuilder();
        if (shell != null) {
            command.setShellCommand(shell);
        } else {
            command.setArgv(ArgvCommand.newBuilder().addAllArgs(argv));
        }
        if (cwd != null) {
            command.setWorkingDirectory(cwd);
        }
        command.putAllEnvironment(environment(cl));
        command.putAllSecretEnvironment(secretEnvironment(cl, MeshCtl.root(spec).environment()));
        if (timeout != null) {
            long ms = timeout.toMillis();
            if (ms > MAX_TIMEOUT_MS) {
                throw new CommandLine.ParameterException(cl, "--timeout is too long (at most 49d)");
            }
            command.setTimeoutMs((int) ms);
        }
        return ExecRequest.newBuilder().setNode(node).setCommand(command).setCancelOnDetach(cancelOnDetach).build();
    }

    private Map<String, String> environment(CommandLine cl) {
        Map<String, String> vars = new LinkedHashMap<>();
        for (String entry : env) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(cl, "--env wants NAME=VALUE, not '" + entry + "'");
            }
            vars.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return vars;
    }

    private Map<String, String> secretEnvironment(CommandLine cl, Map<String, String> own) {
        Map<String, String> vars = new LinkedHashMap<>();
        for (String entry : secretEnv) {
            int eq = entry.indexOf('=');
            if (eq == 0 || entry.isEmpty()) {
                throw new CommandLine.ParameterException(cl, "--secret-env wants NAME or NAME=VALUE, not '" + entry + "'");
            }
            if (eq > 0) {
                vars.put(entry.substring(0, eq), entry.substring(eq + 1));
            } else if (own.containsKey(entry)) {
                vars.put(entry, own.get(entry));
            } else {
                throw new CommandLine.ParameterException(cl, "--secret-env " + entry + ": " + entry
                        + " is not set in meshctl's environment; export it first, or give NAME=VALUE");
            }
        }
        return vars;
    }

    /** How many arguments followed the first {@code --} on the command line (0 if there was none). */
    private int argumentsAfterDelimiter() {
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        int delimiter = args.indexOf("--");
        return delimiter < 0 ? 0 : args.size() - delimiter - 1;
    }

    /** One exec: the stream, the output and the exit code. */
    private static final class Run {
        private final MeshCtl root;
        private final AtomicBoolean interrupted;
        private final Context.CancellableContext callContext;
        private volatile TaskInfo accepted;
        /** Output bytes written to stdout and stderr. */
        private long received;

        Run(MeshCtl root, AtomicBoolean interrupted, Context.CancellableContext callContext) {
            this.root = root;
            this.interrupted = interrupted;
            this.callContext = callContext;
        }

        int exec(AdminClient client, ExecRequest request) {
            if (!client.awaitConnected(callContext)) {
                return interruptedExit();
            }
            TaskInfo finished = null;
            try {
                Iterator<ExecEvent> events;
                Context previous = callContext.attach();
                try {
                    events = client.unboundedStub().exec(request);
                } finally {
                    callContext.detach(previous);
                }
                while (events.hasNext()) {
                    ExecEvent event = events.next();
                    switch (event.getEventCase()) {
                        case ACCEPTED:
                            accepted = event.getAccepted();
                            break;
                        case OUTPUT:
                            if (!write(event.getOutput())) {
                                callContext.cancel(null);
                                throw new CliException(CliException.FAILED, "cannot write the output (stdout or"
                                        + " stderr closed); cancelled " + taskRef());
                            }
                            break;
                        case FINISHED:
                            finished = event.getFinished();
                            break;
                        default:
                            break; // a newer hub's event: nothing to do with it
                    }
                }
            } catch (StatusRuntimeException e) {
                if (interrupted.get()) {
                    cancelTask(client);
                    return interruptedExit();
                }
                String message = e.getStatus().getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED && e.getStatus().getDescription() != null
                        ? e.getStatus().getDescription() // the hub detached this call; it says why
                        : client.explain(e.getStatus());
                if (accepted == null) {
                    throw new CliException(CliException.FAILED, message, e);
                }
                root.err().println("meshctl: " + message + "; " + taskRef() + " may still be running; " + received
                        + " bytes of its output arrived here, its whole output is on the hub: 'meshctl task "
                        + accepted.getTaskId() + " --output" + (received > 0 ? " --offset " + received : "") + " --follow'");
                return EXIT_OUTPUT_INCOMPLETE;
            }
            if (finished == null) {
                if (interrupted.get()) {
                    cancelTask(client);
                    return interruptedExit();
                }
                if (accepted == null) {
                    throw new CliException(CliException.FAILED, "the hub ended the exec without the task's result");
                }
                root.err().println("meshctl: the hub ended the exec without the task's result; see 'meshctl task "
                        + accepted.getTaskId() + " --output'");
                return EXIT_OUTPUT_INCOMPLETE;
            }
            if (finished.getOutputBytes() != 0 && finished.getOutputBytes() != received) {
                root.err().println("meshctl: only " + received + " of the " + finished.getOutputBytes() + " bytes of output of "
                        + taskRef() + " arrived here; its whole output is on the hub: 'meshctl task " + finished.getTaskId()
                        + " --output'");
                exitCode(finished, root.err());
                return EXIT_OUTPUT_INCOMPLETE;
            }
            return exitCode(finished, root.err());
        }

        /** After Ctrl-C: asks the hub to cancel the task (the call going away alone leaves it running). */
        private void cancelTask(AdminClient client) {
            TaskInfo task = accepted;
            if (task == null) {
                return;
            }
            try {
                client.call(stub -> stub.cancelTask(dev.meshhub.proto.v1.CancelTaskRequest.newBuilder()
                        .setTaskId(task.getTaskId()).setReason("meshctl exec was interrupted (Ctrl-C)").build()));
            } catch (RuntimeException e) {
                root.err().println("meshctl: could not cancel " + taskRef() + " (" + e.getMessage() + "); cancel it with"
                        + " 'meshctl cancel " + task.getTaskId() + "'");
            }
        }

        /** Raw bytes, flushed per chunk; false when the stream is broken (e.g. a closed pipe). */
        private boolean write(TaskOutput output) {
            PrintStream target = output.getStream() == TaskOutput.Stream.STDERR ? root.err() : root.out();
            byte[] data = output.getData().toByteArray();
            received += data.length;
            target.write(data, 0, data.length);
            target.flush();
            return !target.checkError();
        }

        private int interruptedExit() {
            root.err().println("meshctl: interrupted" + (accepted == null ? "" : "; cancelling " + taskRef()));
            root.err().flush();
            return EXIT_CANCELLED;
        }

        private String taskRef() {
            return accepted == null ? "the task" : "task " + accepted.getTaskId();
        }
    }

    /**
     * The exit code for a task's final record: its own exit code when it ran and exited; 130
     * cancelled, 124 timed out; 1 (with the diagnostic on {@code err}) when it failed without one.
     */
    static int exitCode(TaskInfo t, PrintStream err) {
        String task = "task " + t.getTaskId();
        String diagnostic = oneLine(t.getDiagnostic());
        switch (t.getState()) {
            case CANCELLED:
                err.println("meshctl: " + task + " was cancelled" + (diagnostic.isEmpty() ? "" : ": " + diagnostic));
                return EXIT_CANCELLED;
            case TIMED_OUT:
                err.println("meshctl: " + task + " timed out" + (diagnostic.isEmpty() ? "" : ": " + diagnostic));
                return EXIT_TIMED_OUT;
            case SUCCEEDED:
                return t.hasExitCode() && t.getExitCode() >= 0 && t.getExitCode() <= 255 ? t.getExitCode() : 0;
            case FAILED:
                if (t.hasExitCode() && t.getExitCode() > 0 && t.getExitCode() <= 255) {
                    return t.getExitCode();
                }
                if (t.hasExitCode() && t.getExitCode() != 0) {
                    err.println("meshctl: " + task + " exited with " + t.getExitCode() + " (outside 0..255)"
                            + (diagnostic.isEmpty() ? "" : ": " + diagnostic));
                    return CliException.FAILED;
                }
                err.println("meshctl: " + (diagnostic.isEmpty()
                        ? task + " failed (see 'meshctl task " + t.getTaskId() + "')" : diagnostic));
                return CliException.FAILED;
            default:
                err.println("meshctl: the hub reported " + task + " as " + TaskListing.state(t.getState())
                        + " when it ended; see 'meshctl task " + t.getTaskId() + "'");
                return CliException.FAILED;
        }
    }

    /** A diagnostic on one line. */
    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
    }
}
