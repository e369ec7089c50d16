package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.tasklogs.impl.StoredLogs.StoredLog;

/**
 * One run of the {@code task-log-retention} task over {@link DiskTaskLogs}: in one walk of the
 * directory, removes the finished logs not written for {@code retentionDays}, then, while all logs
 * together hold more than 80% of {@code maxTotalBytes}, the oldest finished ones; then the shard
 * directories left empty. Logs being written are never touched. Recounts the bytes the logs hold,
 * which keeps the in-memory total honest. Stops early, keeping what was done, if interrupted.
 */
final class TaskLogRetention {

    private static final Logger LOG = LoggerFactory.getLogger(TaskLogRetention.class);
    /** Removal by size goes down to this share of {@code maxTotalBytes}, so it does not run at every period. */
    static final double KEEP_SHARE = 0.8;

    /**
     * What one run did.
     *
     * @param removedByAge        logs removed as older than the retention
     * @param removedBySize       logs removed, oldest first, to get under 80% of the total cap
     * @param removedBytes        their bytes
     * @param keptLogs            finished logs left on disk
     * @param totalBytes          bytes all logs hold after the run (finished and open)
     * @param directoriesRemoved  shard directories removed as empty
     * @param failures            entries that could not be read or removed (logged; retried next run)
     */
    record Report(int removedByAge, int removedBySize, long removedBytes, int keptLogs, long totalBytes,
                  int directoriesRemoved, int failures) {
    }

    private final DiskTaskLogs logs;
    private int failures;

    TaskLogRetention(DiskTaskLogs logs) {
        this.logs = logs;
    }

    Report run() throws IOException {
        TaskLogsSettings settings = logs.settings();
        StoredLogs.Listing listing = StoredLogs.list(logs.root());
        failures = listing.failures();
        Map<Path, Integer> entriesLeft = new HashMap<>(listing.shards());
        Instant cutoff = logs.now().minus(settings.retention());
        List<StoredLog> kept = new ArrayList<>();
        int byAge = 0;
        long removedBytes = 0;
        long keptBytes = 0;
        for (StoredLog log : listing.logs()) {
            if (Thread.currentThread().isInterrupted()) {
                return finish(byAge, 0, removedBytes, kept.size(), -1, entriesLeft);
            }
            if (log.modified().isBefore(cutoff) && remove(log, entriesLeft)) {
                byAge++;
                removedBytes += log.size();
            } else if (!logs.isLive(log.taskId())) {
                kept.add(log);
                keptBytes += log.size();
            }
        }
        long keepUnder = (long) (settings.maxTotalBytes() * KEEP_SHARE);
        int bySize = 0;
        if (keptBytes + logs.space().liveBytes() > keepUnder) {
            kept.sort(Comparator.comparing(StoredLog::modified));
            int next = 0;
            while (next < kept.size() && keptBytes + logs.space().liveBytes() > keepUnder
                    && !Thread.currentThread().isInterrupted()) {
                StoredLog oldest = kept.get(next++);
                if (remove(oldest, entriesLeft)) {
                    bySize++;
                    removedBytes += oldest.size();
                    keptBytes -= oldest.size();
                }
            }
        }
        return finish(byAge, bySize, removedBytes, kept.size() - bySize, keptBytes, entriesLeft);
    }

    private Report finish(int byAge, int bySize, long removedBytes, int keptLogs, long keptBytes, Map<Path, Integer> entriesLeft) {
        if (keptBytes >= 0) {
            logs.space().counted(keptBytes);
        }
        int directories = 0;
        for (Map.Entry<Path, Integer> shard : entriesLeft.entrySet()) {
            if (shard.getValue() == 0 && removeEmpty(shard.getKey())) {
                directories++;
            }
        }
        TaskLogsSettings settings = logs.settings();
        Report report = new Report(byAge, bySize, removedBytes, keptLogs, logs.space().totalBytes(), directories, failures);
        if (byAge + bySize + failures > 0) {
            LOG.info("task-log retention removed {} log(s) not written for {} days and {} more, oldest first, to bring all"
                    + " logs under 80% of maxTotalBytes ({}): {} freed; {} log(s) kept, {} in use{}", byAge,
                    settings.retention().toDays(), bySize, ByteSizes.format(settings.maxTotalBytes()),
                    ByteSizes.format(removedBytes), keptLogs, ByteSizes.format(report.totalBytes()),
                    failures == 0 ? "" : "; " + failures + " entries could not be read or removed (retried next run)");
        } else {
            LOG.debug("task-log retention: nothing to remove; {} log(s), {} in use", keptLogs,
                    ByteSizes.format(report.totalBytes()));
        }
        return report;
    }

    private boolean remove(StoredLog log, Map<Path, Integer> entriesLeft) {
        try {
            if (!logs.removeStored(log)) {
                return false;
            }
            entriesLeft.merge(log.path().getParent(), -1, Integer::sum);
            return true;
        } catch (IOException e) {
            failures++;
            LOG.warn("task-log retention could not remove {}: {}", log.path(), e.toString());
            return false;
        }
    }

    private boolean removeEmpty(Path shard) {
        try {
            Files.delete(shard);
            return true;
        } catch (DirectoryNotEmptyException | NoSuchFileException e) {
            return false; // a log was started there meanwhile
        } catch (IOException e) {
            failures++;
            LOG.warn("task-log retention could not remove the empty directory {}: {}", shard, e.toString());
            return false;
        }
    }
}
