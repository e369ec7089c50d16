package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

/**
 * The mirror on disk, without OSGi. Complete files live at {@code <root>/<node id>/<path>}; partial
 * uploads live outside the node trees, at {@code <root>/.partial/<node id>/<sha256 of path>.part}
 * with a {@code .path} sidecar naming the path, so a node tree only ever holds complete files.
 *
 * <p>Per node, the bytes held are counted in memory ({@link NodeState}): computed by walking the
 * node's tree and partials on its first use, kept up to date by every write, finish and removal, and
 * recounted from the disk by each {@link MirrorCleanup} run (so files an admin removes by hand stop
 * counting). Quota is reserved before a chunk is written, so two uploads of one node cannot both slip
 * under it. The disk reserve is checked against the file store's usable space before each chunk;
 * uploads of different nodes racing for the last bytes may overshoot it by a chunk each.
 */
final class DiskMirror implements MirrorStore {

    static final String PARTIAL_DIRECTORY = ".partial";
    static final String PARTIAL_SUFFIX = ".part";
    static final String SIDECAR_SUFFIX = ".path";

    private static final Logger LOG = LoggerFactory.getLogger(DiskMirror.class);
    static final Pattern PARTIAL_NAME = Pattern.compile("[0-9a-f]{64}");
    /** Bytes in a SHA-256 digest. */
    static final int SHA256_LENGTH = 32;

    private final Path root;
    private final Path partialRoot;
    private final MirrorDirectories directories;
    private final Clock clock;
    private volatile MirrorSettings settings;
    private final ConcurrentMap<String, NodeState> nodes = new ConcurrentHashMap<>();
    private final Set<DiskMirrorUpload> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private volatile FileStore fileStore;

    DiskMirror(MirrorSettings settings, Clock clock) {
        this.settings = settings;
        this.root = settings.root();
        this.partialRoot = root.resolve(PARTIAL_DIRECTORY);
        this.directories = new MirrorDirectories(root, partialRoot);
        this.clock = clock;
    }

    MirrorSettings settings() {
        return settings;
    }

    /** New limits for the same directory; they apply to the next check. */
    void reconfigure(MirrorSettings changed) {
        if (!changed.root().equals(root)) {
            throw new IllegalArgumentException("a DiskMirror cannot move from " + root + " to " + changed.root());
        }
        settings = changed;
    }

    Path root() {
        return root;
    }

    Path partialRoot() {
        return partialRoot;
    }

    Clock clock() {
        return clock;
    }

    /** Every node the mirror has state for. */
    Collection<NodeState> nodeStates() {
        return nodes.values();
    }

    @Override
    public String checkPath(String path) throws MirrorException {
        return MirrorPaths.checkPath(path);
    }

    /** @throws IllegalArgumentException if the node id is malformed */
    @Override
    public Path nodeRoot(String nodeId) {
        return root.resolve(MirrorPaths.checkNodeId(nodeId));
    }

    /**
     * From memory, except the first call for a node since activation, which walks the node's tree once.
     *
     * @throws IllegalArgumentException if the node id is malformed
     */
    @Override
    public MirrorUsage usage(String nodeId) {
        NodeState node = loaded(MirrorPaths.checkNodeId(nodeId));
        synchronized (node) {
            return new MirrorUsage(node.complete + node.partial, node.partial, settings.quotaBytes());
        }
    }

    @Override
    public Path existingFile(String nodeId, String path) throws MirrorException {
        String id;
        try {
            id = MirrorPaths.checkNodeId(nodeId);
        } catch (IllegalArgumentException e) {
            throw new MirrorException(Reason.BAD_PATH, e.getMessage());
        }
        String normal = MirrorPaths.checkPath(path);
        try {
            return directories.existingFile(id, normal);
        } catch (IOException e) {
            throw MirrorFiles.io("read " + MirrorPaths.quote(normal) + " in the mirror of node " + id, e);
        }
    }

