package dev.meshhub.monitor.impl;

import dev.meshhub.testing.ReadOnly;
import static dev.meshhub.monitor.impl.MonitorFixture.SCHEDULE;
import static dev.meshhub.monitor.impl.MonitorFixture.config;
import static dev.meshhub.monitor.impl.MonitorFixture.files;
import static dev.meshhub.monitor.snapshot.Snapshots.T0;
import static dev.meshhub.monitor.snapshot.Snapshots.nodes;
import static dev.meshhub.monitor.snapshot.Snapshots.parseStrict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import com.google.gson.JsonObject;

import dev.meshhub.api.lock.LockStats;
import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.monitor.impl.MonitorFixture.SteppingClock;
import dev.meshhub.monitor.snapshot.FakeLockRegistry;
import dev.meshhub.monitor.snapshot.FakeNodeDirectory;
import dev.meshhub.monitor.snapshot.FakeTaskJournal;

public class MeshMonitorTest {

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private Path home;
    private Path statusDirectory;
    private Path meshJson;
    private SteppingClock clock;
    private MeshMonitor monitor;

    @Before
    public void setUp() throws IOException {
        home = temp.newFolder("home").toPath();
        statusDirectory = home.resolve("data/status");
        meshJson = statusDirectory.resolve("mesh.json");
        clock = new SteppingClock(T0);
        monitor = new MeshMonitor(clock);
    }

    @After
    public void makeWritableAgain() {
        // TemporaryFolder must be able to delete it.
        statusDirectory.toFile().setWritable(true);
    }

    private void startWithDefaults() {
        monitor.start(home.toString(), config(Map.of()), SCHEDULE);
    }

    private JsonObject readMeshJson() throws IOException {
        return parseStrict(Files.readString(meshJson));
    }

    @Test
    public void runWritesTheSnapshotUnderMeshhubHome() throws Exception {
        startWithDefaults();
        monitor.nodeDirectory = new FakeNodeDirectory(nodes(3));
        monitor.taskJournal = FakeTaskJournal.answering(Map.of(TaskState.SUCCEEDED, 5L), 2);
        LockStats locks = new LockStats(1, Duration.ofSeconds(12), 9, 7, 1, 3);
        monitor.lockRegistry = FakeLockRegistry.answering(locks);

        assertFalse(monitor.latest().isPresent());
        monitor.run();

        MeshSnapshot latest = monitor.latest().orElseThrow();
        assertEquals(nodes(3), latest.nodes());
        assertEquals(Long.valueOf(5), latest.tasksByState().get(TaskState.SUCCEEDED));
        assertEquals(Long.valueOf(2), latest.journalBacklog());
        assertEquals(locks, latest.locks());
        assertEquals(List.of(), latest.unavailable());
        assertEquals(List.of("mesh.json"), files(statusDirectory));

        JsonObject json = readMeshJson();
        assertEquals(T0.toString(), json.get("takenAt").getAsString());
        assertEquals(3, json.getAsJsonObject("nodes").get("connected").getAsInt());
        assertEquals(5L, json.getAsJsonObject("tasks").get("SUCCEEDED").getAsLong());
        assertEquals(2L, json.getAsJsonObject("journal").get("backlog").getAsLong());
        JsonObject lockJson = json.getAsJsonObject("locks");
        assertEquals(1, lockJson.get("live").getAsInt());
        assertEquals(12_000L, lockJson.get("oldestAgeMillis").getAsLong());
        assertEquals(1L, lockJson.get("expired").getAsLong());
        assertTrue("pretty-printed", Files.readString(meshJson).contains("\n  \"nodes\": {"));
    }

    @Test
    public void runWithoutTransportJournalOrLockRegistrySaysSoAndStillWrites() throws Exception {
        startWithDefaults();

        monitor.run();

        JsonObject json = readMeshJson();
        assertTrue(json.get("nodes").isJsonNull());
        assertTrue(json.get("tasks").isJsonNull());
        assertTrue(json.get("journal").isJsonNull());
        assertTrue(json.get("locks").isJsonNull());
        assertEquals("transport: not running", json.getAsJsonArray("unavailable").get(0).getAsString());
        assertEquals("journal: not running", json.getAsJsonArray("unavailable").get(1).getAsString());
        assertEquals("locks: no lock registry running", json.getAsJsonArray("unavailable").get(2).getAsString());
    }

    @Test
    public void aLockRegistryStartedLaterIsInTheNextSnapshot() throws Exception {
        startWithDefaults();
        monitor.run();
        assertTrue(readMeshJson().get("locks").isJsonNull());

        monitor.lockRegistry = FakeLockRegistry.answering(new LockStats(0, Duration.ZERO, 0, 0, 0, 0));
        clock.advance(Duration.ofSeconds(30));
        monitor.run();

        assertEquals(0, readMeshJson().getAsJsonObject("locks").get("live").getAsInt());
        assertEquals(List.of("transport: not running", "journal: not running"), monitor.latest().orElseThrow().unavailable());
    }

