package dev.meshhub.monitor.jsonl;

import dev.meshhub.testing.ReadOnly;
import dev.meshhub.testing.TypedConfigs;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.management.ManagementTask;
import dev.meshhub.api.node.NodeSession;

public class JsonlMeshMonitorTest {

    private static final Instant T0 = Instant.parse("2026-11-27T02:40:00.123Z");
    private static final Map<String, Object> SCHEDULE = Map.of(ManagementTask.PERIOD, 30L);

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private Path home;
    private Path statusDirectory;
    private Path jsonl;
    private Path rotated;
    private SteppingClock clock;
    private JsonlMeshMonitor monitor;

    /** A clock that stands still until moved. */
    private static final class SteppingClock extends Clock {
        private volatile Instant now = T0;

        void advance() {
            now = now.plus(Duration.ofSeconds(30));
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    @Before
    public void setUp() throws IOException {
        home = temp.newFolder("home").toPath();
        statusDirectory = home.resolve("data/status");
        jsonl = statusDirectory.resolve("mesh.jsonl");
        rotated = statusDirectory.resolve("mesh.jsonl.1");
        clock = new SteppingClock();
        monitor = new JsonlMeshMonitor(clock);
        monitor.nodeDirectory = new StubNodeDirectory(List.of(
                new NodeSession("id-1", "web1", "10.0.0.1:5000", T0.minusSeconds(60), T0.minusSeconds(2))));
        monitor.taskJournal = new StubTaskJournal(4, 1);
        monitor.lockRegistry = new StubLockRegistry(new LockStats(2, Duration.ofMillis(1_500), 10, 7, 1, 4));
    }

    @After
    public void makeWritableAgain() {
        statusDirectory.toFile().setWritable(true);
    }

    private void start(Map<String, ?> config) {
        monitor.start(home.toString(), TypedConfigs.of(JsonlMonitorConfiguration.class, config), SCHEDULE);
    }

    private void runAdvancing() throws Exception {
        monitor.run();
        clock.advance();
    }

    /** The file's lines, each parsed strictly as one JSON document. */
    private static List<JsonObject> lines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue("ends with a newline", text.endsWith("\n"));
        return text.lines().map(JsonlMeshMonitorTest::parseStrict).collect(Collectors.toList());
    }

    private static JsonObject parseStrict(String line) {
        try {
            JsonReader reader = new JsonReader(new StringReader(line));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = new Gson().getAdapter(JsonElement.class).read(reader);
            assertEquals(JsonToken.END_DOCUMENT, reader.peek());
            return element.getAsJsonObject();
        } catch (IOException e) {
            throw new AssertionError("not one JSON document: " + line, e);
        }
    }

