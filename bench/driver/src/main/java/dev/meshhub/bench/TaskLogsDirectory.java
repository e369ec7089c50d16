package dev.meshhub.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The files under a hub's task-log directory ({@code data/logs/<2>/<id>.log}) and the bytes they hold, read while the hub
 * writes and removes them: a file or directory that goes away between the listing and the read is left out, not an error.
 */
final class TaskLogsDirectory {

    /** Regular files and their bytes (0 and 0 when the directory is not there). */
    record Reading(long files, long bytes) {
    }

    private TaskLogsDirectory() {
    }

    static Reading read(Path directory) {
        long[] counted = new long[2];
        walk(directory, counted);
        return new Reading(counted[0], counted[1]);
    }

    private static void walk(Path directory, long[] counted) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(entry, BasicFileAttributes.class);
                } catch (NoSuchFileException gone) {
                    continue;
                }
                if (attributes.isDirectory()) {
                    walk(entry, counted);
                } else if (attributes.isRegularFile()) {
                    counted[0]++;
                    counted[1] += attributes.size();
                }
            }
        } catch (NoSuchFileException gone) {
            // removed (an emptied shard) since it was listed
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
