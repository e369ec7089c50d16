package dev.meshhub.cli;

import static dev.meshhub.cli.NodeListing.iso;

import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine;

/** Renders tasks for {@code meshctl tasks}, {@code task} and {@code cancel}: tables, details and JSON. */
final class TaskListing {

    /** Longest SUMMARY cell in the table. */
    static final int SUMMARY_WIDTH = 60;

    private TaskListing() {
    }

    /** The states a user can name, in lifecycle order (no UNSPECIFIED / UNRECOGNIZED). */
    static List<TaskState> userStates() {
        List<TaskState> states = new ArrayList<>();
        for (TaskState s : TaskState.values()) {
            if (s != TaskState.TASK_STATE_UNSPECIFIED && s != TaskState.UNRECOGNIZED) {
                states.add(s);
            }
        }
        return states;
    }

    /** Lower-case name: "running", "timed_out"; "unknown" for unset or newer states. */
    static String state(TaskState s) {
        return s == null || s == TaskState.TASK_STATE_UNSPECIFIED || s == TaskState.UNRECOGNIZED
                ? "unknown" : s.name().toLowerCase(Locale.ROOT);
    }

    /**
     * A state as the user writes it: case-insensitive, '-' or '_' ("timed-out", "TIMED_OUT").
     *
     * @throws IllegalArgumentException listing the valid names
     */
    static TaskState parseState(String text) {
        String key = text == null ? "" : text.strip().replace('-', '_').toUpperCase(Locale.ROOT);
        for (TaskState s : userStates()) {
            if (s.name().equals(key)) {
                return s;
            }
        }
        throw new IllegalArgumentException("'" + text + "' is not a task state (valid: "
                + userStates().stream().map(TaskListing::state).collect(Collectors.joining(", ")) + ")");
    }

    /** The node as the user knows it: its name, else its id. */
    static String node(TaskInfo t) {
        return t.getNodeName().isEmpty() ? t.getNodeId() : t.getNodeName();
    }