    @Test
    public void journalNotAnsweringInTimeIsReported() throws Exception {
        monitor.start(home.toString(), config(Map.of("journalTimeoutMillis", 20L)), SCHEDULE);
        monitor.taskJournal = FakeTaskJournal.silent(0);

        monitor.run();

        assertEquals(List.of("transport: not running", "journal: did not answer within 20 ms",
                "locks: no lock registry running"),
                monitor.latest().orElseThrow().unavailable());
        assertTrue(readMeshJson().get("tasks").isJsonNull());
    }

    @Test
    public void interruptWhileWaitingForTheJournalWritesNothing() throws Exception {
        startWithDefaults();
        FakeTaskJournal journal = FakeTaskJournal.silent(0);
        monitor.taskJournal = journal;
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread run = new Thread(() -> {
            try {
                monitor.run();
                outcome.set(new AssertionError("run() returned"));
            } catch (Throwable e) {
                outcome.set(e);
            }
        });
        run.start();
        journal.countCalls.await();
        run.interrupt();
        run.join();

        assertTrue(String.valueOf(outcome.get()), outcome.get() instanceof InterruptedException);
        assertFalse(monitor.latest().isPresent());
        assertFalse("nothing written", Files.exists(statusDirectory));
    }

    @Test
    public void readOnlyDirectoryFailsTheRunWithAdviceAndTheNextRunRecovers() throws Exception {
        startWithDefaults();
        monitor.run();
        String first = Files.readString(meshJson);

        ReadOnly.make(statusDirectory);
        clock.advance(Duration.ofSeconds(30));
        try {
            monitor.run();
            fail("wrote into a read-only directory");
        } catch (IOException expected) {
            String message = expected.getMessage();
            assertTrue(message, message.startsWith("cannot write mesh status to " + meshJson + ": directory not writable"));
            assertTrue(message, message.contains("set statusDirectory in etc/dev.meshhub.monitor.cfg"));
        }
        assertEquals("served from memory though not written", T0.plusSeconds(30),
                monitor.latest().orElseThrow().takenAt());
        assertEquals(List.of("mesh.json"), files(statusDirectory));
        assertEquals("the previous document is intact", first, Files.readString(meshJson));

        ReadOnly.undo(statusDirectory);
        clock.advance(Duration.ofSeconds(30));
        monitor.run();
        assertEquals(T0.plusSeconds(60).toString(), readMeshJson().get("takenAt").getAsString());
        assertEquals(List.of("mesh.json"), files(statusDirectory));
    }

    @Test
    public void statusDirectoryBlockedByAFileFailsTheRunAndTheNextRunRecovers() throws Exception {
        // Runs under any user, root included: nothing can create a directory where a file is.
        Files.createDirectories(statusDirectory.getParent());
        Files.writeString(statusDirectory, "not a directory");
        startWithDefaults();

        try {
            monitor.run();
            fail("wrote below a regular file");
        } catch (IOException expected) {
            String message = expected.getMessage();
            assertTrue(message, message.startsWith("cannot write mesh status to " + meshJson + ": "));
            assertTrue(message, message.contains("is not a directory"));
            assertTrue(message, message.contains("the snapshot is still served by meshctl status"));
        }
        assertTrue(monitor.latest().isPresent());
        assertEquals(List.of("status"), files(statusDirectory.getParent()));

        Files.delete(statusDirectory);
        monitor.run();
        assertEquals(List.of("mesh.json"), files(statusDirectory));
    }

    @Test
    public void staleTemporaryFilesAreRemovedOnTheFirstRun() throws Exception {
        Files.createDirectories(statusDirectory);
        Files.writeString(statusDirectory.resolve(".mesh.json.1234abcd.tmp"), "{\"half");
        Files.writeString(statusDirectory.resolve("other.txt"), "not ours");
        startWithDefaults();

        monitor.run();

        assertEquals(List.of("mesh.json", "other.txt"), files(statusDirectory));
    }

    @Test
    public void absoluteStatusDirectoryIsUsedAsIs() throws Exception {
        Path elsewhere = temp.newFolder("elsewhere").toPath().resolve("deep/status");
        monitor.start(home.toString(), config(Map.of("statusDirectory", elsewhere.toString())), SCHEDULE);

        monitor.run();

        assertEquals(List.of("mesh.json"), files(elsewhere));
    }

    @Test
    public void blankStatusDirectoryFailsActivation() {
        try {
            monitor.start(home.toString(), config(Map.of("statusDirectory", "  ")), SCHEDULE);
            fail("a blank directory was accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("statusDirectory must not be empty"));
        }
    }

    @Test
    public void journalTimeoutOutOfRangeFailsActivation() {
        try {
            monitor.start(home.toString(), config(Map.of("journalTimeoutMillis", 0L)), SCHEDULE);
            fail("a zero timeout was accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("journalTimeoutMillis must be between 1"));
        }
    }

    @Test
    public void invalidModificationKeepsTheRunningConfiguration() throws Exception {
        startWithDefaults();
        try {
            monitor.modified(config(Map.of("statusDirectory", "")), Map.of());
            fail("a blank directory was accepted");
        } catch (IllegalArgumentException expected) {
            // the component keeps running with what it had
        }

        monitor.run();

        assertEquals(List.of("mesh.json"), files(statusDirectory));
    }

    @Test
    public void runBeforeActivationFails() throws Exception {
        try {
            monitor.run();
            fail("ran without a configuration");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("not active"));
        }
    }

}