    @Override
    public MirrorUpload openUpload(String nodeId, String path, long expectedSize) throws MirrorException {
        String id;
        try {
            id = MirrorPaths.checkNodeId(nodeId);
        } catch (IllegalArgumentException e) {
            throw new MirrorException(Reason.BAD_PATH, e.getMessage());
        }
        String normal;
        try {
            normal = MirrorPaths.checkPath(path);
        } catch (MirrorException e) {
            LOG.warn("node {}: upload refused: {}", id, e.getMessage());
            throw e;
        }
        requireRunning();
        Path nodeRoot = root.resolve(id);
        Path destination = nodeRoot.resolve(normal);
        if (!destination.normalize().startsWith(nodeRoot) || destination.equals(nodeRoot)) {
            // Cannot happen after checkPath; a second line of defence costs nothing.
            throw new MirrorException(Reason.BAD_PATH, "path " + MirrorPaths.quote(normal)
                    + " leaves the mirror of node " + id + "; use a path relative to the node's workspace");
        }
        String name = partialName(normal);
        NodeState node = loaded(id);
        synchronized (node) {
            if (node.removing) {
                throw new MirrorException(Reason.BUSY, "the mirror of node " + id
                        + " is being removed (the node was revoked); nothing can be uploaded to it now");
            }
            if (!node.busy.add(name)) {
                LOG.debug("node {}: second upload of {} refused, one is open", id, MirrorPaths.quote(normal));
                throw new MirrorException(Reason.BUSY, "path " + MirrorPaths.quote(normal) + " of node " + id
                        + " is being uploaded already; wait for that upload to end, then resume it");
            }
        }
        FileChannel channel = null;
        boolean opened = false;
        try {
            directories.realDirectories(id, normal, false);
            MirrorDirectories.checkDestination(id, normal, destination);
            Path partialDirectory = directories.partialDirectory(id);
            Path partial = partialDirectory.resolve(name + PARTIAL_SUFFIX);
            Path sidecar = partialDirectory.resolve(name + SIDECAR_SUFFIX);
            long held = MirrorDirectories.heldBytes(id, normal, partial);
            if (held > 0 && expectedSize >= 0 && held > expectedSize) {
                // A longer partial cannot be a prefix of this file: resuming would only fail the checksum.
                LOG.info("node {}: partial of {} holds {} bytes but the file has {}; starting over", id,
                        MirrorPaths.quote(normal), held, expectedSize);
                deletePartial(node, partial, held);
                held = 0;
            }
            long remaining = expectedSize < 0 ? 0 : expectedSize - held;
            checkQuota(node, normal, remaining);
            checkReserve(id, normal, remaining);
            EntryLimit.reserve(node, normal, (Files.exists(partial, LinkOption.NOFOLLOW_LINKS) ? 0 : 2)
                    + EntryLimit.missing(root.resolve(id), normal), settings.maxFiles(), root.resolve(id));
            channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            long size = channel.size();
            MessageDigest digest = MirrorFiles.sha256();
            MirrorFiles.prime(channel, size, digest);
            Files.write(sidecar, normal.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            DiskMirrorUpload upload = new DiskMirrorUpload(this, node, normal, name, destination, partial, sidecar,
                    channel, digest, size);
            open.add(upload);
            opened = true;
            if (closed) {
                // Lost a race with close(): it may have missed this upload.
                upload.close();
                requireRunning();
            }
            LOG.debug("node {}: upload of {} opened at offset {} (expected size {})", id, MirrorPaths.quote(normal),
                    size, expectedSize);
            return upload;
        } catch (IOException e) {
            throw MirrorFiles.io("open the upload of " + MirrorPaths.quote(normal) + " for node " + id, e);
        } finally {
            if (!opened) {
                MirrorFiles.closeQuietly(channel);
                synchronized (node) {
                    node.busy.remove(name);
                }
            }
        }
    }

    // ---- called by DiskMirrorUpload ----

    /**
     * Reserves quota and checks the disk reserve for {@code bytes} about to be written; on success the
     * caller must {@link #committed} or {@link #released} exactly once.
     */
    void reserve(NodeState node, String path, long bytes) throws MirrorException {
        synchronized (node) {
            checkQuota(node, path, bytes);
            node.partial += bytes;
            node.pending++;
            node.version++;
        }
        try {
            checkReserve(node.nodeId, path, bytes);
        } catch (MirrorException | RuntimeException e) {
            released(node, bytes);
            throw e;
        }
    }

    void committed(NodeState node) {
        synchronized (node) {
            node.pending--;
            node.version++;
        }
    }

    void released(NodeState node, long bytes) {
        synchronized (node) {
            node.partial -= bytes;
            node.pending--;
            node.version++;
        }
    }

    /**
     * Moves a verified, forced and closed partial into place. On a failure the partial is left where
     * it was, for a resume.
     */
    MirrorFile install(DiskMirrorUpload upload, String sha256Hex) throws MirrorException {
        NodeState node = upload.node();
        String id = node.nodeId;
        String path = upload.path();
        Path destination = upload.destination();
        long size = upload.offset();
        synchronized (node) {
            node.pending++;
            node.version++;
        }
        long replaced = 0;
        boolean moved = false;
        try {
            // Checked again: the tree may have changed since the upload was opened.
            directories.realDirectories(id, path, true);
            MirrorDirectories.checkDestination(id, path, destination);
            replaced = MirrorDirectories.existingFileSize(destination);
            Files.move(upload.partial(), destination, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            MirrorTrees.syncDirectory(destination.getParent());
            MirrorFiles.deleteQuietly(upload.sidecar());
            return new MirrorFile(id, path, destination, size, sha256Hex);
        } catch (IOException e) {
            throw MirrorFiles.io("move " + MirrorPaths.quote(path) + " of node " + id + " into place", e);
        } finally {
            synchronized (node) {
                if (moved) {
                    node.partial -= size;
                    node.complete += size - replaced;
                    // The partial became the file (reserved at open as its destination) and the sidecar is gone.
                    node.entries -= 2;
                }
                node.pending--;
                node.version++;
            }
        }
    }

    /** Deletes an upload's partial and sidecar, which hold {@code bytes} counted bytes. */
    void deletePartial(NodeState node, Path partial, Path sidecar, long bytes) {
        deletePartial(node, partial, bytes);
        MirrorFiles.deleteQuietly(sidecar);
    }

    /** Frees an ended upload's slot. */
    void ended(DiskMirrorUpload upload) {
        open.remove(upload);
        NodeState node = upload.node();
        synchronized (node) {
            node.busy.remove(upload.partialName());
        }
    }

    /**
     * Takes a closed upload's slot back, so its partial can be deleted without pulling it from under
     * a newer upload of the same path.
     */
    boolean claim(NodeState node, String partialName) {
        synchronized (node) {
            return !node.removing && node.busy.add(partialName);
        }
    }

    void unclaim(NodeState node, String partialName) {
        synchronized (node) {
            node.busy.remove(partialName);
        }
    }

    /** Bytes the file at {@code partial} holds now, for a closed upload's discard. */
    static long sizeOrZero(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).size();
        } catch (IOException e) {
            return 0;
        }
    }

