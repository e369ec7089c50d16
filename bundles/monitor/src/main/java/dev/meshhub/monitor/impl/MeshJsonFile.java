package dev.meshhub.monitor.impl;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.monitor.snapshot.SnapshotJson;
import dev.meshhub.monitor.snapshot.StatusDirectory;
import dev.meshhub.monitor.snapshot.StatusFileException;

/**
 * Replaces {@code mesh.json} atomically: a reader sees the previous document or the new one, whole,
 * never a mix or a truncated file, and a crash leaves one of the two.
 */
final class MeshJsonFile {

    /** The file's name inside the status directory. */
    static final String NAME = "mesh.json";
    static final String TEMP_PREFIX = "." + NAME + ".";
    static final String TEMP_SUFFIX = ".tmp";

    private MeshJsonFile() {
    }

    /**
     * Writes the snapshot (pretty-printed) to a temporary file beside {@code file}, forces it to disk,
     * then renames it over {@code file}. Creates the directory if missing. No temporary file is left
     * behind, whatever fails.
     *
     * @throws IOException explaining what failed and what to do; an {@link java.io.InterruptedIOException}
     *                     if interrupted, in which case {@code file} is left as it was
     */
    static void replace(Path file, MeshSnapshot snapshot) throws IOException {
        Path directory = file.getParent();
        Path temp = null;
        boolean moved = false;
        IOException failure = null;
        try {
            Files.createDirectories(directory);
            // Same directory, so the rename stays on one file system and can be atomic. The dot keeps
            // it out of casual listings; the random part keeps a stale one from blocking the next run.
            temp = directory.resolve(TEMP_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong())
                    + TEMP_SUFFIX);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                Writer out = new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(channel),
                        StandardCharsets.UTF_8));
                SnapshotJson.write(snapshot, out, true);
                out.write('\n');
                out.flush();
                // Durable before it becomes visible, or a crash could leave an empty mesh.json.
                channel.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } catch (IOException e) {
            failure = StatusFileException.writing(file, MonitorConfiguration.PID, e);
            throw failure;
        } finally {
            if (temp != null && !moved) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    if (failure != null) {
                        failure.addSuppressed(e);
                    }
                }
            }
        }
        // The rename itself, durable where the platform allows it.
        StatusDirectory.sync(directory);
    }

    /**
     * Deletes temporary files a crash left between writing and renaming. Best effort: a directory
     * that cannot be listed is reported by the next write.
     */
    static void deleteStaleTemps(Path directory) {
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(directory, TEMP_PREFIX + "*" + TEMP_SUFFIX)) {
            for (Path temp : stale) {
                Files.deleteIfExists(temp);
            }
        } catch (IOException | DirectoryIteratorException e) {
            // Nothing to clean, or the directory is not usable; replace() says so with advice.
        }
    }
}