    private List<String> files() throws IOException {
        try (Stream<Path> listing = Files.list(statusDirectory)) {
            return listing.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    public void eachRunAppendsExactlyOneCompactLine() throws Exception {
        start(Map.of());

        for (int run = 1; run <= 3; run++) {
            runAdvancing();
            List<JsonObject> lines = lines(jsonl);
            assertEquals(run, lines.size());
            JsonObject last = lines.get(run - 1);
            assertEquals(T0.plusSeconds(30L * (run - 1)).toString(), last.get("takenAt").getAsString());
            assertEquals(1, last.getAsJsonObject("nodes").get("connected").getAsInt());
            assertEquals(4L, last.getAsJsonObject("tasks").get("RUNNING").getAsLong());
            assertEquals(1L, last.getAsJsonObject("journal").get("backlog").getAsLong());
            JsonObject locks = last.getAsJsonObject("locks");
            assertEquals(2, locks.get("live").getAsInt());
            assertEquals(1_500L, locks.get("oldestAgeMillis").getAsLong());
            assertEquals(1L, locks.get("expired").getAsLong());
            assertEquals(4L, locks.get("refused").getAsLong());
        }
        assertEquals(List.of("mesh.jsonl"), files());
        assertEquals(T0.plusSeconds(60), monitor.latest().orElseThrow().takenAt());
    }

    @Test
    public void missingServicesAreNullPartsOfTheLine() throws Exception {
        monitor.nodeDirectory = null;
        monitor.taskJournal = null;
        monitor.lockRegistry = null;
        start(Map.of());

        monitor.run();

        JsonObject line = lines(jsonl).get(0);
        assertTrue(line.get("nodes").isJsonNull());
        assertTrue(line.get("tasks").isJsonNull());
        assertTrue(line.get("journal").isJsonNull());
        assertTrue(line.get("locks").isJsonNull());
        assertEquals(3, line.getAsJsonArray("unavailable").size());
        assertEquals("locks: no lock registry running", line.getAsJsonArray("unavailable").get(2).getAsString());
    }

    @Test
    public void fileIsRotatedBeforeALineWouldTakeItPastMaxBytes() throws Exception {
        // Measure one line, then allow two: later lines are a few bytes longer (older heartbeats), so
        // leave some slack, far less than a third line.
        Path probe = temp.newFolder("probe").toPath();
        monitor.start(probe.toString(), TypedConfigs.of(JsonlMonitorConfiguration.class, Map.of()), SCHEDULE);
        monitor.run();
        long lineBytes = Files.size(probe.resolve("data/status/mesh.jsonl"));
        start(Map.of("maxBytes", 2 * lineBytes + 10));

        runAdvancing();
        runAdvancing();
        assertEquals(List.of("mesh.jsonl"), files());
        assertEquals(2, lines(jsonl).size());

        runAdvancing();
        assertEquals(List.of("mesh.jsonl", "mesh.jsonl.1"), files());
        assertEquals(2, lines(rotated).size());
        assertEquals(1, lines(jsonl).size());
        assertEquals(T0.plusSeconds(60).toString(), lines(jsonl).get(0).get("takenAt").getAsString());

        runAdvancing();
        runAdvancing();
        assertEquals("the older .1 is replaced", T0.plusSeconds(60).toString(),
                lines(rotated).get(0).get("takenAt").getAsString());
        assertEquals(1, lines(jsonl).size());
        assertEquals(T0.plusSeconds(120).toString(), lines(jsonl).get(0).get("takenAt").getAsString());
    }

    @Test
    public void aLineLargerThanMaxBytesStillGetsAFileOfItsOwn() throws Exception {
        start(Map.of("maxBytes", 1L));

        runAdvancing();
        runAdvancing();

        assertEquals(1, lines(jsonl).size());
        assertEquals(1, lines(rotated).size());
    }

    @Test
    public void aPartialLastLineIsCutOffBeforeTheNextAppend() throws Exception {
        start(Map.of());
        runAdvancing();
        String whole = Files.readString(jsonl);
        // What a crash in the middle of an append leaves.
        Files.writeString(jsonl, whole + "{\"takenAt\":\"2026-11-", StandardCharsets.UTF_8);

        runAdvancing();

        List<JsonObject> lines = lines(jsonl);
        assertEquals(2, lines.size());
        assertTrue(Files.readString(jsonl).startsWith(whole));
        assertEquals(T0.plusSeconds(30).toString(), lines.get(1).get("takenAt").getAsString());
    }

    @Test
    public void aFileHoldingOnlyAFragmentIsEmptiedFirst() throws Exception {
        Files.createDirectories(statusDirectory);
        Files.writeString(jsonl, "{\"takenAt\"", StandardCharsets.UTF_8);
        start(Map.of());

        monitor.run();

        assertEquals(1, lines(jsonl).size());
    }

    @Test
    public void readOnlyDirectoryFailsTheRunWithAdviceAndTheNextRunRecovers() throws Exception {
        start(Map.of());
        runAdvancing();

        // The file too: appending to an existing file needs no write permission on its directory.
        ReadOnly.make(statusDirectory);
        ReadOnly.make(jsonl);
        try {
            monitor.run();
            fail("appended to a read-only file");
        } catch (IOException expected) {
            String message = expected.getMessage();
            assertTrue(message, message.startsWith("cannot write mesh status to " + jsonl + ": file not writable"));
            assertTrue(message, message.contains("set statusDirectory in etc/dev.meshhub.monitor.jsonl.cfg"));
        }
        assertEquals(T0.plusSeconds(30), monitor.latest().orElseThrow().takenAt());
        assertEquals(1, lines(jsonl).size());

        ReadOnly.undo(statusDirectory);
        ReadOnly.undo(jsonl);
        clock.advance();
        monitor.run();
        assertEquals(2, lines(jsonl).size());
    }

    @Test
    public void statusDirectoryBlockedByAFileFailsTheRunWithAdvice() throws Exception {
        // Runs under any user, root included.
        Files.createDirectories(statusDirectory.getParent());
        Files.writeString(statusDirectory, "not a directory");
        start(Map.of());

        try {
            monitor.run();
            fail("wrote below a regular file");
        } catch (IOException expected) {
            String message = expected.getMessage();
            assertTrue(message, message.startsWith("cannot write mesh status to " + jsonl + ": "));
            assertTrue(message, message.contains("is not a directory"));
        }
        assertTrue(monitor.latest().isPresent());

        Files.delete(statusDirectory);
        monitor.run();
        assertEquals(1, lines(jsonl).size());
    }

    @Test
    public void invalidConfigurationFailsActivation() {
        for (Map<String, ?> config : List.of(Map.of("maxBytes", 0L), Map.of("statusDirectory", " "),
                Map.of("journalTimeoutMillis", -1L))) {
            try {
                start(config);
                fail("accepted " + config);
            } catch (IllegalArgumentException expected) {
                String key = config.keySet().iterator().next();
                assertTrue(expected.getMessage(), expected.getMessage().startsWith(key + " must"));
            }
        }
        assertFalse(Files.exists(statusDirectory));
    }

}
