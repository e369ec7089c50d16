package dev.meshhub.monitor.snapshot;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import com.google.gson.stream.JsonWriter;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;

/**
 * A {@link MeshSnapshot} as one JSON document, in the stable shape documented in the monitor's
 * README:
 *
 * <pre>
 * {"takenAt":"2026-11-27T02:40:00.123Z",
 *  "nodes":{"connected":1,"list":[{"id":"..","name":"..","address":"..","connectedSince":"..",
 *           "lastHeartbeat":"..","heartbeatAgeMillis":1200,"takeovers":0}]},
 *  "tasks":{"QUEUED":0,"DISPATCHED":0,...every TaskState...},
 *  "journal":{"backlog":0},
 *  "locks":{"live":0,"oldestAgeMillis":0,"acquired":0,"released":0,"expired":0,"refused":0},
 *  "unavailable":[]}
 * </pre>
 *
 * {@code nodes}, {@code tasks}, {@code journal} and {@code locks} are JSON {@code null} when that
 * part is unknown.
 * Instants are ISO-8601 in UTC.
 */
public final class SnapshotJson {

    private SnapshotJson() {
    }

    /**
     * Writes the snapshot as one JSON document, without a trailing newline. Flushes {@code out} but
     * leaves it open.
     *
     * @param pretty indented over several lines; otherwise one compact line
     */
    public static void write(MeshSnapshot snapshot, Writer out, boolean pretty) throws IOException {
        JsonWriter json = new JsonWriter(out);
        json.setSerializeNulls(true);
        if (pretty) {
            json.setIndent("  ");
        }
        json.beginObject();
        json.name("takenAt").value(snapshot.takenAt().toString());
        writeNodes(json, snapshot);
        writeTasks(json, snapshot.tasksByState());
        json.name("journal");
        if (snapshot.journalBacklog() == null) {
            json.nullValue();
        } else {
            json.beginObject().name("backlog").value(snapshot.journalBacklog().longValue()).endObject();
        }
        writeLocks(json, snapshot.locks());
        json.name("unavailable").beginArray();
        for (String line : snapshot.unavailable()) {
            json.value(line);
        }
        json.endArray();
        json.endObject();
        // Not close(): that would close the caller's writer.
        json.flush();
    }

    /** The snapshot as a JSON string, without a trailing newline. */
    public static String toJson(MeshSnapshot snapshot, boolean pretty) {
        StringWriter out = new StringWriter();
        try {
            write(snapshot, out, pretty);
        } catch (IOException e) {
            throw new UncheckedIOException("a StringWriter does not fail", e);
        }
        return out.toString();
    }

    private static void writeNodes(JsonWriter json, MeshSnapshot snapshot) throws IOException {
        json.name("nodes");
        if (snapshot.nodes() == null) {
            json.nullValue();
            return;
        }
        json.beginObject();
        json.name("connected").value(snapshot.nodes().size());
        json.name("list").beginArray();
        for (NodeSession node : snapshot.nodes()) {
            json.beginObject();
            json.name("id").value(node.nodeId());
            json.name("name").value(node.name());
            json.name("address").value(node.address());
            json.name("connectedSince").value(node.connectedSince().toString());
            json.name("lastHeartbeat").value(node.lastHeartbeat().toString());
            json.name("heartbeatAgeMillis").value(heartbeatAgeMillis(snapshot.takenAt(), node.lastHeartbeat()));
            // Second sessions that presented this node's identity since the hub started (refused or replacing).
            json.name("takeovers").value(node.takeovers());
            json.endObject();
        }
        json.endArray();
        json.endObject();
    }

    private static void writeTasks(JsonWriter json, Map<TaskState, Long> tasksByState) throws IOException {
        json.name("tasks");
        if (tasksByState == null) {
            json.nullValue();
            return;
        }
        json.beginObject();
        for (TaskState state : TaskState.values()) {
            Long count = tasksByState.get(state);
            json.name(state.name()).value(count == null ? 0L : count);
        }
        json.endObject();
    }

    private static void writeLocks(JsonWriter json, LockStats locks) throws IOException {
        json.name("locks");
        if (locks == null) {
            json.nullValue();
            return;
        }
        json.beginObject();
        json.name("live").value(locks.live());
        json.name("oldestAgeMillis").value(locks.oldestAge() == null ? 0L : locks.oldestAge().toMillis());
        json.name("acquired").value(locks.acquired());
        json.name("released").value(locks.released());
        json.name("expired").value(locks.expired());
        json.name("refused").value(locks.refused());
        json.endObject();
    }

    /** Never negative: a heartbeat that arrived while the snapshot was being taken is 0 ms old. */
    private static long heartbeatAgeMillis(Instant takenAt, Instant lastHeartbeat) {
        return Math.max(0L, Duration.between(lastHeartbeat, takenAt).toMillis());
    }
}
