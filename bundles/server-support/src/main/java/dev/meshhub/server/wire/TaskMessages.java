package dev.meshhub.server.wire;

import java.time.Duration;
import java.time.Instant;

import com.google.protobuf.ByteString;

import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.ArgvCommand;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.SandboxPolicy;
import dev.meshhub.proto.v1.TaskInfo;

/** Conversions between the API's task and policy types and the wire contract, for both gRPC front ends. */
public final class TaskMessages {

    private TaskMessages() {
    }

    public static CommandTask toWire(CommandSpec spec, Duration defaultTimeout, Duration killGrace) {
        CommandTask.Builder command = CommandTask.newBuilder()
                .setWorkingDirectory(spec.workingDirectory())
                .putAllEnvironment(spec.environment())
                .putAllSecretEnvironment(spec.secretEnvironment())
                .setTimeoutMs((int) Math.min(Integer.MAX_VALUE, (spec.timeout() != null ? spec.timeout() : defaultTimeout).toMillis()))
                .setKillGraceMs((int) killGrace.toMillis());
        if (spec.isShell()) {
            command.setShellCommand(spec.shellCommand());
        } else {
            command.setArgv(ArgvCommand.newBuilder().addAllArgs(spec.argv()));
        }
        return command.build();
    }

    public static CommandSpec fromWire(CommandTask command) {
        Duration timeout = command.getTimeoutMs() == 0 ? null : Duration.ofMillis(command.getTimeoutMs());
        return command.getProgramCase() == CommandTask.ProgramCase.SHELL_COMMAND
                ? new CommandSpec(null, command.getShellCommand(), command.getWorkingDirectory(), command.getEnvironmentMap(), timeout,
                        command.getSecretEnvironmentMap())
                : new CommandSpec(command.getArgv().getArgsList(), null, command.getWorkingDirectory(), command.getEnvironmentMap(), timeout,
                        command.getSecretEnvironmentMap());
    }

    /** The wire form of a node's policy; {@code null} (no policy service) is STRICT with nothing allowed. */
    public static SandboxPolicy toWire(NodePolicy policy, long revision) {
        if (policy == null) {
            return SandboxPolicy.newBuilder().setMode(SandboxPolicy.Mode.STRICT).setRevision(revision).build();
        }
        return SandboxPolicy.newBuilder()
                .setMode(policy.mode() == dev.meshhub.api.policy.SandboxMode.PERMISSIVE ? SandboxPolicy.Mode.PERMISSIVE : SandboxPolicy.Mode.STRICT)
                .addAllAllowedExecutables(policy.allowedExecutables())
                .addAllAllowedEnvironment(policy.allowedEnvironment())
                .setRevision(revision)
                .build();
    }

    public static TaskInfo toWire(TaskRecord record) {
        TaskInfo.Builder info = TaskInfo.newBuilder()
                .setTaskId(record.taskId())
                .setNodeId(record.nodeId())
                .setNodeName(nullToEmpty(record.nodeName()))
                .setKind(nullToEmpty(record.kind()))
                .setSummary(nullToEmpty(record.summary()))
                .setState(toWire(record.state()))
                .setCreatedAtMs(millis(record.createdAt()))
                .setDispatchedAtMs(millis(record.dispatchedAt()))
                .setStartedAtMs(millis(record.startedAt()))
                .setFinishedAtMs(millis(record.finishedAt()))
                .setDiagnostic(nullToEmpty(record.diagnostic()))
                .setProgram(nullToEmpty(record.program()))
                // -1: the journal does not know (its log has not ended, the task had none, an older journal).
                .setOutputBytes(record.outputBytes() == null ? -1 : record.outputBytes())
                .setOutputTruncation(nullToEmpty(record.outputTruncation()));
        if (record.exitCode() != null) {
            info.setExitCode(record.exitCode());
        }
        if (record.outputTail() != null) {
            info.setOutputTail(ByteString.copyFrom(record.outputTail()));
        }
        return info.build();
    }

    public static dev.meshhub.proto.v1.TaskState toWire(TaskState state) {
        return switch (state) {
            case QUEUED -> dev.meshhub.proto.v1.TaskState.QUEUED;
            case DISPATCHED -> dev.meshhub.proto.v1.TaskState.DISPATCHED;
            case RUNNING -> dev.meshhub.proto.v1.TaskState.RUNNING;
            case SUCCEEDED -> dev.meshhub.proto.v1.TaskState.SUCCEEDED;
            case FAILED -> dev.meshhub.proto.v1.TaskState.FAILED;
            case CANCELLED -> dev.meshhub.proto.v1.TaskState.CANCELLED;
            case TIMED_OUT -> dev.meshhub.proto.v1.TaskState.TIMED_OUT;
        };
    }

    /** The API state for a wire state; {@code null} for unspecified or unknown values. */
    public static TaskState fromWire(dev.meshhub.proto.v1.TaskState state) {
        return switch (state) {
            case QUEUED -> TaskState.QUEUED;
            case DISPATCHED -> TaskState.DISPATCHED;
            case RUNNING -> TaskState.RUNNING;
            case SUCCEEDED -> TaskState.SUCCEEDED;
            case FAILED -> TaskState.FAILED;
            case CANCELLED -> TaskState.CANCELLED;
            case TIMED_OUT -> TaskState.TIMED_OUT;
            default -> null;
        };
    }

    private static long millis(Instant instant) {
        return instant == null ? 0 : instant.toEpochMilli();
    }

    private static String nullToEmpty(String text) {
        return text == null ? "" : text;
    }
}