    // ---- cleanup ----

    /** One cleanup run; see {@link MirrorCleanup#run}. */
    MirrorCleanup.Report cleanup(Collection<EnrolledNode> enrolled) {
        return new MirrorCleanup(this).run(enrolled);
    }

    // ---- lifecycle ----

    /** Closes every open upload (their partials stay for resume) and refuses new ones. Idempotent. */
    void close() {
        closed = true;
        for (DiskMirrorUpload upload : List.copyOf(open)) {
            upload.close();
        }
    }

    /** Uploads open now; for tests and status. */
    int openUploads() {
        return open.size();
    }

    // ---- helpers ----

    private void requireRunning() throws MirrorException {
        if (closed) {
            throw new MirrorException(Reason.IO, "the mirror at " + root
                    + " is stopped (reconfigured or shutting down); retry the upload, it resumes where it was");
        }
    }

    NodeState node(String id) {
        return nodes.computeIfAbsent(id, NodeState::new);
    }

    private NodeState loaded(String id) {
        NodeState node = node(id);
        synchronized (node) {
            if (!node.loaded) {
                node.complete = MirrorTrees.size(root.resolve(id));
                node.partial = partialBytes(id);
                node.entries = entries(id);
                node.loaded = true;
                node.version++;
            }
        }
        return node;
    }

