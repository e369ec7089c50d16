package dev.meshhub.tasklogs.impl;

import static dev.meshhub.tasklogs.impl.TaskLogsFixture.await;
import static dev.meshhub.tasklogs.impl.TaskLogsFixture.chunks;
import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogReader.Chunk;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput.Stream;

/** Many tasks logged at once from many threads: each log holds its own chunks, in order, and nothing else. */
public class TaskLogConcurrencyTest {

    private static final int TASKS = 40;
    private static final int CHUNKS = 200;

    private final TemporaryFolder folder = new TemporaryFolder();
    private final TaskLogsFixture fixture = TaskLogsFixture.of(folder);

    @Rule
    public final RuleChain rules = RuleChain.outerRule(folder).around(fixture);

    /** Appends without waiting for each stage (the dispatcher paces by them; here nothing does), then finishes. */
    private static byte[] logTask(TaskLogs logs, int task) throws Exception {
        Random random = new Random(task);
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        TaskLogWriter writer = logs.start("t-many" + task);
        List<CompletionStage<Void>> taken = new ArrayList<>();
        for (int i = 0; i < CHUNKS; i++) {
            byte[] chunk = new byte[1 + random.nextInt(3000)];
            random.nextBytes(chunk);
            sent.writeBytes(chunk);
            taken.add(writer.append(i % 3 == 0 ? Stream.STDERR : Stream.STDOUT, chunk));
        }
        for (CompletionStage<Void> stage : taken) {
            await(stage);
        }
        assertEquals(sent.size(), await(writer.finish("SUCCEEDED, exit code 0")).loggedBytes());
        return sent.toByteArray();
    }

    @Test
    public void manyTasksFromManyThreadsEachReadBackExactly() throws Exception {
        TaskLogs logs = fixture.component();
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<byte[]>> sent = new ArrayList<>();
            for (int task = 0; task < TASKS; task++) {
                int id = task;
                sent.add(callers.submit(() -> logTask(logs, id)));
            }
            for (int task = 0; task < TASKS; task++) {
                byte[] expected = sent.get(task).get(TaskLogsFixture.TIMEOUT_SECONDS, TimeUnit.SECONDS);
                ByteArrayOutputStream back = new ByteArrayOutputStream();
                try (TaskLogReader reader = logs.read("t-many" + task, 0)) {
                    List<Chunk> chunks = chunks(reader);
                    assertEquals(CHUNKS, chunks.size());
                    for (int i = 0; i < chunks.size(); i++) {
                        assertEquals(i % 3 == 0 ? Stream.STDERR : Stream.STDOUT, chunks.get(i).stream());
                        assertEquals(back.size(), chunks.get(i).offset());
                        back.writeBytes(chunks.get(i).data());
                    }
                }
                assertArrayEquals(expected, back.toByteArray());
            }
        } finally {
            callers.shutdownNow();
        }
        assertEquals(0, fixture.component().status().openLogs());
        CompletableFuture<Void> none = logs.grown("t-many0", 0).toCompletableFuture();
        assertTrue(none.isDone());
    }
}
