package dev.meshhub.journal.impl;

/**
 * How the task journal's group-commit writer is sized, checked on construction.
 *
 * @param writeQueueCapacity writes (tasks and audit) that may wait for the writer; more fail at once
 *                           with "journal is overloaded; retry shortly"
 * @param maxBatch           most writes the writer applies in one transaction (one commit)
 * @param outputTailBytes    how many of a task's last output bytes the journal keeps
 */
public record TaskJournalSettings(int writeQueueCapacity, int maxBatch, int outputTailBytes) {

    static final int MAX_WRITE_QUEUE_CAPACITY = 1_000_000;
    static final int MAX_BATCH = 100_000;
    static final int MAX_OUTPUT_TAIL_BYTES = JournalSchema.MAX_OUTPUT_TAIL_BYTES;

    /** The defaults of {@link JournalConfiguration}. */
    public static final TaskJournalSettings DEFAULTS = new TaskJournalSettings(
            JournalConfiguration.DEFAULT_WRITE_QUEUE_CAPACITY, JournalConfiguration.DEFAULT_MAX_BATCH,
            JournalConfiguration.DEFAULT_OUTPUT_TAIL_BYTES);

    /**
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    public TaskJournalSettings {
        if (writeQueueCapacity < 1 || writeQueueCapacity > MAX_WRITE_QUEUE_CAPACITY) {
            throw new IllegalArgumentException("writeQueueCapacity must be between 1 and " + MAX_WRITE_QUEUE_CAPACITY
                    + ", got " + writeQueueCapacity);
        }
        if (maxBatch < 1 || maxBatch > MAX_BATCH) {
            throw new IllegalArgumentException("maxBatch must be between 1 and " + MAX_BATCH + ", got " + maxBatch);
        }
        if (outputTailBytes < 1 || outputTailBytes > MAX_OUTPUT_TAIL_BYTES) {
            throw new IllegalArgumentException("outputTailBytes must be between 1 and " + MAX_OUTPUT_TAIL_BYTES
                    + " (16 MiB), got " + outputTailBytes);
        }
    }
}
