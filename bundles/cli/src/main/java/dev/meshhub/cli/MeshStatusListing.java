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
     * state, the journal backlog, the IO locks, and why any part is missing. Ages are relative to
     * {@code nowMillis}.
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
        b.append(locksLine(s));
        for (String line : s.getUnavailableList()) {
            b.append("unavailable: ").append(Table.text(line, Integer.MAX_VALUE)).append('\n');
        }
        return b.toString();
    }

    /**
     * The document the monitor writes to {@code data/status/mesh.json} (same keys, one line):
     * {@code {"takenAt", "nodes":{"connected", "list":[{id, name, address, connectedSince,
     * lastHeartbeat, heartbeatAgeMillis}]} | null, "tasks":{STATE: n, ...} | null,
     * "journal":{"backlog"} | null, "locks":{"live", "oldestAgeMillis", "expired"} | null,
     * "unavailable":[...]}}. The monitor's file also has the lock counters {@code acquired},
     * {@code released} and {@code refused}, which the admin API does not carry.
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
        w.name("locks");
        if (!s.getLocksKnown()) {
            w.nullValue();
        } else {
            w.beginObject()
                    .name("live").value(s.getLiveLocks())
                    .name("oldestAgeMillis").value(s.getOldestLockAgeMs())
                    .name("expired").value(s.getExpiredLocks())
                    .endObject();
        }
        w.name("unavailable").beginArray();
        for (String line : s.getUnavailableList()) {
            w.value(line);
        }
        return w.endArray().endObject().toJson() + "\n";
    }

    /**
     * {@code locks: 2 live (oldest 4s), 1 expired by the sweep}; no age when none is live, and
     * {@code locks: unknown} when the hub ran no lock registry.
     */
    private static String locksLine(MeshStatusInfo s) {
        if (!s.getLocksKnown()) {
            return "locks: unknown\n";
        }
        StringBuilder b = new StringBuilder("locks: ").append(s.getLiveLocks()).append(" live");
        if (s.getLiveLocks() > 0) {
            b.append(" (oldest ").append(RelativeTime.span(s.getOldestLockAgeMs())).append(')');
        }
        return b.append(", ").append(s.getExpiredLocks()).append(" expired by the sweep\n").toString();
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
