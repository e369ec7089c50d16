package dev.meshhub.monitor.snapshot;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where a monitor writes its status files: the configured directory, a relative one resolved the way
 * the journal resolves its database directory.
 */
public final class StatusDirectory {

    /** Framework property naming meshhub's home directory. */
    public static final String HOME_PROPERTY = "meshhub.home";

    /** The default status directory, relative to meshhub's home. */
    public static final String DEFAULT = "data/status";

    private StatusDirectory() {
    }

    /**
     * Resolves a relative {@code configured} directory against {@code home} (itself resolved against
     * {@code workingDirectory} if relative), or against {@code workingDirectory} if home is not set.
     *
     * @param configured       the {@code statusDirectory} configuration value
     * @param home             the framework property {@value #HOME_PROPERTY}, or null
     * @param workingDirectory the process's working directory
     * @return the absolute, normalised directory
     * @throws IllegalArgumentException naming the key, if the value is blank or not a path
     */
    public static Path resolve(String configured, String home, Path workingDirectory) {
        if (configured == null || configured.isBlank()) {
            throw new IllegalArgumentException("statusDirectory must not be empty (default " + DEFAULT + ")");
        }
        try {
            Path base = home == null || home.isBlank() ? workingDirectory : workingDirectory.resolve(home.strip());
            return base.resolve(Path.of(configured.strip())).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("statusDirectory is not a valid path: " + e.getMessage(), e);
        }
    }

    /**
     * Makes a rename or a new file in {@code directory} durable, where the platform allows it (an
     * fsync of the directory). Best effort: where a directory cannot be synced (Windows) the file
     * system's own ordering has to do.
     */
    public static void sync(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // The data itself was forced before; only the directory entry's durability is at stake.
        }
    }
}
