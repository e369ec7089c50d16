package dev.meshhub.node;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskOutput;
import dev.meshhub.proto.v1.TaskStarted;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The messages one task sent to the {@link FakeHub}, in arrival order. */
final class TaskRun {

    final String taskId;
    final List<NodeMessage> messages;

    TaskRun(String taskId, List<NodeMessage> messages) {
        this.taskId = taskId;
        this.messages = List.copyOf(messages);
    }

    /** The task id a message is about, or null for Hello and heartbeats. */
    static String taskIdOf(NodeMessage m) {
        switch (m.getPayloadCase()) {
            case TASK_STARTED:
                return m.getTaskStarted().getTaskId();
            case TASK_OUTPUT:
                return m.getTaskOutput().getTaskId();
            case TASK_FINISHED:
                return m.getTaskFinished().getTaskId();
            default:
                return null;
        }
    }

    boolean isFinished() {
        return messages.stream().anyMatch(NodeMessage::hasTaskFinished);
    }

    boolean isStarted() {
        return messages.stream().anyMatch(NodeMessage::hasTaskStarted);
    }

    TaskFinished finished() {
        return messages.stream().filter(NodeMessage::hasTaskFinished).map(NodeMessage::getTaskFinished).findFirst()
                .orElseThrow(() -> new AssertionError("task " + taskId + " did not finish: " + this));
    }

    TaskStarted started() {
        return messages.stream().filter(NodeMessage::hasTaskStarted).map(NodeMessage::getTaskStarted).findFirst()
                .orElseThrow(() -> new AssertionError("task " + taskId + " did not start: " + this));
    }

    List<TaskOutput> outputs() {
        return messages.stream().filter(NodeMessage::hasTaskOutput).map(NodeMessage::getTaskOutput)
                .collect(Collectors.toList());
    }

    String stdout() {
        return text(TaskOutput.Stream.STDOUT);
    }

    String stderr() {
        return text(TaskOutput.Stream.STDERR);
    }

    long outputBytes() {
        return outputs().stream().mapToLong(o -> o.getData().size()).sum();
    }

    /** The pids a script printed one per line on stdout (the {@code echo $!} of its background jobs). */
    List<Long> printedPids() {
        List<Long> pids = new ArrayList<>();
        for (String line : stdout().split("\n")) {
            if (!line.isBlank()) {
                pids.add(Long.parseLong(line.strip()));
            }
        }
        return pids;
    }

    private String text(TaskOutput.Stream stream) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (TaskOutput o : outputs()) {
            if (o.getStream() == stream) {
                bytes.writeBytes(o.getData().toByteArray());
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /**
     * The shape every finished task must have: at most one TaskStarted, first; outputs numbered
     * 1, 2, 3, ... across both streams, in arrival order, none larger than 16 KiB; TaskFinished
     * last and once.
     */
    void assertWellFormed() {
        assertTrue("no TaskFinished: " + this, isFinished());
        long expected = 1;
        for (int i = 0; i < messages.size(); i++) {
            NodeMessage m = messages.get(i);
            if (m.hasTaskStarted()) {
                assertEquals("TaskStarted must come first: " + this, 0, i);
            } else if (m.hasTaskOutput()) {
                assertEquals("output sequence", expected++, m.getTaskOutput().getSequence());
                assertTrue("chunk over " + OutputPump.CHUNK_BYTES + " bytes", m.getTaskOutput().getData().size() <= OutputPump.CHUNK_BYTES);
                assertTrue("empty chunk", m.getTaskOutput().getData().size() > 0);
            } else {
                assertEquals("TaskFinished must come last and once: " + this, messages.size() - 1, i);
            }
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (NodeMessage m : messages) {
            if (b.length() > 1) {
                b.append(", ");
            }
            if (m.hasTaskStarted()) {
                b.append("started pid ").append(m.getTaskStarted().getPid());
            } else if (m.hasTaskOutput()) {
                b.append(m.getTaskOutput().getStream()).append(" #").append(m.getTaskOutput().getSequence()).append(' ')
                        .append(m.getTaskOutput().getData().size()).append(" B");
            } else if (m.hasTaskFinished()) {
                TaskFinished f = m.getTaskFinished();
                b.append("finished ").append(f.getOutcome()).append(f.hasExitCode() ? " exit " + f.getExitCode() : "")
                        .append(" '").append(f.getDiagnostic()).append('\'');
            }
        }
        return b.append(']').toString();
    }
}