    /** Files and directories of a node's tree and partial directory, from disk. */
    long entries(String id) {
        return MirrorTrees.entries(root.resolve(id)) + MirrorTrees.entries(partialRoot.resolve(id));
    }

    long partialBytes(String id) {
        Path directory = partialRoot.resolve(id);
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        long bytes = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*" + PARTIAL_SUFFIX)) {
            for (Path entry : entries) {
                try {
                    BasicFileAttributes attrs = Files.readAttributes(entry, BasicFileAttributes.class,
                            LinkOption.NOFOLLOW_LINKS);
                    if (attrs.isRegularFile()) {
                        bytes += attrs.size();
                    }
                } catch (IOException e) {
                    // Vanished or unreadable: not counted, as it cannot be resumed either.
                }
            }
        } catch (IOException e) {
            LOG.debug("node {}: partials not counted: {}", id, e.toString());
        }
        return bytes;
    }

    /** The name of a path's partial: its SHA-256, so any path maps to one fixed-length, harmless name. */
    static String partialName(String normalPath) {
        return HexFormat.of().formatHex(MirrorFiles.sha256().digest(normalPath.getBytes(StandardCharsets.UTF_8)));
    }

    private void checkQuota(NodeState node, String path, long bytes) throws MirrorException {
        long quota = settings.quotaBytes();
        long used;
        synchronized (node) {
            used = node.complete + node.partial;
        }
        if (bytes > quota - used) {
            String message = "node " + node.nodeId + " would use " + ByteSizes.format(MirrorFiles.saturatedAdd(used, bytes))
                    + " of its " + ByteSizes.format(quota) + " quota (" + ByteSizes.format(used) + " held, "
                    + ByteSizes.format(bytes) + " more for " + MirrorPaths.quote(path) + "); raise quotaBytes in "
                    + MirrorConfiguration.PID + " or remove files from its mirror (" + root.resolve(node.nodeId) + ")";
            LOG.warn("node {}: upload refused: {}", node.nodeId, message);
            throw new MirrorException(Reason.QUOTA_EXCEEDED, message);
        }
    }

    private void checkReserve(String id, String path, long bytes) throws MirrorException {
        long reserve = settings.reserveBytes();
        long usable;
        try {
            usable = fileStore().getUsableSpace();
        } catch (IOException e) {
            throw MirrorFiles.io("check the free space for " + MirrorPaths.quote(path) + " of node " + id, e);
        }
        if (bytes > usable - reserve) {
            String message = "storing " + ByteSizes.format(bytes) + " more of " + MirrorPaths.quote(path)
                    + " for node " + id + " would leave " + ByteSizes.format(Math.max(0, usable - bytes))
                    + " free on the mirror's disk (" + root + "), below the " + ByteSizes.format(reserve)
                    + " reserve; free disk space there or lower reserveBytes in " + MirrorConfiguration.PID;
            LOG.warn("node {}: upload refused: {}", id, message);
            throw new MirrorException(Reason.DISK_RESERVE, message);
        }
    }

    private FileStore fileStore() throws IOException {
        FileStore store = fileStore;
        if (store == null) {
            Files.createDirectories(root);
            store = Files.getFileStore(root);
            fileStore = store;
        }
        return store;
    }

    private void deletePartial(NodeState node, Path partial, long bytes) {
        try {
            Files.deleteIfExists(partial);
        } catch (IOException e) {
            // Counted as gone all the same: the cleanup task retries and the next recount corrects usage.
            LOG.warn("node {}: could not delete partial {}: {}", node.nodeId, partial, e.toString());
        }
        synchronized (node) {
            node.partial -= bytes;
            node.version++;
        }
    }

    Instant now() {
        return clock.instant();
    }
}
