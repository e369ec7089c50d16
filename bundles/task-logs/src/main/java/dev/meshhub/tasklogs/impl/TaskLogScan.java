package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

import dev.meshhub.api.output.TaskLogInfo;

/**
 * The info of a log no writer in this hub holds, from its file: the end record if there is one, else
 * the counts found by walking the record headers (payloads are skipped, notes read), stopping at the
 * last whole record.
 */
final class TaskLogScan {

    private TaskLogScan() {
    }

    /** Scans the file at {@code path}; throws {@link NoSuchFileException} if there is none. */
    static TaskLogInfo scan(String taskId, Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return scan(taskId, path, channel);
        }
    }

    /** Scans an open log file (from its start, whatever the channel's position). */
    static TaskLogInfo scan(String taskId, Path path, FileChannel channel) throws IOException {
        long limit = channel.size();
        Instant modified = Files.getLastModifiedTime(path).toInstant();
        if (!LogRecords.checkMagic(channel, limit, path)) {
            return new TaskLogInfo(taskId, 0, 0, false, false, "", "", modified);
        }
        long position = TaskLogFormat.MAGIC.length;
        long logged = 0;
        String note = null;
        String damage = null;
        TaskLogFormat.End end = null;
        while (end == null) {
            LogRecords.Header header = LogRecords.header(channel, position, limit);
            if (header == null) {
                break;
            }
            if (!header.valid()) {
                damage = LogRecords.damage(header, logged);
                break;
            }
            if (TaskLogFormat.isChunk(header.type())) {
                logged += header.length();
            } else if (header.type() == TaskLogFormat.NOTE) {
                note = TaskLogFormat.text(LogRecords.payload(channel, header, 0));
            } else {
                end = TaskLogFormat.parseEnd(LogRecords.payload(channel, header, 0));
            }
            position = header.end();
        }
        if (end != null) {
            return new TaskLogInfo(taskId, Math.max(end.outputBytes(), logged), logged, false, end.truncated(),
                    end.truncated() ? end.truncation() : "", end.ending(), modified);
        }
        String truncation = note != null ? note : damage != null ? damage : "";
        return new TaskLogInfo(taskId, logged, logged, false, !truncation.isEmpty(), truncation, "", modified);
    }
}
