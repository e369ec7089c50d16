package dev.meshhub.cli;

import dev.meshhub.proto.v1.ReadTaskOutputRequest;
import dev.meshhub.proto.v1.TaskLogSummary;
import dev.meshhub.proto.v1.TaskOutputChunk;
import dev.meshhub.proto.v1.TaskOutputEvent;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.util.Iterator;

/**
 * {@code meshctl task ID --output}: a task's whole output from its log on the hub, raw bytes (stdout
 * to stdout, stderr to stderr; a single stream asked for goes to stdout), optionally from an offset and
 * following a running task to its end. Exits 0 when the log holds all of the task's output, 125 when
 * it was truncated (said on stderr, with the byte counts).
 */
final class TaskOutputCommand {

    private final MeshCtl root;

    TaskOutputCommand(MeshCtl root) {
        this.root = root;
    }

    int run(String taskId, long offset, boolean follow, ReadTaskOutputRequest.Streams streams) {
        ReadTaskOutputRequest request = ReadTaskOutputRequest.newBuilder().setTaskId(taskId).setOffset(offset).setFollow(follow)
                .setStreams(streams).build();
        Context.CancellableContext call = Context.current().withCancellation();
        try (Interrupts.Registration registration = root.interrupts().register(() -> call.cancel(null));
             AdminClient client = root.connect()) {
            if (!client.awaitConnected(call)) {
                return ExecCommand.EXIT_CANCELLED;
            }
            TaskLogSummary end = null;
            try {
                Iterator<TaskOutputEvent> events;
                Context previous = call.attach();
                try {
                    events = client.unboundedStub().readTaskOutput(request);
                } finally {
                    call.detach(previous);
                }
                while (events.hasNext()) {
                    TaskOutputEvent event = events.next();
                    if (event.hasOutput()) {
                        if (!write(event.getOutput(), streams != ReadTaskOutputRequest.Streams.BOTH)) {
                            throw new CliException(CliException.FAILED, "cannot write the output (stdout or stderr closed)");
                        }
                    } else if (event.hasEnd()) {
                        end = event.getEnd();
                    }
                }
            } catch (StatusRuntimeException e) {
                if (call.isCancelled()) {
                    return ExecCommand.EXIT_CANCELLED;
                }
                throw new CliException(CliException.FAILED, client.explain(e.getStatus()), e);
            }
            if (end == null) {
                throw new CliException(CliException.FAILED, "the hub ended the output of task " + taskId + " without its end");
            }
            if (end.getTruncated()) {
                root.err().println("meshctl: the log of task " + taskId + " holds " + end.getLoggedBytes() + " of its "
                        + end.getOutputBytes() + " bytes of output: " + end.getTruncation());
                return ExecCommand.EXIT_OUTPUT_INCOMPLETE;
            }
            if (end.getOpen()) {
                root.err().println("meshctl: task " + taskId + " is still running; its output so far is above"
                        + " (--follow waits for the rest)");
            }
            return 0;
        } finally {
            call.cancel(null);
        }
    }

    /** Raw bytes, flushed per chunk; a single stream goes to stdout. False when the stream is broken. */
    private boolean write(TaskOutputChunk chunk, boolean oneStream) {
        PrintStream target = !oneStream && chunk.getStream() == dev.meshhub.proto.v1.TaskOutput.Stream.STDERR ? root.err() : root.out();
        byte[] data = chunk.getData().toByteArray();
        target.write(data, 0, data.length);
        target.flush();
        return !target.checkError();
    }
}
