package dev.meshhub.admin.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.junit.Test;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.proto.v1.ReadTaskOutputRequest;
import dev.meshhub.proto.v1.TaskOutputEvent;
import dev.meshhub.testing.RecordingStreamObserver;
import io.grpc.Status;

/** ReadTaskOutput's refusals: what the caller did wrong or what the hub lacks, said before any log is touched. */
public class OutputCallsTest {

    private final FakeHubServices services = new FakeHubServices();
    private final OutputCalls calls = new OutputCalls(services, new LongCalls(), Runnable::run);

    private Status refusal(ReadTaskOutputRequest request) {
        RecordingStreamObserver<TaskOutputEvent> observer = new RecordingStreamObserver<>();
        calls.read(request, observer);
        assertTrue("nothing streamed", observer.sent.isEmpty());
        return observer.closedWith;
    }

    @Test
    public void withoutTaskLogsTheCallSaysWhichFeatureToStart() {
        Status status = refusal(ReadTaskOutputRequest.newBuilder().setTaskId("t-1").build());
        assertEquals(Status.Code.FAILED_PRECONDITION, status.getCode());
        assertTrue(status.getDescription(), status.getDescription().contains("meshhub-task-logs"));
    }

    @Test
    public void aMissingTaskOrANegativeOffsetIsRefused() {
        services.taskLogs = new NoLogs();
        assertEquals(Status.Code.INVALID_ARGUMENT, refusal(ReadTaskOutputRequest.newBuilder().build()).getCode());
        Status negative = refusal(ReadTaskOutputRequest.newBuilder().setTaskId("t-1").setOffset(-5).build());
        assertEquals(Status.Code.INVALID_ARGUMENT, negative.getCode());
        assertTrue(negative.getDescription(), negative.getDescription().contains("-5"));
        assertEquals("no read was left counted", 0, calls.reading());
    }

    @Test
    public void aTaskWithoutALogIsNotFoundAndSaysWhereItsTailIs() {
        services.taskLogs = new NoLogs();
        Status status = refusal(ReadTaskOutputRequest.newBuilder().setTaskId("t-gone").build());
        assertEquals(Status.Code.NOT_FOUND, status.getCode());
        assertTrue(status.getDescription(), status.getDescription().contains("meshctl task t-gone"));
        assertEquals(0, calls.reading());
    }

    @Test
    public void aLogIsStreamedWithOffsetsThenItsSummaryAndOneStreamCanBeAsked() {
        services.taskLogs = new OneLog();
        RecordingStreamObserver<TaskOutputEvent> all = new RecordingStreamObserver<>();
        calls.read(ReadTaskOutputRequest.newBuilder().setTaskId("t-1").build(), all);
        assertTrue(all.completed);
        assertEquals(3, all.sent.size());
        assertEquals("out", all.sent.get(0).getOutput().getData().toStringUtf8());
        assertEquals(3, all.sent.get(1).getOutput().getOffset());
        assertEquals(dev.meshhub.proto.v1.TaskOutput.Stream.STDERR, all.sent.get(1).getOutput().getStream());
        assertEquals(5, all.sent.get(2).getEnd().getOutputBytes());
        assertEquals("SUCCEEDED (exit code 0)", all.sent.get(2).getEnd().getEnding());

        RecordingStreamObserver<TaskOutputEvent> errOnly = new RecordingStreamObserver<>();
        calls.read(ReadTaskOutputRequest.newBuilder().setTaskId("t-1").setStreams(ReadTaskOutputRequest.Streams.STDERR_ONLY).build(),
                errOnly);
        assertEquals(2, errOnly.sent.size());
        assertEquals("er", errOnly.sent.get(0).getOutput().getData().toStringUtf8());
        assertEquals(0, calls.reading());
    }

    /** A finished log of 5 bytes: "out" on stdout, "er" on stderr. */
    private static final class OneLog extends NoLogs {
        @Override
        public TaskLogReader read(String taskId, long offset) {
            java.util.Iterator<TaskLogReader.Chunk> chunks = java.util.List.of(
                    new TaskLogReader.Chunk(dev.meshhub.api.task.TaskOutput.Stream.STDOUT, 0, "out".getBytes()),
                    new TaskLogReader.Chunk(dev.meshhub.api.task.TaskOutput.Stream.STDERR, 3, "er".getBytes())).iterator();
            return new TaskLogReader() {
                @Override
                public Chunk next() {
                    return chunks.hasNext() ? chunks.next() : null;
                }

                @Override
                public TaskLogInfo info() {
                    return new TaskLogInfo(taskId, 5, 5, false, false, "", "SUCCEEDED (exit code 0)", java.time.Instant.EPOCH);
                }

                @Override
                public void close() {
                }
            };
        }
    }

    /** Task logs that hold nothing (the refusals above never reach them). */
    private static class NoLogs implements TaskLogs {
        @Override
        public TaskLogWriter start(String taskId) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<TaskLogInfo> info(String taskId) {
            return Optional.empty();
        }

        @Override
        public TaskLogReader read(String taskId, long offset) throws IOException {
            throw new java.nio.file.NoSuchFileException(taskId);
        }

        @Override
        public CompletionStage<Void> grown(String taskId, long outputBytes) {
            return java.util.concurrent.CompletableFuture.completedStage(null);
        }
    }
}
