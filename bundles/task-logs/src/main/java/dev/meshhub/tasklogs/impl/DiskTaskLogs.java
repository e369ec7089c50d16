package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;

/**
 * The task logs of one directory: the logs being written (one per task), the IO pool that writes
 * them, the room they have ({@link LogSpace}), and whether writing fails. Reading, retention and the
 * health check's status go through here too, so that a log being written is never removed and a
 * reader of it never reads past what its writer committed.
 *
 * <p>At creation the pool makes the directory and counts the logs already there; logs started
 * meanwhile wait for that. {@link #close} finishes the open logs and stops the pool.
 */
final class DiskTaskLogs {

    private static final Logger LOG = LoggerFactory.getLogger(DiskTaskLogs.class);
    /** How long {@link #close} lets open logs write their end record before it closes them as they are. */
    private static final long CLOSE_WAIT_SECONDS = 10;
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final Path root;
    private final Clock clock;
    private final ThreadPoolExecutor pool;
    private final LogSpace space;
    private final ConcurrentHashMap<String, LiveTaskLog> live = new ConcurrentHashMap<>();
    /** Logs retention is removing right now: a new log of the same task waits for the removal. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> removing = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> prepared = new CompletableFuture<>();
    private volatile TaskLogsSettings settings;
    private volatile String writeFailure;
    private volatile boolean closing;
    private volatile boolean closed;

    DiskTaskLogs(TaskLogsSettings settings, Clock clock) {
        this.root = settings.root();
        this.clock = clock;
        this.settings = settings;
        this.space = new LogSpace(root, this::settings);
        this.pool = new ThreadPoolExecutor(settings.ioThreads(), settings.ioThreads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), threads());
        pool.allowCoreThreadTimeOut(true);
        pool.execute(this::prepare);
    }

    private static ThreadFactory threads() {
        int number = POOLS.incrementAndGet();
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, "meshhub-task-logs-io-" + number + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private void prepare() {
        try {
            OwnerOnly.createDirectories(root);
            // Every file counts as stored: logs started meanwhile wait for this, then replace theirs.
            StoredLogs.Listing listing = StoredLogs.list(root);
            long bytes = listing.bytes();
            space.counted(bytes);
            LOG.debug("task logs in {}: {} log(s), {}", root, listing.logs().size(), ByteSizes.format(bytes));
        } catch (IOException e) {
            writeFailed(root + ": " + LogFile.describe(e));
            LOG.warn("task logs cannot use {}: {}", root, e.toString());
        } catch (RuntimeException e) {
            writeFailed(root + ": " + e);
            LOG.warn("task logs cannot use {}", root, e);
        } finally {
            prepared.complete(null);
        }
    }

    Path root() {
        return root;
    }

    TaskLogsSettings settings() {
        return settings;
    }

    Executor pool() {
        return pool;
    }

    LogSpace space() {
        return space;
    }

    Instant now() {
        return clock.instant();
    }

    /** Whether logs may still do IO (false once closed). */
    boolean writable() {
        return !closed;
    }

    /** Completes once the logs already on disk are counted. */
    CompletableFuture<Void> prepared() {
        return prepared;
    }

    /** New limits at once, for open logs too; the directory is not changed here. */
    void reconfigure(TaskLogsSettings next) {
        settings = next;
        int threads = next.ioThreads();
        if (threads > pool.getMaximumPoolSize()) {
            pool.setMaximumPoolSize(threads);
            pool.setCorePoolSize(threads);
        } else {
            pool.setCorePoolSize(threads);
            pool.setMaximumPoolSize(threads);
        }
    }

    LiveTaskLog start(String taskId) {
        TaskLogNames.check(taskId);
        if (closing) {
            throw new IllegalStateException("the task logs in " + root + " are closing; task " + taskId + " is not logged");
        }
        LiveTaskLog[] started = new LiveTaskLog[1];
        live.compute(taskId, (id, previous) -> {
            if (previous != null && !previous.finishing()) {
                throw new IllegalStateException("the log of task " + id + " is being written already; finish it before"
                        + " starting it again");
            }
            CompletionStage<?> after = previous != null ? previous.finished() : prepared.isDone() ? null : prepared;
            started[0] = new LiveTaskLog(this, id, after);
            return started[0];
        });
        started[0].begin();
        return started[0];
    }

