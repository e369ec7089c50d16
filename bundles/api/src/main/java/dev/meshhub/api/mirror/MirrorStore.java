package dev.meshhub.api.mirror;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The hub's mirror of node files: {@code data/mirror/<node id>/<path>}. Paths are relative to the
 * node's workspace and confined to the node's mirror root; symlinks are never followed. Files appear
 * in the mirror only complete and verified (temp file, fsync, atomic move); an interrupted upload
 * leaves a partial that a later upload of the same path resumes, until the cleanup task removes it
 * past its TTL. Quota per node and a free-disk reserve are checked before bytes are written.
 *
 * <p>Methods that touch the disk say so: call them from an IO thread, never a network thread.
 */
@ProviderType
public interface MirrorStore {

    /**
     * Checks a node-relative path and returns its normal form ({@code a/b/c}). Pure, no disk access.
     *
     * @throws MirrorException {@link MirrorException.Reason#BAD_PATH} for an empty, absolute, over-long,
     *                         {@code ..}-containing (also percent-encoded), NUL- or control-character-
     *                         containing path, with what is wrong
     */
    String checkPath(String path) throws MirrorException;

    /** Where a node's mirror lives (it may not exist yet). */
    Path nodeRoot(String nodeId);

    /**
     * Opens an upload of one file, resuming a partial of the same path if there is one. Disk work.
     * The caller holds the file's IO lock; a second open of a path already open is refused anyway.
     *
     * @param nodeId       the uploading node
     * @param path         the file, relative to the node's workspace (checked as by {@link #checkPath})
     * @param expectedSize the file's size if known, else -1; checked against quota and disk reserve
     * @throws MirrorException BAD_PATH, SYMLINK, BUSY, QUOTA_EXCEEDED, DISK_RESERVE or IO
     */
    MirrorUpload openUpload(String nodeId, String path, long expectedSize) throws MirrorException;

    /**
     * The complete file at {@code path} in a node's mirror, for reading (a push from one node's mirror
     * to another node). Confined as uploads are: the path is checked as by {@link #checkPath}, no
     * directory on the way and not the file itself may be a symlink, and partials are never returned.
     * Disk work. Open the file without following links: it may be replaced (atomically) at any time.
     *
     * @param nodeId the node whose mirror holds the file
     * @param path   the file, relative to the node's workspace
     * @return the file's location in the mirror
     * @throws MirrorException BAD_PATH, SYMLINK, NOT_FOUND (no such complete file) or IO
     * @since 1.1
     */
    Path existingFile(String nodeId, String path) throws MirrorException;

    /** How much of its quota a node uses. Answers from memory. */
    MirrorUsage usage(String nodeId);
}
