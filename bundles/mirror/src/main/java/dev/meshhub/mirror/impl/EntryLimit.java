package dev.meshhub.mirror.impl;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;

/**
 * The per-node limit on files and directories (partial uploads included), so that a node cannot use
 * up the disk's inodes with empty files, which the byte quota would never notice. An upload reserves
 * what it will create when it opens; the cleanup task's recount from disk corrects any drift.
 */
final class EntryLimit {

    private static final Logger LOG = LoggerFactory.getLogger(EntryLimit.class);

    private EntryLimit() {
    }

    /** Reserves {@code more} entries for {@code node}, refusing past {@code limit}. */
    static void reserve(NodeState node, String path, long more, long limit, Path tree) throws MirrorException {
        synchronized (node) {
            if (more > 0 && node.entries + more > limit) {
                String message = "node " + node.nodeId + " holds " + node.entries + " files and directories in its mirror;"
                        + " " + MirrorPaths.quote(path) + " would take it past its limit of " + limit + " (maxFilesPerNode in "
                        + MirrorConfiguration.PID + "); remove files from its mirror (" + tree + ")";
                LOG.warn("node {}: upload refused: {}", node.nodeId, message);
                throw new MirrorException(Reason.QUOTA_EXCEEDED, message);
            }
            node.entries += more;
            node.version++;
        }
    }

    /** How many of {@code path}'s directories, and the file itself, do not exist yet below {@code tree}. */
    static long missing(Path tree, String path) {
        long missing = 0;
        Path at = tree;
        for (String segment : path.split("/")) {
            at = at.resolve(segment);
            if (!Files.exists(at, LinkOption.NOFOLLOW_LINKS)) {
                missing++;
            }
        }
        return missing;
    }
}
