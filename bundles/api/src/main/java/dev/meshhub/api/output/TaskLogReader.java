package dev.meshhub.api.output;

import java.io.Closeable;
import java.io.IOException;

import dev.meshhub.api.task.TaskOutput;

/**
 * Reads a task's log from an offset, chunk by chunk, as written. Blocking: use it off gRPC and Netty
 * threads. Reading past what the log holds now returns null; a log still open may grow after that
 * (see {@link TaskLogs#grown}), and {@link #next} then returns the new chunks. Holds a file open until
 * closed; for use by one thread at a time.
 */
public interface TaskLogReader extends Closeable {

    /** One chunk of output: its stream, the output offset of its first byte, and its bytes. */
    record Chunk(TaskOutput.Stream stream, long offset, byte[] data) {
    }

    /**
     * The next chunk (the first one cut so that it starts at the reader's offset), or null when the
     * log holds nothing more now.
     */
    Chunk next() throws IOException;

    /**
     * The log's info: while the log was being written when this reader was opened, its writer's info
     * (current, final once it finished); else what the file says (read again: its notes, end record, or
     * damage that stopped the reader).
     */
    TaskLogInfo info() throws IOException;
}