    /** Columns TASK NODE STATE EXIT CREATED SUMMARY; the summary cut to {@link #SUMMARY_WIDTH}. */
    static String table(List<TaskInfo> tasks) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"TASK", "NODE", "STATE", "EXIT", "CREATED", "SUMMARY"});
        for (TaskInfo t : tasks) {
            rows.add(new String[] {
                Table.word(t.getTaskId()), Table.word(node(t)), state(t.getState()),
                t.hasExitCode() ? Integer.toString(t.getExitCode()) : "-",
                Table.word(iso(t.getCreatedAtMs())), Table.text(t.getSummary(), SUMMARY_WIDTH)});
        }
        return Table.render(rows);
    }

    /** A JSON array of task objects (see {@link #writeTask}). */
    static String json(List<TaskInfo> tasks) {
        JsonWriter w = new JsonWriter().beginArray();
        for (TaskInfo t : tasks) {
            w.newline();
            writeTask(w, t, false);
        }
        if (!tasks.isEmpty()) {
            w.newline();
        }
        return w.endArray().toJson() + "\n";
    }

    /** One task as a JSON object, with "outputTail". */
    static String jsonDetail(TaskInfo t) {
        JsonWriter w = new JsonWriter();
        writeTask(w, t, true);
        return w.toJson() + "\n";
    }

    /**
     * {id, node, nodeId, state, exitCode, createdAt, dispatchedAt, startedAt, finishedAt, summary,
     * diagnostic[, program][, outputBytes][, outputTruncation][, outputTail]}: exitCode null when unset,
     * times null when 0, node and diagnostic null when empty; program, outputBytes and outputTruncation
     * only when the hub says (see {@link #outputBytes}).
     */
    private static void writeTask(JsonWriter w, TaskInfo t, boolean withTail) {
        w.beginObject()
                .name("id").value(t.getTaskId())
                .name("node").value(emptyToNull(t.getNodeName()))
                .name("nodeId").value(t.getNodeId())
                .name("state").value(state(t.getState()))
                .name("kind").value(t.getKind());
        w.name("exitCode");
        if (t.hasExitCode()) {
            w.value(t.getExitCode());
        } else {
            w.nullValue();
        }
        w.name("createdAt").value(iso(t.getCreatedAtMs()))
                .name("dispatchedAt").value(iso(t.getDispatchedAtMs()))
                .name("startedAt").value(iso(t.getStartedAtMs()))
                .name("finishedAt").value(iso(t.getFinishedAtMs()))
                .name("summary").value(t.getSummary())
                .name("diagnostic").value(emptyToNull(t.getDiagnostic()));
        if (!t.getProgram().isEmpty()) {
            w.name("program").value(t.getProgram());
        }
        long outputBytes = outputBytes(t);
        if (outputBytes >= 0) {
            w.name("outputBytes").value(outputBytes);
        }
        if (!t.getOutputTruncation().isEmpty()) {
            w.name("outputTruncation").value(t.getOutputTruncation());
        }
        if (withTail) {
            w.name("outputTail").value(tail(t));
        }
        w.endObject();
    }

    /** {@code meshctl task ID}: one field a line, then the output tail as text. */
    static String detail(TaskInfo t) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"task", Table.word(t.getTaskId())});
        String node = t.getNodeName().isEmpty() || t.getNodeName().equals(t.getNodeId())
                ? Table.word(t.getNodeId()) : Table.word(t.getNodeName()) + " (" + Table.word(t.getNodeId()) + ")";
        rows.add(new String[] {"node", node});
        rows.add(new String[] {"kind", Table.word(t.getKind())});
        rows.add(new String[] {"state", state(t.getState())});
        rows.add(new String[] {"exit code", t.hasExitCode() ? Integer.toString(t.getExitCode()) : "-"});
        rows.add(new String[] {"summary", Table.text(t.getSummary(), Integer.MAX_VALUE)});
        if (!t.getProgram().isEmpty()) {
            rows.add(new String[] {"program", Table.text(t.getProgram(), Integer.MAX_VALUE)});
        }
        rows.add(new String[] {"created", Table.word(iso(t.getCreatedAtMs()))});
        rows.add(new String[] {"dispatched", Table.word(iso(t.getDispatchedAtMs()))});
        rows.add(new String[] {"started", Table.word(iso(t.getStartedAtMs()))});
        rows.add(new String[] {"finished", Table.word(iso(t.getFinishedAtMs()))});
        rows.add(new String[] {"diagnostic", Table.text(t.getDiagnostic(), Integer.MAX_VALUE)});
        long outputBytes = outputBytes(t);
        if (outputBytes >= 0 || !t.getOutputTruncation().isEmpty()) {
            String size = outputBytes >= 0 ? outputBytes + " bytes" : "size not known";
            rows.add(new String[] {"output", t.getOutputTruncation().isEmpty() ? size
                    : size + " (" + Table.text(t.getOutputTruncation(), Integer.MAX_VALUE) + ")"});
        }
        StringBuilder b = new StringBuilder(Table.render(rows));
        if (t.getOutputTail().isEmpty()) {
            b.append("output tail: (none)\n");
        } else {
            String tail = tail(t);
            b.append("output tail (last ").append(t.getOutputTail().size()).append(" bytes):\n").append(tail);
            if (!tail.endsWith("\n")) {
                b.append('\n');
            }
        }
        return b.toString();
    }

    /**
     * The output bytes the hub received for the task as its log ended, or -1 when not known: the hub
     * says -1, and a hub older than the field says nothing (0), as it does for a task without output,
     * so 0 counts only beside a truncation.
     */
    static long outputBytes(TaskInfo t) {
        long bytes = t.getOutputBytes();
        return bytes > 0 || (bytes == 0 && !t.getOutputTruncation().isEmpty()) ? bytes : -1;
    }

    /** {@code meshctl cancel}'s answer. */
    static String cancelSent(String requestedId, TaskInfo t) {
        String id = t.getTaskId().isEmpty() ? requestedId : t.getTaskId();
        return "cancel sent to " + id + " (state now " + state(t.getState()) + ")";
    }

    /** The output tail as text; bytes that are not UTF-8 become U+FFFD. */
    static String tail(TaskInfo t) {
        return new String(t.getOutputTail().toByteArray(), StandardCharsets.UTF_8);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** picocli converter for {@code --state}: a bad name is a usage error listing the valid ones. */
    static final class StateConverter implements CommandLine.ITypeConverter<TaskState> {
        @Override
        public TaskState convert(String value) {
            try {
                return parseState(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
