package dev.meshhub.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Reads a hub's log as it grows, from where it ended when the watch began (a hub started again
 * appends to its log), on a thread of its own every {@value #POLL_MS} ms, and notes when a line
 * containing each of the watched texts first appeared ({@link System#nanoTime()}; the poll period is
 * the error). Used for lines without a timestamp of their own, such as the launcher's
 * "meshhub started in N ms"; the log's timestamped lines are read afterwards with {@link #milestones}.
 */
final class LogWatch implements AutoCloseable {

    static final int POLL_MS = 5;

    private final Path log;
    private final List<String> texts;
    private final Map<String, Long> seen = new ConcurrentHashMap<>();
    private final StringBuilder read = new StringBuilder();
    private final Thread thread;
    private long offset;
    private volatile boolean closed;

    /** Starts watching {@code log} (which may not exist yet) from its current end. */
    LogWatch(Path log, List<String> texts) throws IOException {
        this.log = log;
        this.texts = List.copyOf(texts);
        this.offset = Files.exists(log) ? Files.size(log) : 0;
        thread = new Thread(this::poll, "bench-log-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void poll() {
        StringBuilder partial = new StringBuilder();
        ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        while (!closed) {
            try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ)) {
                channel.position(offset);
                int n;
                while ((n = channel.read(buffer)) > 0) {
                    offset += n;
                    buffer.flip();
                    // Lines are ASCII but for paths; a multi-byte character split across reads only blurs that line.
                    partial.append(StandardCharsets.UTF_8.decode(buffer));
                    buffer.clear();
                }
            } catch (NoSuchFileException e) {
                // Not created yet.
            } catch (IOException e) {
                // Try again at the next poll.
            }
            long now = System.nanoTime();
            int end;
            while ((end = partial.indexOf("\n")) >= 0) {
                String line = partial.substring(0, end);
                partial.delete(0, end + 1);
                synchronized (read) {
                    read.append(line).append('\n');
                }
                for (String text : texts) {
                    if (line.contains(text)) {
                        seen.putIfAbsent(text, now);
                    }
                }
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** When a line containing {@code text} was first seen, or -1. */
    long seen(String text) {
        return seen.getOrDefault(text, -1L);
    }

    /**
     * Waits for a line containing {@code text}; returns when it was seen.
     *
     * @throws IllegalStateException if {@code alive} turns false or the deadline ({@link System#nanoTime()}) passes first
     */
    long await(String text, long deadline, BooleanSupplier alive) throws InterruptedException {
        while (seen(text) < 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no line with '" + text + "' in " + log + " in time");
            }
            if (!alive.getAsBoolean()) {
                Thread.sleep(2 * POLL_MS);
                if (seen(text) < 0) {
                    throw new IllegalStateException("the process ended before its log said '" + text + "'; see " + log);
                }
            }
            Thread.sleep(1);
        }
        return seen(text);
    }

    /** Everything read so far, whole lines. */
    String text() {
        synchronized (read) {
            return read.toString();
        }
    }

    /**
     * For each label, the first timestamped line containing its text: milliseconds after {@code
     * spawnEpochMs} (the log's timestamps are wall-clock, to the millisecond); labels not found are left out.
     */
    Map<String, Long> milestones(Map<String, String> labelToText, long spawnEpochMs) {
        Map<String, Long> found = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>(List.of(text().split("\n")));
        for (Map.Entry<String, String> milestone : labelToText.entrySet()) {
            for (String line : lines) {
                int space = line.indexOf(' ');
                if (space > 0 && line.contains(milestone.getValue())) {
                    try {
                        long at = OffsetDateTime.parse(line.substring(0, space)).toInstant().toEpochMilli();
                        found.put(milestone.getKey(), at - spawnEpochMs);
                        break;
                    } catch (DateTimeParseException e) {
                        // Not a timestamped line.
                    }
                }
            }
        }
        return found;
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
