package dev.meshhub.admin.impl;

import java.util.function.LongSupplier;

import com.google.protobuf.ByteString;

import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskOutput;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;
import dev.meshhub.server.wire.TaskMessages;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * Exec: dispatches a command through {@link TaskDispatcher} and streams it back (accepted, output,
 * finished). Cancelling the call cancels the task; the admin API stopping only ends the call, and the
 * task runs on, journaled as always.
 */
final class ExecCalls {

    private final HubServices services;
    private final LongCalls longCalls;
    private final LongSupplier bufferBytes;

    ExecCalls(HubServices services, LongCalls longCalls, LongSupplier bufferBytes) {
        this.services = services;
        this.longCalls = longCalls;
        this.bufferBytes = bufferBytes;
    }

    void exec(ExecRequest request, StreamObserver<ExecEvent> responseObserver) {
        ServerCallStreamObserver<ExecEvent> out = (ServerCallStreamObserver<ExecEvent>) responseObserver;
        CommandSpec command;
        try {
            command = TaskMessages.fromWire(request.getCommand());
        } catch (IllegalArgumentException e) {
            Answers.fail(out, Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            return;
        }
        TaskDispatcher dispatcher = services.dispatcher();
        if (dispatcher == null) {
            Answers.fail(out, Status.UNAVAILABLE.withDescription("the hub's transport is not running (no TaskDispatcher"
                    + " service: is the meshhub-transport feature started?); retry shortly"));
            return;
        }
        ExecStream stream = new ExecStream(out, bufferBytes.getAsLong());
        TaskHandle handle;
        try {
            handle = dispatcher.dispatch(request.getNode(), command, output -> stream.send(ExecEvent.newBuilder()
                    .setOutput(TaskOutput.newBuilder()
                            .setTaskId(output.taskId())
                            .setStream(output.stream() == dev.meshhub.api.task.TaskOutput.Stream.STDERR
                                    ? TaskOutput.Stream.STDERR : TaskOutput.Stream.STDOUT)
                            .setData(ByteString.copyFrom(output.data()))
                            .setSequence(output.sequence()))
                    .build()));
        } catch (DispatchException e) {
            Answers.fail(out, ApiStatuses.of(e));
            return;
        } catch (RuntimeException e) {
            Answers.fail(out, Status.UNAVAILABLE.withDescription("the dispatcher failed (" + e.getClass().getSimpleName()
                    + "); retry shortly"));
            return;
        }
        ExecCall call = new ExecCall(stream, handle);
        if (!longCalls.add(call)) {
            call.detach(Status.UNAVAILABLE.withDescription("the hub's admin API is stopping"));
        }
        out.setOnCancelHandler(call::callerCancelled);
        handle.dispatched().whenComplete((ignored, failure) -> {
            if (failure == null) {
                stream.send(ExecEvent.newBuilder().setAccepted(TaskInfo.newBuilder()
                        .setTaskId(handle.taskId()).setNodeId(handle.nodeId()).setKind("command").setSummary(command.summary())
                        .setState(dev.meshhub.proto.v1.TaskState.DISPATCHED)).build());
            }
        });
        handle.result().whenComplete((result, failure) -> {
            longCalls.remove(call);
            if (failure != null) {
                Throwable cause = ApiStatuses.unwrap(failure);
                stream.fail(cause instanceof DispatchException e ? ApiStatuses.of(e)
                        : Status.INTERNAL.withDescription("the task failed inside the hub; see the hub log"));
                return;
            }
            TaskInfo.Builder finished = TaskInfo.newBuilder()
                    .setTaskId(result.taskId()).setNodeId(result.nodeId()).setKind("command").setSummary(command.summary())
                    .setState(TaskMessages.toWire(result.state())).setDiagnostic(result.diagnostic());
            if (result.exitCode() != null) {
                finished.setExitCode(result.exitCode());
            }
            stream.send(ExecEvent.newBuilder().setFinished(finished).build());
            stream.complete();
        });
    }

    /** One Exec call and the task it follows. */
    private static final class ExecCall implements LongCalls.LongCall {
        private final ExecStream stream;
        private final TaskHandle task;
        private volatile boolean detached;

        ExecCall(ExecStream stream, TaskHandle task) {
            this.stream = stream;
            this.task = task;
        }

        void callerCancelled() {
            // Only the caller's own cancel stops the task; the API letting go of the call does not.
            if (!detached) {
                task.cancel("the admin's exec call was cancelled");
            }
        }

        @Override
        public void detach(Status status) {
            detached = true;
            stream.fail(status.withDescription(status.getDescription() + "; task " + task.taskId() + " keeps running"
                    + " on node " + task.nodeId() + ": follow it with 'meshctl task " + task.taskId() + "'"));
        }
    }
}
