package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.task.TaskOutput;

/**
 * One task's log being written. Every call returns at once; the work runs in order on the IO pool
 * (through a {@link SerialExecutor}): the file is made when the log starts, each chunk is handed to the
 * OS before its stage completes, the end record is forced to disk. A cap, the disk reserve or an IO
 * error stops the log for good (a hole would break output offsets): it is marked truncated with the
 * reason, a note is written once if the disk allows, and later output is only counted (the end record
 * is still tried when the task ends).
 *
 * <p>Readers see {@link #committed()} and {@link #info()}, both published after whole records only.
 */
final class LiveTaskLog implements TaskLogWriter {

    private static final Logger LOG = LoggerFactory.getLogger(LiveTaskLog.class);
    private static final String NO_ENDING = "(no ending given)";

    private final DiskTaskLogs logs;
    private final String taskId;
    private final SerialExecutor serial;
    private final AtomicBoolean finishing = new AtomicBoolean();
    private final CompletableFuture<TaskLogInfo> finished = new CompletableFuture<>();
    private final Followers followers = new Followers();
    private volatile long committed;
    private volatile TaskLogInfo info;

    // Touched only by the work on the serial executor.
    private final LogFile file;
    private boolean failed;
    private boolean ended;
    private long outputBytes;
    private long loggedBytes;
    private String truncation = "";
    private String ending = "";
    private Instant modified;

    /** A log that starts once {@code previous} (the last log of the same task, finishing) completes, if not null. */
    LiveTaskLog(DiskTaskLogs logs, String taskId, CompletionStage<?> previous) {
        this.logs = logs;
        this.taskId = taskId;
        this.file = new LogFile(TaskLogNames.path(logs.root(), taskId));
        this.serial = new SerialExecutor(logs.pool(), previous != null);
        this.modified = logs.now();
        this.info = new TaskLogInfo(taskId, 0, 0, true, false, "", "", modified);
        if (previous != null) {
            previous.whenComplete((result, failure) -> serial.release());
        }
    }

    /** Makes the file; called once the log is listed as live, so that retention leaves it alone. */
    void begin() {
        serial.execute(this::open);
    }

    String taskId() {
        return taskId;
    }

    /** File bytes that hold whole records: all a reader may read. */
    long committed() {
        return committed;
    }

    TaskLogInfo info() {
        return info;
    }

    boolean finishing() {
        return finishing.get();
    }

    /** Completes with the final info once the log is closed. */
    CompletableFuture<TaskLogInfo> finished() {
        return finished;
    }

