package dev.meshhub.monitor.snapshot;

import static dev.meshhub.monitor.snapshot.Snapshots.T0;
import static dev.meshhub.monitor.snapshot.Snapshots.nodes;
import static dev.meshhub.monitor.snapshot.Snapshots.parseStrict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;

public class SnapshotJsonTest {

    private static MeshSnapshot full() {
        return new MeshSnapshot(T0, nodes(2), Map.of(TaskState.RUNNING, 3L, TaskState.QUEUED, 1L), 9L,
                new LockStats(3, Duration.ofMillis(4_250), 120, 110, 7, 12), List.of());
    }

    @Test
    public void documentHasTheStableShape() throws Exception {
        JsonObject json = parseStrict(SnapshotJson.toJson(full(), true));

        assertEquals(List.of("takenAt", "nodes", "tasks", "journal", "locks", "unavailable"), List.copyOf(json.keySet()));
        assertEquals("2026-11-27T02:40:00.123Z", json.get("takenAt").getAsString());

        JsonObject nodes = json.getAsJsonObject("nodes");
        assertEquals(2, nodes.get("connected").getAsInt());
        JsonArray list = nodes.getAsJsonArray("list");
        assertEquals(2, list.size());
        JsonObject second = list.get(1).getAsJsonObject();
        NodeSession expected = Snapshots.node(1);
        assertEquals(Set.of("id", "name", "address", "connectedSince", "lastHeartbeat", "heartbeatAgeMillis", "takeovers"),
                second.keySet());
        assertEquals(expected.takeovers(), second.get("takeovers").getAsLong());
        assertEquals(expected.nodeId(), second.get("id").getAsString());
        assertEquals(expected.name(), second.get("name").getAsString());
        assertEquals(expected.address(), second.get("address").getAsString());
        assertEquals(expected.connectedSince().toString(), second.get("connectedSince").getAsString());
        assertEquals(expected.lastHeartbeat().toString(), second.get("lastHeartbeat").getAsString());
        assertEquals(1000L, second.get("heartbeatAgeMillis").getAsLong());

        JsonObject tasks = json.getAsJsonObject("tasks");
        Set<String> states = new TreeSet<>();
        for (TaskState state : TaskState.values()) {
            states.add(state.name());
        }
        assertEquals(states, new TreeSet<>(tasks.keySet()));
        assertEquals(3L, tasks.get("RUNNING").getAsLong());
        assertEquals(1L, tasks.get("QUEUED").getAsLong());
        assertEquals(0L, tasks.get("SUCCEEDED").getAsLong());

        assertEquals(9L, json.getAsJsonObject("journal").get("backlog").getAsLong());
        JsonObject locks = json.getAsJsonObject("locks");
        assertEquals(List.of("live", "oldestAgeMillis", "acquired", "released", "expired", "refused"),
                List.copyOf(locks.keySet()));
        assertEquals(3, locks.get("live").getAsInt());
        assertEquals(4_250L, locks.get("oldestAgeMillis").getAsLong());
        assertEquals(120L, locks.get("acquired").getAsLong());
        assertEquals(110L, locks.get("released").getAsLong());
        assertEquals(7L, locks.get("expired").getAsLong());
        assertEquals(12L, locks.get("refused").getAsLong());
        assertEquals(0, json.getAsJsonArray("unavailable").size());
    }

    @Test
    public void unknownPartsAreNull() throws Exception {
        MeshSnapshot snapshot = new MeshSnapshot(T0, null, null, null, null,
                List.of("transport: not running", "journal: not running", "locks: no lock registry running"));
        JsonObject json = parseStrict(SnapshotJson.toJson(snapshot, false));

        assertTrue(json.get("nodes").isJsonNull());
        assertTrue(json.get("tasks").isJsonNull());
        assertTrue(json.get("journal").isJsonNull());
        assertTrue(json.get("locks").isJsonNull());
        JsonArray unavailable = json.getAsJsonArray("unavailable");
        assertEquals("transport: not running", unavailable.get(0).getAsString());
        assertEquals("journal: not running", unavailable.get(1).getAsString());
        assertEquals("locks: no lock registry running", unavailable.get(2).getAsString());
    }

    @Test
    public void heartbeatAfterTheSnapshotIsZeroMillisOld() throws Exception {
        NodeSession late = new NodeSession("n", "n", "a:1", T0, T0.plusMillis(5));
        JsonObject json = parseStrict(SnapshotJson.toJson(new MeshSnapshot(T0, List.of(late), null, null, null, List.of()),
                false));
        JsonObject node = json.getAsJsonObject("nodes").getAsJsonArray("list").get(0).getAsJsonObject();
        assertEquals(0L, node.get("heartbeatAgeMillis").getAsLong());
    }

    @Test
    public void compactIsOneLineAndPrettyIsIndentedWithTheSameContent() throws Exception {
        String compact = SnapshotJson.toJson(full(), false);
        String pretty = SnapshotJson.toJson(full(), true);

        assertFalse(compact, compact.contains("\n"));
        assertTrue(pretty, pretty.contains("\n  \"takenAt\""));
        assertEquals(parseStrict(compact), parseStrict(pretty));
    }
}
