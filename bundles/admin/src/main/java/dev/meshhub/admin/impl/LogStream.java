package dev.meshhub.admin.impl;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import com.google.protobuf.ByteString;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.proto.v1.ReadTaskOutputRequest;
import dev.meshhub.proto.v1.TaskLogSummary;
import dev.meshhub.proto.v1.TaskOutputChunk;
import dev.meshhub.proto.v1.TaskOutputEvent;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;

/**
 * One ReadTaskOutput call: reads the task's log on an IO thread while gRPC is ready for more (the
 * caller's pace), waits for the log to grow when following a running task, and ends with the log's
 * summary. Every interaction with the call happens under this object's lock; a pump runs at a time.
 */
final class LogStream implements LongCalls.LongCall {

    private final TaskLogs logs;
    private final ReadTaskOutputRequest request;
    private final ServerCallStreamObserver<TaskOutputEvent> out;
    private final Executor io;
    private final Runnable released;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();
    private Runnable onEnd = () -> {
    };
    private TaskLogReader reader; // guarded by this
    private long position; // guarded by this: the next output byte
    private boolean done; // guarded by this

    LogStream(TaskLogs logs, ReadTaskOutputRequest request, ServerCallStreamObserver<TaskOutputEvent> out, Executor io,
              Runnable released) {
        this.logs = logs;
        this.request = request;
        this.out = out;
        this.io = io;
        this.released = released;
        this.position = request.getOffset();
    }

    void onEnd(Runnable action) {
        onEnd = action;
    }

    void start() {
        out.setOnReadyHandler(this::wake);
        out.setOnCancelHandler(() -> end(null));
        wake();
    }

    /** Runs a pump on an IO thread unless one is already due. */
    private void wake() {
        if (ended.get() || !scheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            io.execute(this::pump);
        } catch (RejectedExecutionException stopping) {
            end(Status.UNAVAILABLE.withDescription("the hub's admin API is stopping"));
        }
    }

    private void pump() {
        scheduled.set(false);
        synchronized (this) {
            if (done) {
                return;
            }
            try {
                if (reader == null) {
                    reader = logs.read(request.getTaskId(), request.getOffset());
                }
                while (out.isReady()) {
                    TaskLogReader.Chunk chunk = reader.next();
                    if (chunk == null) {
                        TaskLogInfo info = reader.info();
                        if (request.getFollow() && info.open()) {
                            logs.grown(request.getTaskId(), position).thenRun(this::wake);
                        } else {
                            out.onNext(TaskOutputEvent.newBuilder().setEnd(summary(info)).build());
                            out.onCompleted();
                            finish();
                        }
                        return;
                    }
                    position = chunk.offset() + chunk.data().length;
                    if (wanted(chunk.stream())) {
                        out.onNext(TaskOutputEvent.newBuilder().setOutput(TaskOutputChunk.newBuilder()
                                .setStream(chunk.stream() == TaskOutput.Stream.STDERR
                                        ? dev.meshhub.proto.v1.TaskOutput.Stream.STDERR : dev.meshhub.proto.v1.TaskOutput.Stream.STDOUT)
                                .setOffset(chunk.offset())
                                .setData(ByteString.copyFrom(chunk.data()))).build());
                    }
                }
            } catch (NoSuchFileException e) {
                failLocked(Status.NOT_FOUND.withDescription("the hub holds no output log of task '" + request.getTaskId()
                        + "' (unknown task, a task from before task logs, or its log was removed by retention);"
                        + " the journal's output tail is in 'meshctl task " + request.getTaskId() + "'"));
            } catch (IllegalArgumentException e) {
                failLocked(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
            } catch (IOException | RuntimeException e) {
                failLocked(Status.UNAVAILABLE.withDescription("cannot read the output log of task '" + request.getTaskId()
                        + "': " + e.getMessage()));
            }
        }
    }

    private boolean wanted(TaskOutput.Stream stream) {
        return switch (request.getStreams()) {
            case STDOUT_ONLY -> stream == TaskOutput.Stream.STDOUT;
            case STDERR_ONLY -> stream == TaskOutput.Stream.STDERR;
            default -> true;
        };
    }

    static TaskLogSummary summary(TaskLogInfo info) {
        return TaskLogSummary.newBuilder().setOutputBytes(info.outputBytes()).setLoggedBytes(info.loggedBytes())
                .setTruncated(info.truncated()).setTruncation(info.truncation()).setEnding(info.ending()).setOpen(info.open())
                .build();
    }

    @Override
    public void detach(Status status) {
        end(status);
    }

    /** Ends the call: with {@code status} as its error, or (null) because the caller went away. */
    private void end(Status status) {
        synchronized (this) {
            if (done) {
                return;
            }
            if (status != null) {
                failLocked(status);
            } else {
                finish();
            }
        }
    }

    private void failLocked(Status status) {
        try {
            out.onError(status.asRuntimeException());
        } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
            // the caller went away
        }
        finish();
    }

    private void finish() {
        done = true;
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException ignored) {
                // a read-only handle: nothing to lose
            }
        }
        if (ended.compareAndSet(false, true)) {
            released.run();
            onEnd.run();
        }
    }
}
