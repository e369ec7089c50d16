package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log files on disk, in one walk of the directory two levels deep (the shard directories and their
 * files), with the size and last-modified time the walk reads anyway. Files that are not logs (other
 * names, files in the wrong shard, symlinks, anything at the top level) are left out and never touched.
 * Stops early, keeping what it found, if the thread is interrupted.
 */
final class StoredLogs {

    private static final Logger LOG = LoggerFactory.getLogger(StoredLogs.class);

    /** A log file as the walk found it. */
    record StoredLog(String taskId, Path path, long size, Instant modified) {
    }

    /**
     * What one walk found.
     *
     * @param logs     every log file
     * @param shards   every shard directory with the number of entries it holds (logs or not)
     * @param failures entries that could not be read (logged)
     */
    record Listing(List<StoredLog> logs, Map<Path, Integer> shards, int failures) {

        long bytes() {
            return logs.stream().mapToLong(StoredLog::size).sum();
        }
    }

    private StoredLogs() {
    }

    static Listing list(Path root) throws IOException {
        List<StoredLog> logs = new ArrayList<>();
        Map<Path, Integer> shards = new HashMap<>();
        int[] failures = new int[1];
        if (!Files.isDirectory(root)) {
            return new Listing(logs, shards, 0);
        }
        Files.walkFileTree(root, Set.of(), 2, new SimpleFileVisitor<>() {

            @Override
            public FileVisitResult preVisitDirectory(Path directory, BasicFileAttributes attrs) {
                if (!directory.equals(root)) {
                    shards.put(directory, 0);
                }
                return Thread.currentThread().isInterrupted() ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                Path shard = file.getParent();
                if (shard.equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                shards.merge(shard, 1, Integer::sum);
                String taskId = TaskLogNames.taskIdOf(shard.getFileName().toString(), file.getFileName().toString());
                if (taskId != null && attrs.isRegularFile()) {
                    logs.add(new StoredLog(taskId, file, attrs.size(), attrs.lastModifiedTime().toInstant()));
                }
                return Thread.currentThread().isInterrupted() ? FileVisitResult.TERMINATE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                if (file.equals(root)) {
                    return FileVisitResult.TERMINATE;
                }
                if (!(e instanceof NoSuchFileException)) {
                    failures[0]++;
                    LOG.warn("task logs: cannot read {}: {}", file, e.toString());
                }
                if (file.getParent().equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                shards.merge(file.getParent(), 1, Integer::sum); // it is there, so its shard is not empty
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException e) {
                if (e != null) {
                    failures[0]++;
                    shards.merge(directory, 1, Integer::sum); // not fully read: never remove it
                    LOG.warn("task logs: cannot list {}: {}", directory, e.toString());
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return new Listing(logs, shards, failures[0]);
    }
}
