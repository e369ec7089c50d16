package dev.meshhub.mirror.impl;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The mirror's configuration, checked, with the directory made absolute.
 *
 * @param root                 absolute, normalised mirror directory
 * @param quotaBytes           most bytes one node may hold
 * @param reserveBytes         free disk kept on the mirror's file system
 * @param partialTtl           how long an idle partial is kept for resume
 * @param removeRevokedMirrors whether cleanup deletes revoked nodes' mirrors
 * @param maxFiles             most files and directories one node may hold, partials included
 */
record MirrorSettings(Path root, long quotaBytes, long reserveBytes, Duration partialTtl,
                      boolean removeRevokedMirrors, long maxFiles) {

    /** Settings with the default file limit. */
    MirrorSettings(Path root, long quotaBytes, long reserveBytes, Duration partialTtl, boolean removeRevokedMirrors) {
        this(root, quotaBytes, reserveBytes, partialTtl, removeRevokedMirrors, MirrorConfiguration.DEFAULT_MAX_FILES_PER_NODE);
    }

    /** Framework property naming meshhub's home directory. */
    static final String HOME_PROPERTY = "meshhub.home";

    /**
     * Checks the configuration and resolves the mirror directory against meshhub's home.
     *
     * @param home             the framework property {@value #HOME_PROPERTY}, or null
     * @param workingDirectory the process's working directory
     * @throws IllegalArgumentException naming the key, the value and what is accepted
     */
    static MirrorSettings resolve(MirrorConfiguration config, String home, Path workingDirectory) {
        long quota = config.quotaBytes();
        if (quota < 1) {
            throw new IllegalArgumentException(MirrorConfiguration.PID + ": quotaBytes must be at least 1, got " + quota
                    + " (default " + MirrorConfiguration.DEFAULT_QUOTA_BYTES + ", 10 GiB)");
        }
        long reserve = config.reserveBytes();
        if (reserve < 0) {
            throw new IllegalArgumentException(MirrorConfiguration.PID + ": reserveBytes must be 0 or more, got "
                    + reserve + " (default " + MirrorConfiguration.DEFAULT_RESERVE_BYTES + ", 1 GiB)");
        }
        long ttl = config.partialTtlMinutes();
        if (ttl < 1 || ttl > MirrorConfiguration.MAX_PARTIAL_TTL_MINUTES) {
            throw new IllegalArgumentException(MirrorConfiguration.PID + ": partialTtlMinutes must be between 1 and "
                    + MirrorConfiguration.MAX_PARTIAL_TTL_MINUTES + ", got " + ttl + " (default "
                    + MirrorConfiguration.DEFAULT_PARTIAL_TTL_MINUTES + ")");
        }
        long files = config.maxFilesPerNode();
        if (files < 1) {
            throw new IllegalArgumentException(MirrorConfiguration.PID + ": maxFilesPerNode must be at least 1, got " + files
                    + " (default " + MirrorConfiguration.DEFAULT_MAX_FILES_PER_NODE + ")");
        }
        return new MirrorSettings(directory(config.mirrorDirectory(), home, workingDirectory), quota, reserve,
                Duration.ofMinutes(ttl), config.removeRevokedMirrors(), files);
    }

    /** Resolved the way the journal and the monitor resolve their directories. */
    private static Path directory(String configured, String home, Path workingDirectory) {
        if (configured == null || configured.isBlank()) {
            throw new IllegalArgumentException(MirrorConfiguration.PID + ": mirrorDirectory must not be empty (default "
                    + MirrorConfiguration.DEFAULT_MIRROR_DIRECTORY + ")");
        }
        try {
            Path base = home == null || home.isBlank() ? workingDirectory : workingDirectory.resolve(home.strip());
            return base.resolve(Path.of(configured.strip())).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(MirrorConfiguration.PID + ": mirrorDirectory is not a valid path: "
                    + e.getMessage(), e);
        }
    }
}
