package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;

/**
 * Reads one log from an output offset: walks the record headers (skipping payloads by position, so a
 * start deep into a big log reads only headers), cuts the first chunk at the offset, and returns the
 * chunks one record at a time. Notes and the end record are not returned: {@link #info()} reflects them.
 *
 * <p>Bound to the writer that was live when it was opened, if any, it never reads past what that
 * writer committed (whole records only) and opens the file only once the writer has made it; so it
 * follows a running task by being called again after {@link dev.meshhub.api.output.TaskLogs#grown}.
 * Without a writer it reads to the file's end, stopping before a record cut short by a crash.
 */
final class TaskLogCursor implements TaskLogReader {

    private final String taskId;
    private final Path path;
    private final long from;
    private final LiveTaskLog writer;
    private FileChannel channel;
    /** File position of the next record; 0 until the magic was read. */
    private long position;
    /** Output offset of the next chunk's first byte. */
    private long outputPosition;
    /** The end record or damage was reached: nothing more will come. */
    private boolean stopped;

    TaskLogCursor(String taskId, Path path, long from, LiveTaskLog writer, FileChannel channel) {
        this.taskId = taskId;
        this.path = path;
        this.from = from;
        this.writer = writer;
        this.channel = channel;
    }

    @Override
    public Chunk next() throws IOException {
        if (stopped || !open()) {
            return null;
        }
        long limit = writer != null ? writer.committed() : channel.size();
        if (position == 0) {
            if (!LogRecords.checkMagic(channel, limit, path)) {
                return null;
            }
            position = TaskLogFormat.MAGIC.length;
        }
        while (true) {
            LogRecords.Header header = LogRecords.header(channel, position, limit);
            if (header == null) {
                return null;
            }
            if (!header.valid() || header.type() == TaskLogFormat.END) {
                stopped = true; // info() tells the end or the damage
                return null;
            }
            if (TaskLogFormat.isChunk(header.type())) {
                long start = outputPosition;
                if (start + header.length() > from) {
                    int skip = (int) Math.max(0, from - start);
                    byte[] data = LogRecords.payload(channel, header, skip);
                    position = header.end();
                    outputPosition = start + header.length();
                    return new Chunk(TaskLogFormat.streamOf(header.type()), start + skip, data);
                }
                outputPosition = start + header.length();
            }
            position = header.end();
        }
    }

    /** Opens the file once there is one to read; false until then. */
    private boolean open() throws IOException {
        if (channel != null) {
            return true;
        }
        if (writer.committed() == 0) {
            return false;
        }
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /**
     * The writer's info while it was live when this reader was opened (its final info once it ended);
     * else the file's, scanned again (notes, end record, damage).
     */
    @Override
    public TaskLogInfo info() throws IOException {
        if (writer != null) {
            return writer.info();
        }
        return TaskLogScan.scan(taskId, path, channel);
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
        }
    }
}