    @Override
    public CompletionStage<Void> append(TaskOutput.Stream stream, byte[] data) {
        if (stream == null || data == null || data.length == 0 || finishing.get()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> taken = new CompletableFuture<>();
        serial.execute(() -> {
            try {
                write(TaskLogFormat.typeOf(stream), data);
            } finally {
                taken.complete(null);
            }
        });
        return taken;
    }

    @Override
    public CompletionStage<TaskLogInfo> finish(String ending) {
        if (finishing.compareAndSet(false, true)) {
            serial.execute(() -> end(ending == null || ending.isBlank() ? NO_ENDING : ending));
        }
        return finished.copy();
    }

    /** Completes when the log holds more than {@code loggedBytes}, gets truncated, or ends. */
    CompletableFuture<Void> grown(long loggedBytes) {
        // Under the followers' lock, so that a publish between reading the info and waiting wakes it.
        synchronized (followers) {
            return followers.await(info, loggedBytes);
        }
    }

    private void open() {
        if (!logs.writable()) {
            return;
        }
        try {
            logs.awaitRemoval(taskId);
            logs.space().removed(file.create());
            wrote(file.length(), false);
        } catch (IOException e) {
            fail(e);
        }
        publish(false);
    }

    private void write(byte type, byte[] data) {
        if (ended) {
            return;
        }
        outputBytes += data.length;
        if (truncation.isEmpty()) {
            long cap = logs.settings().maxTaskLogBytes();
            int keep = (int) Math.max(0, Math.min(data.length, cap - loggedBytes));
            if (keep > 0) {
                long records = (keep + TaskLogFormat.MAX_PAYLOAD - 1) / TaskLogFormat.MAX_PAYLOAD;
                LogSpace.Refusal refusal = logs.space().refusal(keep + records * TaskLogFormat.HEADER_BYTES, loggedBytes);
                if (refusal != null) {
                    truncate(refusal.reason());
                    if (refusal.diskFull()) {
                        // As for a full disk: the health check fails until a log's output is written again.
                        logs.writeFailed(refusal.reason().replaceFirst("^log truncated: ", ""));
                    }
                } else {
                    for (int at = 0; at < keep && !failed; at += TaskLogFormat.MAX_PAYLOAD) {
                        int length = Math.min(TaskLogFormat.MAX_PAYLOAD, keep - at);
                        if (record(type, data, at, length)) {
                            loggedBytes += length;
                        }
                    }
                }
            }
            if (truncation.isEmpty() && keep < data.length) {
                truncate("log truncated: the per-task cap of " + cap + " bytes (maxTaskLogBytes) was reached at output byte "
                        + loggedBytes);
            }
        }
        publish(false);
    }

    private void truncate(String reason) {
        truncation = reason;
        LOG.info("task {}: {}", taskId, reason);
        byte[] note = TaskLogFormat.note(reason);
        record(TaskLogFormat.NOTE, note, 0, note.length);
        publish(true);
    }

    private void end(String requested) {
        if (ended) {
            return;
        }
        ending = TaskLogFormat.oneLine(requested);
        byte[] end = TaskLogFormat.end(new TaskLogFormat.End(ending, outputBytes, loggedBytes, !truncation.isEmpty(),
                truncation));
        // Tried even after a failure (the file was cut back to whole records): a disk that recovered
        // then keeps why and where the log was truncated.
        if (file.isOpen() && file.whole() && logs.writable()) {
            try {
                file.append(TaskLogFormat.END, end, 0, end.length);
                wrote(TaskLogFormat.HEADER_BYTES + end.length, false);
                file.force();
                modified = file.modified(); // as a reader of the file will see it
            } catch (IOException e) {
                if (!failed) {
                    fail(e);
                }
            }
        }
        ended = true;
        file.close();
        logs.space().closed(file.length());
        publish(true);
        logs.ended(this);
        finished.complete(info);
    }

    /** Abandons the log without more IO (the hub is stopping and the IO pool is gone). */
    void abandon() {
        file.close();
        TaskLogInfo last = info;
        TaskLogInfo closed = new TaskLogInfo(taskId, last.outputBytes(), last.loggedBytes(), false, last.truncated(),
                last.truncation(), last.ending(), last.modified());
        info = closed;
        followers.wake(closed, true);
        finished.complete(closed);
    }

    /** Writes one record; false (and the log failed, if it was the disk) if it was not written. */
    private boolean record(byte type, byte[] data, int offset, int length) {
        if (!file.isOpen() || failed || !logs.writable()) {
            return false;
        }
        try {
            file.append(type, data, offset, length);
            wrote(TaskLogFormat.HEADER_BYTES + length, type == TaskLogFormat.STDOUT || type == TaskLogFormat.STDERR);
            return true;
        } catch (IOException e) {
            fail(e);
            return false;
        }
    }

    /** @param output whether it was output (only output written proves the disk takes writes again, not a note or an end) */
    private void wrote(long bytes, boolean output) {
        committed = file.length();
        modified = logs.now();
        logs.space().wrote(bytes);
        if (output) {
            logs.writeSucceeded();
        }
    }

    private void fail(IOException e) {
        failed = true;
        String reason = file.path() + ": " + LogFile.describe(e);
        LOG.warn("task {}: cannot write its log {}; the log stops here, the task goes on", taskId, reason);
        if (truncation.isEmpty()) {
            truncation = "log truncated: cannot write " + reason + " at output byte " + loggedBytes;
        }
        logs.writeFailed(reason);
        publish(true);
    }

    /** Publishes the counts to readers; wakes followers that can read more (all of them when {@code all}). */
    private void publish(boolean all) {
        TaskLogInfo now = new TaskLogInfo(taskId, outputBytes, loggedBytes, !ended, !truncation.isEmpty(), truncation,
                ended ? ending : "", modified);
        synchronized (followers) {
            info = now;
        }
        followers.wake(now, all);
    }
}
