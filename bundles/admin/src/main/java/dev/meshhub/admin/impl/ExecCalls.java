package dev.meshhub.admin.impl;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import com.google.protobuf.ByteString;

import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskOutputListener;
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
 * finished), paced by the caller's reading. A caller that goes away, or that the dispatcher detaches
 * for reading nothing, leaves the task running (its log keeps the output) unless the request set
 * {@code cancel_on_detach}; the admin API stopping only ends the call.
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
        CallerOutput listener = new CallerOutput(stream, request.getCancelOnDetach());
        TaskHandle handle;
        try {
            handle = dispatcher.dispatch(request.getNode(), command, listener);
        } catch (DispatchException e) {
            Answers.fail(out, ApiStatuses.of(e));
            return;
        } catch (RuntimeException e) {
            Answers.fail(out, Status.UNAVAILABLE.withDescription("the dispatcher failed (" + e.getClass().getSimpleName()
                    + "); retry shortly"));
            return;
        }
        listener.task = handle;
        ExecCall call = new ExecCall(stream, handle, request.getCancelOnDetach());
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
            finished.setOutputBytes(listener.delivered.get());
            stream.send(ExecEvent.newBuilder().setFinished(finished).build());
            stream.complete();
        });
    }

    /**
     * The task's output on its way to the caller: a chunk is taken once it is handed to gRPC, so the
     * caller's reading paces the node. Detached by the dispatcher when the caller takes nothing for the
     * stall limit.
     */
    private static final class CallerOutput implements TaskOutputListener {
        private final ExecStream stream;
        private final boolean cancelOnDetach;
        /** Output bytes queued for the caller (all of them, unless the call ended first). */
        final AtomicLong delivered = new AtomicLong();
        volatile TaskHandle task;

        CallerOutput(ExecStream stream, boolean cancelOnDetach) {
            this.stream = stream;
            this.cancelOnDetach = cancelOnDetach;
        }

        @Override
        public void onOutput(dev.meshhub.api.task.TaskOutput output) {
            onOutput(output, () -> {
            });
        }

        @Override
        public void onOutput(dev.meshhub.api.task.TaskOutput output, Runnable taken) {
            delivered.addAndGet(output.data().length);
            stream.send(ExecEvent.newBuilder()
                    .setOutput(TaskOutput.newBuilder()
                            .setTaskId(output.taskId())
                            .setStream(output.stream() == dev.meshhub.api.task.TaskOutput.Stream.STDERR
                                    ? TaskOutput.Stream.STDERR : TaskOutput.Stream.STDOUT)
                            .setData(ByteString.copyFrom(output.data()))
                            .setSequence(output.sequence()))
                    .build(), taken);
        }

        @Override
        public void onDetached(String reason) {
            TaskHandle handle = task;
            if (cancelOnDetach && handle != null) {
                handle.cancel("the exec caller was detached (cancel on detach): " + reason);
            }
            stream.fail(Status.DEADLINE_EXCEEDED.withDescription("this exec call was detached: " + reason
                    + (cancelOnDetach ? "; the task is being cancelled, as the call asked (cancel on detach)" : "")));
        }
    }

    /** One Exec call and the task it follows. */
    private static final class ExecCall implements LongCalls.LongCall {
        private final ExecStream stream;
        private final TaskHandle task;
        private final boolean cancelOnDetach;
        private volatile boolean detached;

        ExecCall(ExecStream stream, TaskHandle task, boolean cancelOnDetach) {
            this.stream = stream;
            this.task = task;
            this.cancelOnDetach = cancelOnDetach;
        }

        /**
         * The caller went away: nothing waits for it any more; the task runs on (its output goes on to its
         * log) unless the call asked to cancel it on detach.
         */
        void callerCancelled() {
            stream.callerGone();
            if (!detached && cancelOnDetach) {
                task.cancel("the exec caller went away (cancel on detach)");
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
