package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;

/**
 * One run of the mirror's housekeeping over a {@link DiskMirror}: partials idle past their TTL that no
 * upload holds, the mirrors of revoked nodes, and a recount of every node's usage from disk.
 */
final class MirrorCleanup {

    private static final Logger LOG = LoggerFactory.getLogger(MirrorCleanup.class);
    /** How many paths one INFO line names before it only counts. */
    private static final int LOGGED_PATHS = 5;

    /**
     * What one run removed.
     *
     * @param stalePartials     partial uploads removed past their TTL
     * @param stalePartialBytes their bytes
     * @param revokedNodes      revoked nodes whose mirror was removed
     * @param revokedBytes      bytes of those mirrors (files and partials)
     * @param failures          entries that could not be removed (logged; retried next run)
     */
    record Report(int stalePartials, long stalePartialBytes, List<String> revokedNodes, long revokedBytes,
                         int failures) {
    }

    private final DiskMirror mirror;
    private final Path root;
    private final Path partialRoot;

    MirrorCleanup(DiskMirror mirror) {
        this.mirror = mirror;
        this.root = mirror.root();
        this.partialRoot = mirror.partialRoot();
    }


    /**
     * Removes partials idle past the TTL that no upload holds, the mirrors of revoked nodes (if so
     * configured and {@code enrolled} is known), and recounts every known node's usage from disk.
     * Stops early, keeping what was done, if the thread is interrupted.
     *
     * @param enrolled every enrolled node, or null if the enrollment store is not available
     */
    Report run(Collection<EnrolledNode> enrolled) {
        MirrorSettings current = mirror.settings();
        Instant cutoff = mirror.clock().instant().minus(current.partialTtl());
        int[] failures = new int[1];
        int stale = 0;
        long staleBytes = 0;
        if (Files.isDirectory(partialRoot, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> nodeDirectories = Files.newDirectoryStream(partialRoot)) {
                for (Path nodeDirectory : nodeDirectories) {
                    if (Thread.currentThread().isInterrupted()) {
                        break;
                    }
                    long[] removed = removeStalePartials(nodeDirectory, cutoff, current, failures);
                    stale += (int) removed[0];
                    staleBytes += removed[1];
                }
            } catch (IOException e) {
                failures[0]++;
                LOG.warn("mirror cleanup could not list {}: {}", partialRoot, e.toString());
            }
        }
        List<String> revoked = new ArrayList<>();
        long revokedBytes = 0;
        if (enrolled != null && current.removeRevokedMirrors()) {
            for (EnrolledNode candidate : enrolled) {
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
                if (candidate.revoked()) {
                    long bytes = removeRevoked(candidate, failures);
                    if (bytes >= 0) {
                        revoked.add(candidate.nodeId());
                        revokedBytes += bytes;
                    }
                }
            }
        }
        for (NodeState node : mirror.nodeStates()) {
            if (Thread.currentThread().isInterrupted()) {
                break;
            }
            recount(node);
        }
        return new Report(stale, staleBytes, List.copyOf(revoked), revokedBytes, failures[0]);
    }

