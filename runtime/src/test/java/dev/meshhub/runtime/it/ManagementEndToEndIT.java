package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Management tasks in a real hub process, seen the way an admin sees them: the monitor's status file,
 * {@code meshctl status} and {@code meshctl admin tasks}, and another monitor dropped into deploy/
 * taking its turn with a node connected. The monitor's period comes from an environment variable,
 * through the double-underscore form for dotted keys.
 */
public class ManagementEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest()
            .withHubEnvironment("MESHHUB_MONITOR_MESHHUB__MANAGEMENT__PERIOD", "1");

    @Test
    public void theMonitorReportsTheMeshAndAnotherMonitorDroppedIntoDeployTakesItsTurn() throws Exception {
        Process node = runtime.enrolledNode("observed");
        Path statusDirectory = runtime.home.resolve("data/status");
        Poll.until("mesh.json lists the node", PATIENCE, () -> nodeNames(read(statusDirectory.resolve("mesh.json"))).contains("observed"));

        JsonObject status = JsonParser.parseString(runtime.meshctl("status", "--json").assertExit(0).stdout()).getAsJsonObject();
        assertEquals(1, status.getAsJsonObject("nodes").get("connected").getAsInt());
        assertEquals(List.of("observed"), nodeNames(status));
        assertTrue(status.getAsJsonObject("tasks").has("QUEUED"));
        assertEquals(0, status.getAsJsonArray("unavailable").size());
        String human = runtime.meshctl("status").assertExit(0).stdout();
        assertTrue(human, human.contains("nodes connected: 1"));
        assertTrue(human, human.contains("observed"));

        JsonObject monitor = task(runtime.meshctl("admin", "tasks", "--json").assertExit(0).stdout(), "mesh-monitor");
        assertEquals("the period from MESHHUB_MONITOR_MESHHUB__MANAGEMENT__PERIOD", 1000, monitor.get("periodMillis").getAsLong());
        assertTrue(monitor.get("runs").getAsLong() >= 1);
        assertEquals(0, monitor.get("failures").getAsLong());
        assertTrue(runtime.meshctl("admin", "tasks").assertExit(0).stdout().contains("mesh-monitor"));

        // Another monitor, deployed as an admin would: configuration first, then the bundle.
        Files.writeString(runtime.home.resolve("etc/dev.meshhub.monitor.jsonl.cfg"), "meshhub.management.period = 1\n");
        Path staged = runtime.home.resolve("monitor-jsonl-example.jar.part");
        Files.copy(HubTestSupport.exampleMonitorBundle(), staged);
        Path deployed = runtime.home.resolve("deploy/monitor-jsonl-example.jar");
        Files.move(staged, deployed, StandardCopyOption.ATOMIC_MOVE);
        Path lines = statusDirectory.resolve("mesh.jsonl");
        Poll.until("the deployed monitor appends snapshots", PATIENCE, () -> completeLines(lines).size() >= 2);
        for (JsonObject line : completeLines(lines)) {
            assertEquals(List.of("observed"), nodeNames(line));
        }
        JsonObject jsonl = task(runtime.meshctl("admin", "tasks", "--json").assertExit(0).stdout(), "mesh-monitor-jsonl");
        assertTrue(jsonl.get("bundle").getAsString(), jsonl.get("bundle").getAsString().startsWith("dev.meshhub.monitor.jsonl"));

        Files.delete(deployed);
        Poll.until("the deployed monitor unscheduled", PATIENCE,
                () -> !runtime.meshctlQuietly("admin", "tasks", "--json").contains("mesh-monitor-jsonl"));
        int written = completeLines(lines).size();
        String before = read(statusDirectory.resolve("mesh.json")).get("takenAt").getAsString();
        Poll.until("the default monitor still writes", PATIENCE,
                () -> !before.equals(read(statusDirectory.resolve("mesh.json")).get("takenAt").getAsString()));
        assertEquals("nothing appended once removed", written, completeLines(lines).size());

        assertTrue("the node stayed connected throughout", node.isAlive());
        assertFalse(runtime.log("observed-workspace.log"), runtime.log("observed-workspace.log").contains("disconnected"));
    }

    private static JsonObject task(String json, String name) {
        for (JsonElement element : JsonParser.parseString(json).getAsJsonArray()) {
            if (element.getAsJsonObject().get("name").getAsString().equals(name)) {
                return element.getAsJsonObject();
            }
        }
        throw new AssertionError("no task " + name + " in " + json);
    }

    private static List<String> nodeNames(JsonObject snapshot) {
        List<String> names = new ArrayList<>();
        if (snapshot != null && snapshot.get("nodes").isJsonObject()) {
            JsonArray list = snapshot.getAsJsonObject("nodes").getAsJsonArray("list");
            list.forEach(n -> names.add(n.getAsJsonObject().get("name").getAsString()));
        }
        return names;
    }

    /** The file's JSON document; null while it does not exist yet. A half-written file fails the test. */
    private static JsonObject read(Path file) {
        try {
            return Files.exists(file) ? JsonParser.parseString(Files.readString(file)).getAsJsonObject() : null;
        } catch (Exception e) {
            throw new AssertionError("cannot parse " + file, e);
        }
    }

    private static List<JsonObject> completeLines(Path file) {
        List<JsonObject> parsed = new ArrayList<>();
        try {
            if (!Files.exists(file)) {
                return parsed;
            }
            String text = Files.readString(file);
            int end = text.lastIndexOf('\n');
            for (String line : text.substring(0, end + 1).split("\n")) {
                if (!line.isEmpty()) {
                    parsed.add(JsonParser.parseString(line).getAsJsonObject());
                }
            }
            return parsed;
        } catch (Exception e) {
            throw new AssertionError("cannot parse " + file, e);
        }
    }
}
