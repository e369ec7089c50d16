package dev.meshhub.tasklogs.impl;

import static org.junit.Assert.assertNull;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.rules.ExternalResource;
import org.junit.rules.TemporaryFolder;

import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogReader.Chunk;
import dev.meshhub.testing.TypedConfigs;

/**
 * Shared setup for the task logs' tests: real components on a temporary meshhub home, a configuration
 * that tests tweak (the disk reserve off, so a nearly full build disk does not matter), and helpers to
 * wait, read logs back and write log files by hand. Use as a {@code @Rule} after a
 * {@link TemporaryFolder} rule (see {@link #of}).
 */
final class TaskLogsFixture extends ExternalResource {

    /** A hang guard only: nothing here is expected to take more than a moment. */
    static final long TIMEOUT_SECONDS = 30;

    private final TemporaryFolder folder;
    private final Map<String, Object> config = new HashMap<>();
    private final List<TaskLogsComponent> components = new ArrayList<>();
    Path home;
    Path root;

    private TaskLogsFixture(TemporaryFolder folder) {
        this.folder = folder;
    }

    static TaskLogsFixture of(TemporaryFolder folder) {
        return new TaskLogsFixture(folder);
    }

    @Override
    protected void before() throws IOException {
        home = folder.newFolder("home").toPath();
        root = home.resolve("data/logs");
        config.put("diskReserveBytes", 0L);
    }

    @Override
    protected void after() {
        for (TaskLogsComponent component : components) {
            component.deactivate();
        }
    }

    /** Sets a configuration value for components made from now on (and {@link #reconfigure}). */
    TaskLogsFixture with(String key, Object value) {
        config.put(key, value);
        return this;
    }

    TaskLogsConfiguration config() {
        return TypedConfigs.of(TaskLogsConfiguration.class, new HashMap<>(config));
    }

    /** The component, activated on first use, once it has counted the logs already there. */
    TaskLogsComponent component() throws Exception {
        return components.isEmpty() ? another() : components.get(0);
    }

    /** Another component on the same directory, as a hub started again after a crash would be. */
    TaskLogsComponent another() throws Exception {
        TaskLogsComponent component = new TaskLogsComponent();
        component.open(home.toString(), config());
        components.add(component);
        await(component.current().prepared());
        return component;
    }

    /** Applies the configuration so far to the running component, as a ConfigAdmin update would. */
    void reconfigure() throws Exception {
        component().modified(config());
    }

    Path logFile(String taskId) {
        return TaskLogNames.path(root, taskId);
    }

    static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Every chunk the reader has now, checking that it then returns null. */
    static List<Chunk> chunks(TaskLogReader reader) throws IOException {
        List<Chunk> chunks = new ArrayList<>();
        for (Chunk chunk = reader.next(); chunk != null; chunk = reader.next()) {
            chunks.add(chunk);
        }
        assertNull(reader.next());
        return chunks;
    }

    /** The chunks as text: {@code STDOUT@0:hello|STDERR@6:oops}. */
    static String describe(List<Chunk> chunks) {
        StringBuilder text = new StringBuilder();
        for (Chunk chunk : chunks) {
            text.append(text.length() == 0 ? "" : "|").append(chunk.stream()).append('@').append(chunk.offset()).append(':')
                    .append(new String(chunk.data(), StandardCharsets.UTF_8));
        }
        return text.toString();
    }

    /** A log file's bytes, written by hand: the magic, then the given records. */
    static final class LogBytes {

        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        LogBytes() {
            bytes.writeBytes(TaskLogFormat.MAGIC);
        }

        LogBytes record(byte type, byte[] payload) {
            return header(type, payload.length).raw(payload);
        }

        LogBytes header(byte type, int length) {
            bytes.writeBytes(TaskLogFormat.header(type, length).array());
            return this;
        }

        LogBytes raw(byte[] payload) {
            bytes.writeBytes(payload);
            return this;
        }

        LogBytes end(String ending, long outputBytes) {
            return record(TaskLogFormat.END, TaskLogFormat.end(new TaskLogFormat.End(ending, outputBytes, outputBytes, false, "")));
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }

        Path writeTo(Path file) throws IOException {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes.toByteArray());
            return file;
        }

        Path writeTo(Path file, Instant modified) throws IOException {
            writeTo(file);
            Files.setLastModifiedTime(file, FileTime.from(modified));
            return file;
        }
    }

    /** Open file descriptors of this JVM that point under {@code directory} (Linux); -1 where /proc is not there. */
    static int openFilesUnder(Path directory) throws IOException {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        int count = 0;
        try (Stream<Path> list = Files.list(fds)) {
            for (Path fd : (Iterable<Path>) list::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).startsWith(directory)) {
                        count++;
                    }
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        }
        return count;
    }

    /** Waits, polling, until {@code condition} holds; fails after the hang guard. */
    static void until(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }
}