    /** @return {count, bytes} removed */
    private long[] removeStalePartials(Path nodeDirectory, Instant cutoff, MirrorSettings current, int[] failures) {
        String id = nodeDirectory.getFileName().toString();
        try {
            MirrorPaths.checkNodeId(id);
        } catch (IllegalArgumentException e) {
            LOG.warn("mirror cleanup skips {}: not a node's partial directory ({})", nodeDirectory, e.getMessage());
            return new long[2];
        }
        if (!Files.isDirectory(nodeDirectory, LinkOption.NOFOLLOW_LINKS)) {
            LOG.warn("mirror cleanup skips {}: not a directory (a symlink is never followed)", nodeDirectory);
            return new long[2];
        }
        NodeState node = mirror.node(id);
        long count = 0;
        long bytes = 0;
        List<String> paths = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(nodeDirectory)) {
            for (Path entry : entries) {
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
                String fileName = entry.getFileName().toString();
                if (fileName.endsWith(DiskMirror.SIDECAR_SUFFIX)) {
                    removeOrphanSidecar(entry, cutoff);
                    continue;
                }
                if (!fileName.endsWith(DiskMirror.PARTIAL_SUFFIX)) {
                    continue;
                }
                String name = fileName.substring(0, fileName.length() - DiskMirror.PARTIAL_SUFFIX.length());
                if (!DiskMirror.PARTIAL_NAME.matcher(name).matches()) {
                    continue;
                }
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    continue;
                }
                if (!attrs.lastModifiedTime().toInstant().isBefore(cutoff) || !mirror.claim(node, name)) {
                    continue;
                }
                try {
                    Path sidecar = nodeDirectory.resolve(name + DiskMirror.SIDECAR_SUFFIX);
                    String path = MirrorFiles.readSidecar(sidecar);
                    long size = attrs.isRegularFile() ? attrs.size() : 0;
                    try {
                        Files.delete(entry);
                    } catch (NoSuchFileException gone) {
                        continue;
                    } catch (IOException e) {
                        failures[0]++;
                        LOG.warn("mirror cleanup could not remove partial {} of node {}: {}", path, id, e.toString());
                        continue;
                    }
                    MirrorFiles.deleteQuietly(sidecar);
                    synchronized (node) {
                        if (node.loaded) {
                            node.partial -= size;
                            node.version++;
                        }
                    }
                    count++;
                    bytes += size;
                    if (paths.size() < LOGGED_PATHS) {
                        paths.add(path);
                    }
                } finally {
                    mirror.unclaim(node, name);
                }
            }
        } catch (IOException e) {
            failures[0]++;
            LOG.warn("mirror cleanup could not list {}: {}", nodeDirectory, e.toString());
        }
        if (count > 0) {
            LOG.info("mirror cleanup removed {} partial upload(s) of node {} idle over {} min, {}: {}{}", count, id,
                    current.partialTtl().toMinutes(), ByteSizes.format(bytes), String.join(", ", paths),
                    count > paths.size() ? ", ..." : "");
        }
        return new long[] {count, bytes};
    }

    private static void removeOrphanSidecar(Path sidecar, Instant cutoff) {
        String fileName = sidecar.getFileName().toString();
        Path partial = sidecar.resolveSibling(
                fileName.substring(0, fileName.length() - DiskMirror.SIDECAR_SUFFIX.length()) + DiskMirror.PARTIAL_SUFFIX);
        try {
            // Young ones may belong to an upload being opened right now.
            if (!Files.exists(partial, LinkOption.NOFOLLOW_LINKS)
                    && Files.getLastModifiedTime(sidecar, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff)) {
                Files.deleteIfExists(sidecar);
            }
        } catch (IOException e) {
            LOG.debug("mirror cleanup left sidecar {}: {}", sidecar, e.toString());
        }
    }

    /** @return bytes removed, or -1 if there was nothing to remove or it had to wait */
    private long removeRevoked(EnrolledNode revoked, int[] failures) {
        String id;
        try {
            id = MirrorPaths.checkNodeId(revoked.nodeId());
        } catch (IllegalArgumentException e) {
            LOG.debug("mirror cleanup skips revoked node {}: {}", revoked.name(), e.getMessage());
            return -1;
        }
        Path tree = root.resolve(id);
        Path partials = partialRoot.resolve(id);
        if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS) && !Files.exists(partials, LinkOption.NOFOLLOW_LINKS)) {
            return -1;
        }
        NodeState node = mirror.node(id);
        synchronized (node) {
            if (!node.busy.isEmpty() || node.removing) {
                LOG.info("mirror cleanup postpones removing the mirror of revoked node {} ({}): {} upload(s) open",
                        id, revoked.name(), node.busy.size());
                return -1;
            }
            node.removing = true;
        }
        MirrorTrees.Removal files;
        MirrorTrees.Removal partial;
        try {
            files = MirrorTrees.delete(tree);
            partial = MirrorTrees.delete(partials);
        } finally {
            synchronized (node) {
                node.removing = false;
                node.loaded = false;
                node.complete = 0;
                node.partial = 0;
                node.version++;
            }
        }
        int failed = files.failures() + partial.failures();
        failures[0] += failed;
        long bytes = files.bytes() + partial.bytes();
        LOG.info("mirror cleanup removed the mirror of revoked node {} ({}): {} entries, {}{}", id, revoked.name(),
                files.entries() + partial.entries(), ByteSizes.format(bytes),
                failed == 0 ? "" : "; " + failed + " entries could not be removed (first: "
                        + (files.firstFailure() != null ? files.firstFailure() : partial.firstFailure())
                        + "), retried next run");
        return bytes;
    }

    /** Recounts a node's usage from disk, unless an upload changed it meanwhile (next run, then). */
    private void recount(NodeState node) {
        long version;
        synchronized (node) {
            if (!node.loaded || node.pending > 0 || node.removing) {
                return;
            }
            version = node.version;
        }
        long complete = MirrorTrees.size(root.resolve(node.nodeId));
        long partial = mirror.partialBytes(node.nodeId);
        long entries = mirror.entries(node.nodeId);
        synchronized (node) {
            if (node.version == version && node.pending == 0 && node.loaded) {
                node.entries = entries;
                if (node.complete != complete || node.partial != partial) {
                    LOG.debug("node {}: usage recounted from disk: {} + {} partial (was {} + {})", node.nodeId,
                            complete, partial, node.complete, node.partial);
                }
                node.complete = complete;
                node.partial = partial;
            }
        }
    }
}
