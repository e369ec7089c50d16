package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;

/**
 * Walks over mirror trees that never follow symlinks: a link is counted and deleted as the link
 * itself, so nothing outside the mirror is ever measured or removed.
 */
final class MirrorTrees {

    /**
     * What a {@link #delete} did.
     *
     * @param entries      files, links and directories removed
     * @param bytes        bytes of regular files removed
     * @param failures     entries that could not be removed
     * @param firstFailure the first of those failures, or null
     */
    record Removal(long entries, long bytes, int failures, IOException firstFailure) {
        static final Removal NONE = new Removal(0, 0, 0, null);
    }

    private MirrorTrees() {
    }

    /** Deletes {@code top} and everything under it, links as links; carries on past failures. */
    static Removal delete(Path top) {
        if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
            return Removal.NONE;
        }
        final long[] counts = new long[2];
        final int[] failures = new int[1];
        final IOException[] first = new IOException[1];
        class Deleter extends SimpleFileVisitor<Path> {
            void remove(Path path, long size) {
                try {
                    Files.delete(path);
                    counts[0]++;
                    counts[1] += size;
                } catch (NoSuchFileException gone) {
                    // Removed meanwhile: the goal is reached.
                } catch (IOException e) {
                    failures[0]++;
                    if (first[0] == null) {
                        first[0] = e;
                    }
                }
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                // Without FOLLOW_LINKS a symlink arrives here with its own attributes, never its target's.
                remove(file, attrs.isRegularFile() ? attrs.size() : 0);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                remove(file, 0);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) {
                remove(dir, 0);
                return FileVisitResult.CONTINUE;
            }
        }
        try {
            Files.walkFileTree(top, EnumSet.noneOf(FileVisitOption.class), Integer.MAX_VALUE, new Deleter());
        } catch (IOException e) {
            failures[0]++;
            if (first[0] == null) {
                first[0] = e;
            }
        }
        return new Removal(counts[0], counts[1], failures[0], first[0]);
    }

    /** Bytes of the regular files below a directory, and how many files and directories it holds. */
    record Usage(long bytes, long entries) {
    }

    /** Files and directories below {@code top} (not counting it), links not followed; 0 if it does not exist. */
    static long entries(Path top) {
        return usage(top).entries();
    }

    /** Bytes of the regular files under {@code top} (links not followed); unreadable parts are skipped. */
    static long size(Path top) {
        return usage(top).bytes();
    }

    /** One walk below {@code top}, links not followed; best effort (unreadable entries are skipped). */
    static Usage usage(Path top) {
        if (!Files.exists(top, LinkOption.NOFOLLOW_LINKS)) {
            return new Usage(0, 0);
        }
        final long[] bytes = new long[1];
        final long[] entries = new long[1];
        try {
            Files.walkFileTree(top, EnumSet.noneOf(FileVisitOption.class), Integer.MAX_VALUE,
                    new SimpleFileVisitor<>() {
                        @Override
                        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                            if (!dir.equals(top)) {
                                entries[0]++;
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                            entries[0]++;
                            if (attrs.isRegularFile()) {
                                bytes[0] += attrs.size();
                            }
                            return FileVisitResult.CONTINUE;
                        }

                        @Override
                        public FileVisitResult visitFileFailed(Path file, IOException exc) {
                            return FileVisitResult.CONTINUE;
                        }
                    });
        } catch (IOException e) {
            // The visitor swallows per-file failures; what is left is best effort by design.
        }
        return new Usage(bytes[0], entries[0]);
    }

    /**
     * Makes a rename in {@code directory} durable where the platform allows it (an fsync of the
     * directory). Best effort: where a directory cannot be opened or synced (Windows) the file
     * system's own ordering has to do; the file's data was forced before the rename.
     */
    static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // See above: only the directory entry's durability is at stake.
        }
    }
}