    boolean isLive(String taskId) {
        return live.containsKey(taskId);
    }

    /** A log wrote its end and closed its file. */
    void ended(LiveTaskLog log) {
        live.remove(log.taskId(), log);
    }

    Optional<TaskLogInfo> info(String taskId) throws IOException {
        TaskLogNames.check(taskId);
        LiveTaskLog log = live.get(taskId);
        if (log != null) {
            return Optional.of(log.info());
        }
        try {
            return Optional.of(TaskLogScan.scan(taskId, TaskLogNames.path(root, taskId)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    TaskLogReader read(String taskId, long offset) throws IOException {
        TaskLogNames.check(taskId);
        if (offset < 0) {
            throw new IllegalArgumentException("a log offset must be 0 or more, got " + offset);
        }
        Path path = TaskLogNames.path(root, taskId);
        LiveTaskLog log = live.get(taskId);
        if (log != null) {
            return new TaskLogCursor(taskId, path, offset, log, null);
        }
        return new TaskLogCursor(taskId, path, offset, null, FileChannel.open(path, StandardOpenOption.READ));
    }

    CompletionStage<Void> grown(String taskId, long loggedBytes) {
        TaskLogNames.check(taskId);
        LiveTaskLog log = live.get(taskId);
        return log == null ? CompletableFuture.completedFuture(null) : log.grown(loggedBytes);
    }

    /** Removes a finished log; false if a log of its task is being written (it is then left alone). */
    boolean removeStored(StoredLogs.StoredLog log) throws IOException {
        CompletableFuture<Void> claim = new CompletableFuture<>();
        if (removing.putIfAbsent(log.taskId(), claim) != null) {
            return false;
        }
        try {
            // start() lists a log as live before it makes the file, and the file is made only after
            // awaitRemoval: whichever of the two comes second sees the other.
            if (live.containsKey(log.taskId())) {
                return false;
            }
            if (Files.deleteIfExists(log.path())) {
                space.removed(log.size());
            }
            return true;
        } finally {
            removing.remove(log.taskId(), claim);
            claim.complete(null);
        }
    }

    /** Called by a log before it makes its file: waits while retention removes the task's old log. */
    void awaitRemoval(String taskId) {
        CompletableFuture<Void> claim = removing.get(taskId);
        if (claim != null) {
            claim.join();
        }
    }

    TaskLogRetention.Report retention() throws IOException {
        return new TaskLogRetention(this).run();
    }

    void writeSucceeded() {
        if (writeFailure != null) {
            writeFailure = null;
            LOG.info("task logs are written again in {}", root);
        }
    }

    void writeFailed(String reason) {
        writeFailure = reason;
    }

    TaskLogsState.Status status() {
        TaskLogsSettings current = settings;
        return new TaskLogsState.Status(root, writeFailure, space.totalBytes(), current.maxTotalBytes(),
                current.diskReserveBytes(), live.size());
    }

    int openLogs() {
        return live.size();
    }

    /**
     * Finishes the open logs with {@code ending} (waiting a while for their end records), stops the IO
     * pool, and closes whatever is still open as it is. Later appends are only counted.
     */
    void close(String ending) {
        closing = true;
        List<CompletableFuture<TaskLogInfo>> finishing = new ArrayList<>();
        for (LiveTaskLog log : live.values()) {
            log.finish(ending);
            finishing.add(log.finished());
        }
        try {
            CompletableFuture.allOf(finishing.toArray(CompletableFuture[]::new)).get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            LOG.warn("task logs in {}: open logs did not finish within {} s; they are closed without an end record", root,
                    CLOSE_WAIT_SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("task logs in {}: finishing the open logs failed", root, e);
        }
        closed = true;
        pool.shutdown();
        try {
            pool.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Runnable left : pool.shutdownNow()) {
            left.run(); // no IO any more: appends are counted and completed
        }
        for (LiveTaskLog log : live.values()) {
            log.abandon();
        }
        live.clear();
        prepared.complete(null);
    }
}
