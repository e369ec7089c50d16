package dev.meshhub.monitor.impl;

import static dev.meshhub.monitor.impl.MonitorFixture.files;
import static dev.meshhub.monitor.snapshot.Snapshots.T0;
import static dev.meshhub.monitor.snapshot.Snapshots.nodes;
import static dev.meshhub.monitor.snapshot.Snapshots.parseStrict;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import com.google.gson.JsonObject;

import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.api.node.NodeSession;
import dev.meshhub.api.task.TaskState;

public class MeshJsonFileTest {

    private static final int NODES = 2_000;
    private static final int WRITES = 60;

    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    @Test
    public void aConcurrentReaderOnlyEverSeesWholeDocuments() throws Exception {
        Path file = temp.getRoot().toPath().resolve("status/mesh.json");
        List<NodeSession> nodes = nodes(NODES);
        MeshJsonFile.replace(file, snapshot(nodes, 0));

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<Throwable> readerFailure = new AtomicReference<>();
        AtomicInteger reads = new AtomicInteger();
        Thread reader = new Thread(() -> {
            try {
                // At least one read after the writer is done, so the loop cannot end before it starts.
                boolean last;
                do {
                    last = !writing.get();
                    JsonObject json = parseStrict(Files.readString(file));
                    assertEquals(NODES, json.getAsJsonObject("nodes").getAsJsonArray("list").size());
                    reads.incrementAndGet();
                } while (!last);
            } catch (Throwable e) {
                readerFailure.set(e);
            }
        }, "mesh.json reader");
        reader.start();
        try {
            for (int i = 1; i <= WRITES && readerFailure.get() == null; i++) {
                MeshJsonFile.replace(file, snapshot(nodes, i));
            }
        } finally {
            writing.set(false);
            reader.join();
        }

        assertNull(String.valueOf(readerFailure.get()), readerFailure.get());
        assertTrue(reads.get() > 0);
        assertEquals(String.valueOf(WRITES), parseStrict(Files.readString(file)).getAsJsonObject("journal")
                .get("backlog").getAsString());
        assertEquals(List.of("mesh.json"), files(file.getParent()));
    }

    private static MeshSnapshot snapshot(List<NodeSession> nodes, long backlog) {
        return new MeshSnapshot(T0.plusSeconds(backlog), nodes, Map.of(TaskState.RUNNING, backlog), backlog,
                null, List.of());
    }
}
