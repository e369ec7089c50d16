package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;

/**
 * The mirror's confinement on disk: every directory from a node's root down to a file is a real
 * directory (never a symlink), a file is replaced or read only where it is a regular file, and the
 * partials' directories are the mirror's own. Every check reads attributes without following links.
 */
final class MirrorDirectories {

    private static final Logger LOG = LoggerFactory.getLogger(MirrorDirectories.class);

    private final Path root;
    private final Path partialRoot;

    MirrorDirectories(Path root, Path partialRoot) {
        this.root = root;
        this.partialRoot = partialRoot;
    }

    /**
     * Checks that every existing directory from the node's root down to the parent of {@code path} is
     * a real directory, never a symlink; with {@code create}, makes the missing ones.
     */
    void realDirectories(String id, String path, boolean create) throws MirrorException, IOException {
        if (create) {
            Files.createDirectories(root);
        }
        Path directory = root.resolve(id);
        if (!realDirectory(id, directory, null, create)) {
            return;
        }
        String[] names = path.split("/");
        StringBuilder relative = new StringBuilder();
        for (int i = 0; i < names.length - 1; i++) {
            directory = directory.resolve(names[i]);
            relative.append(i == 0 ? "" : "/").append(names[i]);
            if (!realDirectory(id, directory, relative.toString(), create)) {
                return;
            }
        }
    }

    /** @return whether {@code directory} exists now (so deeper ones may) */
    private boolean realDirectory(String id, Path directory, String relative, boolean create)
            throws MirrorException, IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(directory, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            if (!create) {
                return false;
            }
            try {
                Files.createDirectory(directory);
                return true;
            } catch (FileAlreadyExistsException raced) {
                attrs = Files.readAttributes(directory, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            }
        }
        String what = relative == null ? "the mirror root of node " + id : MirrorPaths.quote(relative)
                + " in the mirror of node " + id;
        if (attrs.isSymbolicLink()) {
            String message = what + " is a symlink (" + directory + "); the hub never writes through symlinks."
                    + " It was not made by the hub: remove it";
            LOG.warn("node {}: upload refused: {}", id, message);
            throw new MirrorException(Reason.SYMLINK, message);
        }
        if (!attrs.isDirectory()) {
            throw new MirrorException(Reason.BAD_PATH, what + " is a file, not a directory, so nothing can be"
                    + " stored under it; remove it from the node's mirror or upload under another path");
        }
        return true;
    }

    static void checkDestination(String id, String path, Path destination) throws MirrorException, IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(destination, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (attrs.isSymbolicLink()) {
            String message = MirrorPaths.quote(path) + " in the mirror of node " + id + " is a symlink (" + destination
                    + "); the hub never replaces a file through a symlink. It was not made by the hub: remove it";
            LOG.warn("node {}: upload refused: {}", id, message);
            throw new MirrorException(Reason.SYMLINK, message);
        }
        if (attrs.isDirectory()) {
            throw new MirrorException(Reason.BAD_PATH, MirrorPaths.quote(path) + " is a directory in the mirror of node "
                    + id + "; a file cannot replace it");
        }
    }

    Path partialDirectory(String id) throws MirrorException, IOException {
        Files.createDirectories(root);
        for (Path directory : new Path[] {partialRoot, partialRoot.resolve(id)}) {
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(directory, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                try {
                    Files.createDirectory(directory);
                    continue;
                } catch (FileAlreadyExistsException raced) {
                    attrs = Files.readAttributes(directory, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                }
            }
            if (attrs.isSymbolicLink() || !attrs.isDirectory()) {
                throw new MirrorException(Reason.SYMLINK, directory + " is " + (attrs.isSymbolicLink() ? "a symlink"
                        : "not a directory") + "; the mirror keeps partial uploads there itself. Remove it");
            }
        }
        return partialRoot.resolve(id);
    }

    /** Size of an existing partial, 0 if there is none. */
    static long heldBytes(String id, String path, Path partial) throws MirrorException, IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(partial, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return 0;
        }
        if (!attrs.isRegularFile()) {
            throw new MirrorException(Reason.SYMLINK, "the partial upload of " + MirrorPaths.quote(path) + " for node "
                    + id + " (" + partial + ") is not a regular file; the hub did not make it. Remove it");
        }
        return attrs.size();
    }

    static long existingFileSize(Path file) throws IOException {
        try {
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return attrs.isRegularFile() ? attrs.size() : 0;
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    /** The complete regular file at {@code path} of node {@code id}, reached through real directories only. */
    Path existingFile(String id, String path) throws MirrorException, IOException {
        realDirectories(id, path, false);
        Path file = root.resolve(id).resolve(path);
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new MirrorException(Reason.NOT_FOUND, "no file " + MirrorPaths.quote(path) + " in the mirror of node " + id
                    + "; pull it from the node first (meshctl sync pull)");
        }
        if (attrs.isSymbolicLink()) {
            String message = MirrorPaths.quote(path) + " in the mirror of node " + id + " is a symlink (" + file
                    + "); the hub never reads through symlinks. It was not made by the hub: remove it";
            LOG.warn("node {}: read refused: {}", id, message);
            throw new MirrorException(Reason.SYMLINK, message);
        }
        if (!attrs.isRegularFile()) {
            throw new MirrorException(Reason.NOT_FOUND, MirrorPaths.quote(path) + " in the mirror of node " + id
                    + " is a directory, not a file; name a file");
        }
        return file;
    }
}
