package dev.meshhub.cli;

import static dev.meshhub.cli.ManagementTaskListing.isoMillis;

import dev.meshhub.proto.v1.MeshStatusInfo;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.TaskState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Renders {@code meshctl status}: the monitor's latest snapshot as text or JSON. */
final class MeshStatusListing {

    private MeshStatusListing() {
    }

    /**
     * The snapshot for a person: when it was taken, the connected nodes as a table, the task count per
     * state, the journal backlog, and why any part is missing. Ages are relative to {@code nowMillis}.
     */
    static String text(MeshStatusInfo s, long nowMillis) {
        StringBuilder b = new StringBuilder();
        b.append("snapshot taken ").append(Table.word(NodeListing.iso(s.getTakenAtMs())))
                .append(" (").append(RelativeTime.relative(s.getTakenAtMs(), nowMillis)).append(")\n");
        if (!s.getNodesKnown()) {
            b.append("nodes connected: unknown\n");
        } else {
            b.append("nodes connected: ").append(s.getNodesCount()).append('\n');
            if (s.getNodesCount() > 0) {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"NAME", "ID", "ADDRESS", "CONNECTED-SINCE", "LAST-HEARTBEAT"});
                for (NodeStatus n : s.getNodesList()) {
                    rows.add(new String[] {Table.word(n.getName()), Table.word(n.getNodeId()), Table.word(n.getAddress()),
                        Table.word(NodeListing.iso(n.getConnectedSinceMs())),
                        RelativeTime.relative(n.getLastHeartbeatMs(), nowMillis)});
                }
                b.append(Table.render(rows));
            }
        }
        if (!s.getTasksKnown()) {
            b.append("tasks: unknown\n");
        } else {
            StringBuilder counts = new StringBuilder();
            for (Map.Entry<String, Long> e : tasksInLifecycleOrder(s.getTasksByStateMap()).entrySet()) {
                counts.append(counts.length() == 0 ? "" : ", ").append(Table.word(e.getKey())).append(' ').append(e.getValue());
            }
            b.append("tasks: ").append(counts.length() == 0 ? "-" : counts).append('\n');
        }
        b.append("journal backlog: ").append(s.getJournalBacklog() < 0 ? "unknown" : Long.toString(s.getJournalBacklog()))
                .append('\n');
        for (String line : s.getUnavailableList()) {
            b.append("unavailable: ").append(Table.text(line, Integer.MAX_VALUE)).append('\n');
        }
        return b.toString();
    }

    /**
     * The document the monitor writes to {@code data/status/mesh.json} (same keys, one line):
     * {@code {"takenAt", "nodes":{"connected", "list":[{id, name, address, connectedSince,
     * lastHeartbeat, heartbeatAgeMillis}]} | null, "tasks":{STATE: n, ...} | null,
     * "journal":{"backlog"} | null, "unavailable":[...]}}.
     */
    static String json(MeshStatusInfo s) {
        JsonWriter w = new JsonWriter().beginObject()
                .name("takenAt").value(isoMillis(s.getTakenAtMs()))
                .name("nodes");
        if (!s.getNodesKnown()) {
            w.nullValue();
        } else {
            w.beginObject().name("connected").value(s.getNodesCount()).name("list").beginArray();
            for (NodeStatus n : s.getNodesList()) {
                w.beginObject()
                        .name("id").value(n.getNodeId())
                        .name("name").value(n.getName())
                        .name("address").value(n.getAddress())
                        .name("connectedSince").value(isoMillis(n.getConnectedSinceMs()))
                        .name("lastHeartbeat").value(isoMillis(n.getLastHeartbeatMs()))
                        // As the monitor computes it: never negative.
                        .name("heartbeatAgeMillis").value(Math.max(0, s.getTakenAtMs() - n.getLastHeartbeatMs()))
                        .endObject();
            }
            w.endArray().endObject();
        }
        w.name("tasks");
        if (!s.getTasksKnown()) {
            w.nullValue();
        } else {
            w.beginObject();
            for (Map.Entry<String, Long> e : tasksInLifecycleOrder(s.getTasksByStateMap()).entrySet()) {
                w.name(e.getKey()).value(e.getValue());
            }
            w.endObject();
        }
        w.name("journal");
        if (s.getJournalBacklog() < 0) {
            w.nullValue();
        } else {
            w.beginObject().name("backlog").value(s.getJournalBacklog()).endObject();
        }
        w.name("unavailable").beginArray();
        for (String line : s.getUnavailableList()) {
            w.value(line);
        }
        return w.endArray().endObject().toJson() + "\n";
    }

    /**
     * The counts in task lifecycle order (the wire enum's order, whose names the hub uses as keys);
     * names this meshctl does not know (a newer hub) come last, alphabetically.
     */
    static Map<String, Long> tasksInLifecycleOrder(Map<String, Long> byState) {
        Map<String, Long> ordered = new LinkedHashMap<>();
        for (TaskState state : TaskListing.userStates()) {
            Long count = byState.get(state.name());
            if (count != null) {
                ordered.put(state.name(), count);
            }
        }
        new TreeMap<>(byState).forEach(ordered::putIfAbsent);
        return ordered;
    }
}
