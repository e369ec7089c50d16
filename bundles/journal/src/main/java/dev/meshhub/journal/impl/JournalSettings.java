package dev.meshhub.journal.impl;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The journal's configuration, checked and with the database directory made absolute.
 *
 * @param databaseDirectory absolute, normalised database directory
 * @param dbThreads         journal threads
 * @param queueCapacity     queue capacity of the journal executor
 */
record JournalSettings(Path databaseDirectory, int dbThreads, int queueCapacity) {

    static final int MAX_DB_THREADS = 64;
    static final int MAX_QUEUE_CAPACITY = 1_000_000;

    /**
     * Checks the configured values and resolves a relative directory against {@code home} (itself
     * resolved against {@code workingDirectory} if relative), or {@code workingDirectory} if home is
     * not set.
     *
     * @throws IllegalArgumentException naming the key and the accepted values
     */
    static JournalSettings resolve(String databaseDirectory, int dbThreads, int queueCapacity,
                                   String home, Path workingDirectory) {
        if (databaseDirectory == null || databaseDirectory.isBlank()) {
            throw new IllegalArgumentException("databaseDirectory must not be empty (default "
                    + JournalConfiguration.DEFAULT_DATABASE_DIRECTORY + ")");
        }
        if (dbThreads < 1 || dbThreads > MAX_DB_THREADS) {
            throw new IllegalArgumentException("dbThreads must be between 1 and " + MAX_DB_THREADS
                    + ", got " + dbThreads);
        }
        if (queueCapacity < 1 || queueCapacity > MAX_QUEUE_CAPACITY) {
            throw new IllegalArgumentException("queueCapacity must be between 1 and " + MAX_QUEUE_CAPACITY
                    + ", got " + queueCapacity);
        }
        if (databaseDirectory.indexOf(';') >= 0) {
            throw new IllegalArgumentException("databaseDirectory must not contain ';': " + databaseDirectory);
        }
        Path configured;
        Path base;
        try {
            configured = Path.of(databaseDirectory.strip());
            base = home == null || home.isBlank() ? workingDirectory : workingDirectory.resolve(home.strip());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("databaseDirectory is not a valid path: " + e.getMessage(), e);
        }
        Path absolute = base.resolve(configured).toAbsolutePath().normalize();
        return new JournalSettings(absolute, dbThreads, queueCapacity);
    }
}
