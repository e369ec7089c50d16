package dev.meshhub.admin.impl;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.proto.v1.ReadTaskOutputRequest;
import dev.meshhub.proto.v1.TaskOutputEvent;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.GrpcServers;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * ReadTaskOutput: a task's log from the task-logs bundle, streamed as fast as the caller reads, and
 * followed while the task runs. Reading the disk happens on this class's own threads, never on a gRPC
 * thread; at most {@value #MAX_READS} reads run at once (more are refused with RESOURCE_EXHAUSTED).
 */
final class OutputCalls {

    static final int MAX_READS = 16;

    private final HubServices services;
    private final LongCalls longCalls;
    private final AtomicInteger reading = new AtomicInteger();
    private final Executor io;

    /** @param io the threads that read logs (the admin server's, shut down when it stops) */
    OutputCalls(HubServices services, LongCalls longCalls, Executor io) {
        this.services = services;
        this.longCalls = longCalls;
        this.io = io;
    }

    /** Threads for log reads: idle ones end after 10 s, so a hub nobody reads logs from holds none. */
    static ThreadPoolExecutor threads() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(4, 4, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                GrpcServers.threads("meshhub-admin-log-read"));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    void read(ReadTaskOutputRequest request, StreamObserver<TaskOutputEvent> out) {
        if (request.getTaskId().isBlank()) {
            Answers.fail(out, Status.INVALID_ARGUMENT.withDescription("name a task (task_id); list tasks with 'meshctl tasks'"));
            return;
        }
        if (request.getOffset() < 0) {
            Answers.fail(out, Status.INVALID_ARGUMENT.withDescription("offset must be 0 or more (an output byte), not "
                    + request.getOffset()));
            return;
        }
        TaskLogs logs = services.taskLogs();
        if (logs == null) {
            Answers.fail(out, Status.FAILED_PRECONDITION.withDescription("the hub keeps no task logs (no task-logs bundle runs:"
                    + " start the meshhub-task-logs feature); the journal's output tail is in 'meshctl task "
                    + request.getTaskId() + "'"));
            return;
        }
        if (reading.incrementAndGet() > MAX_READS) {
            reading.decrementAndGet();
            Answers.fail(out, Status.RESOURCE_EXHAUSTED.withDescription(MAX_READS + " task logs are being read already;"
                    + " retry shortly"));
            return;
        }
        LogStream stream = new LogStream(logs, request, (ServerCallStreamObserver<TaskOutputEvent>) out, io, reading::decrementAndGet);
        stream.onEnd(() -> longCalls.remove(stream));
        if (!longCalls.add(stream)) {
            stream.detach(Status.UNAVAILABLE.withDescription("the hub's admin API is stopping"));
            return;
        }
        stream.start();
    }

    int reading() {
        return reading.get();
    }
}
