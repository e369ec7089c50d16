package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The room the logs have: bytes all logs hold (kept in memory: counted from disk at activation and by
 * each retention run, moved along by every write and removal) against {@code maxTotalBytes}, and the
 * disk's usable space against {@code diskReserveBytes}. Usable space is asked of the file system at
 * most every second or every MiB written, not for every chunk.
 */
final class LogSpace {

    private static final long RECHECK_BYTES = 1L << 20;
    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path root;
    private final Supplier<TaskLogsSettings> settings;
    /** Bytes of the files of logs being written in this hub. */
    private final AtomicLong liveBytes = new AtomicLong();
    /** Bytes of every other log file. */
    private final AtomicLong storedBytes = new AtomicLong();
    private long usable = -1;
    private long checkedAt;
    private long writtenSinceCheck;

    LogSpace(Path root, Supplier<TaskLogsSettings> settings) {
        this.root = root;
        this.settings = settings;
    }

    /** All logs together, as far as this hub knows. */
    long totalBytes() {
        return liveBytes.get() + storedBytes.get();
    }

    /** Bytes of the logs being written. */
    long liveBytes() {
        return liveBytes.get();
    }

    /** A live log grew. */
    void wrote(long bytes) {
        liveBytes.addAndGet(bytes);
        synchronized (this) {
            writtenSinceCheck += bytes;
        }
    }

    /** A live log's file of {@code bytes} was closed: it now counts as stored. */
    void closed(long bytes) {
        liveBytes.addAndGet(-bytes);
        storedBytes.addAndGet(bytes);
    }

    /** A stored log of {@code bytes} was removed (by retention, or replaced by a new log of its task). */
    void removed(long bytes) {
        storedBytes.updateAndGet(current -> Math.max(0, current - bytes));
    }

    /** The stored logs were counted from disk. */
    void counted(long bytes) {
        storedBytes.set(bytes);
    }

    /** Why a write may not happen: the reason the log says, and whether it is the disk (not the logs' own cap). */
    record Refusal(String reason, boolean diskFull) {
    }

    /**
     * Why {@code bytes} more may not be written to a log now holding {@code loggedBytes} bytes of
     * output: the hub's log space is full or the disk is at its reserve; null if they may.
     */
    Refusal refusal(long bytes, long loggedBytes) {
        TaskLogsSettings current = settings.get();
        long total = totalBytes();
        if (total + bytes > current.maxTotalBytes()) {
            return new Refusal("log truncated: the hub's task-log space is full (" + total + " bytes in use, maxTotalBytes "
                    + current.maxTotalBytes() + ") at output byte " + loggedBytes
                    + "; the task-log-retention task frees space", false);
        }
        if (current.diskReserveBytes() > 0) {
            long left = usable(bytes);
            if (left >= 0 && left < current.diskReserveBytes()) {
                return new Refusal("log truncated: less than diskReserveBytes (" + current.diskReserveBytes() + " bytes) is usable on"
                        + " the disk of " + root + " at output byte " + loggedBytes, true);
            }
        }
        return null;
    }

    /** Usable bytes after {@code bytes} more are written; -1 when unknown (the write will tell). */
    private synchronized long usable(long bytes) {
        long now = System.nanoTime();
        if (usable < 0 || writtenSinceCheck >= RECHECK_BYTES || now - checkedAt >= RECHECK_NANOS) {
            try {
                // Asked again each time: the directory may have been moved to another disk (or one mounted on it).
                usable = Files.getFileStore(root).getUsableSpace();
                checkedAt = now;
                writtenSinceCheck = 0;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
        return usable - writtenSinceCheck - bytes;
    }
}
