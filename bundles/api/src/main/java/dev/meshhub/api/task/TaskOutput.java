package dev.meshhub.api.task;

/**
 * A chunk of a task's output, in the order the node produced it.
 *
 * @param taskId   the task
 * @param stream   stdout or stderr
 * @param data     the bytes (not a copy: do not modify)
 * @param sequence per-task counter across both streams, from 1
 */
public record TaskOutput(String taskId, Stream stream, byte[] data, long sequence) {

    /** Which stream of the process. */
    public enum Stream {
        STDOUT, STDERR
    }
}
