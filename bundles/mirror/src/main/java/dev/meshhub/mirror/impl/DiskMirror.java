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
 * recounted from the disk by each {@link #cleanup} run (so files an admin removes by hand stop
 * counting). Quota is reserved before a chunk is written, so two uploads of one node cannot both slip
 * under it. The disk reserve is checked against the file store's usable space before each chunk;
 * uploads of different nodes racing for the last bytes may overshoot it by a chunk each.
 */
final class DiskMirror implements MirrorStore {

    static final String PARTIAL_DIRECTORY = ".partial";
    static final String PARTIAL_SUFFIX = ".part";
    static final String SIDECAR_SUFFIX = ".path";

    private static final Logger LOG = LoggerFactory.getLogger(DiskMirror.class);
    private static final Pattern PARTIAL_NAME = Pattern.compile("[0-9a-f]{64}");
    /** Bytes in a SHA-256 digest. */
    static final int SHA256_LENGTH = 32;
    private static final int READ_BUFFER = 64 * 1024;
    /** How many paths one INFO line of the cleanup names before it only counts. */
    private static final int LOGGED_PATHS = 5;

    /**
     * What one {@link #cleanup} run removed.
     *
     * @param stalePartials     partial uploads removed past their TTL
     * @param stalePartialBytes their bytes
     * @param revokedNodes      revoked nodes whose mirror was removed
     * @param revokedBytes      bytes of those mirrors (files and partials)
     * @param failures          entries that could not be removed (logged; retried next run)
     */
    record CleanupReport(int stalePartials, long stalePartialBytes, List<String> revokedNodes, long revokedBytes,
                         int failures) {
    }

    private final Path root;
    private final Path partialRoot;
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
            realDirectories(id, normal, false);
            checkDestination(id, normal, destination);
            Path partialDirectory = partialDirectory(id);
            Path partial = partialDirectory.resolve(name + PARTIAL_SUFFIX);
            Path sidecar = partialDirectory.resolve(name + SIDECAR_SUFFIX);
            long held = heldBytes(id, normal, partial);
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
            channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            long size = channel.size();
            MessageDigest digest = sha256();
            prime(channel, size, digest);
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
            throw io("open the upload of " + MirrorPaths.quote(normal) + " for node " + id, e);
        } finally {
            if (!opened) {
                closeQuietly(channel);
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
            realDirectories(id, path, true);
            checkDestination(id, path, destination);
            replaced = existingFileSize(destination);
            Files.move(upload.partial(), destination, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            MirrorTrees.syncDirectory(destination.getParent());
            deleteQuietly(upload.sidecar());
            return new MirrorFile(id, path, destination, size, sha256Hex);
        } catch (IOException e) {
            throw io("move " + MirrorPaths.quote(path) + " of node " + id + " into place", e);
        } finally {
            synchronized (node) {
                if (moved) {
                    node.partial -= size;
                    node.complete += size - replaced;
                }
                node.pending--;
                node.version++;
            }
        }
    }

    /** Deletes an upload's partial and sidecar, which hold {@code bytes} counted bytes. */
    void deletePartial(NodeState node, Path partial, Path sidecar, long bytes) {
        deletePartial(node, partial, bytes);
        deleteQuietly(sidecar);
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

    /**
     * Removes partials idle past the TTL that no upload holds, the mirrors of revoked nodes (if so
     * configured and {@code enrolled} is known), and recounts every known node's usage from disk.
     * Stops early, keeping what was done, if the thread is interrupted.
     *
     * @param enrolled every enrolled node, or null if the enrollment store is not available
     */
    CleanupReport cleanup(Collection<EnrolledNode> enrolled) {
        MirrorSettings current = settings;
        Instant cutoff = clock.instant().minus(current.partialTtl());
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
        for (NodeState node : nodes.values()) {
            if (Thread.currentThread().isInterrupted()) {
                break;
            }
            recount(node);
        }
        return new CleanupReport(stale, staleBytes, List.copyOf(revoked), revokedBytes, failures[0]);
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
        NodeState node = node(id);
        long count = 0;
        long bytes = 0;
        List<String> paths = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(nodeDirectory)) {
            for (Path entry : entries) {
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
                String fileName = entry.getFileName().toString();
                if (fileName.endsWith(SIDECAR_SUFFIX)) {
                    removeOrphanSidecar(entry, cutoff);
                    continue;
                }
                if (!fileName.endsWith(PARTIAL_SUFFIX)) {
                    continue;
                }
                String name = fileName.substring(0, fileName.length() - PARTIAL_SUFFIX.length());
                if (!PARTIAL_NAME.matcher(name).matches()) {
                    continue;
                }
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    continue;
                }
                if (!attrs.lastModifiedTime().toInstant().isBefore(cutoff) || !claim(node, name)) {
                    continue;
                }
                try {
                    Path sidecar = nodeDirectory.resolve(name + SIDECAR_SUFFIX);
                    String path = readSidecar(sidecar);
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
                    deleteQuietly(sidecar);
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
                    unclaim(node, name);
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
                fileName.substring(0, fileName.length() - SIDECAR_SUFFIX.length()) + PARTIAL_SUFFIX);
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
        NodeState node = node(id);
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
        long partial = partialBytes(node.nodeId);
        synchronized (node) {
            if (node.version == version && node.pending == 0 && node.loaded) {
                if (node.complete != complete || node.partial != partial) {
                    LOG.debug("node {}: usage recounted from disk: {} + {} partial (was {} + {})", node.nodeId,
                            complete, partial, node.complete, node.partial);
                }
                node.complete = complete;
                node.partial = partial;
            }
        }
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

    private NodeState node(String id) {
        return nodes.computeIfAbsent(id, NodeState::new);
    }

    private NodeState loaded(String id) {
        NodeState node = node(id);
        synchronized (node) {
            if (!node.loaded) {
                node.complete = MirrorTrees.size(root.resolve(id));
                node.partial = partialBytes(id);
                node.loaded = true;
                node.version++;
            }
        }
        return node;
    }

    private long partialBytes(String id) {
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
        return HexFormat.of().formatHex(sha256().digest(normalPath.getBytes(StandardCharsets.UTF_8)));
    }

    private void checkQuota(NodeState node, String path, long bytes) throws MirrorException {
        long quota = settings.quotaBytes();
        long used;
        synchronized (node) {
            used = node.complete + node.partial;
        }
        if (bytes > quota - used) {
            String message = "node " + node.nodeId + " would use " + ByteSizes.format(saturatedAdd(used, bytes))
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
            throw io("check the free space for " + MirrorPaths.quote(path) + " of node " + id, e);
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

    /**
     * Checks that every existing directory from the node's root down to the parent of {@code path} is
     * a real directory, never a symlink; with {@code create}, makes the missing ones.
     */
    private void realDirectories(String id, String path, boolean create) throws MirrorException, IOException {
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

    private static void checkDestination(String id, String path, Path destination) throws MirrorException, IOException {
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

    private Path partialDirectory(String id) throws MirrorException, IOException {
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
    private static long heldBytes(String id, String path, Path partial) throws MirrorException, IOException {
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

    private static long existingFileSize(Path file) throws IOException {
        try {
            BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return attrs.isRegularFile() ? attrs.size() : 0;
        } catch (NoSuchFileException e) {
            return 0;
        }
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

    private static void prime(FileChannel channel, long size, MessageDigest digest) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(READ_BUFFER, Math.max(size, 1)));
        long position = 0;
        while (position < size) {
            buffer.clear();
            if (size - position < buffer.capacity()) {
                buffer.limit((int) (size - position));
            }
            int read = channel.read(buffer, position);
            if (read < 0) {
                throw new IOException("partial ended at " + position + " of " + size + " bytes while it was read");
            }
            buffer.flip();
            digest.update(buffer);
            position += read;
        }
    }

    private static String readSidecar(Path sidecar) {
        try {
            byte[] bytes = Files.readAllBytes(sidecar);
            return MirrorPaths.quote(new String(bytes, 0, Math.min(bytes.length, MirrorPaths.MAX_PATH_BYTES),
                    StandardCharsets.UTF_8));
        } catch (IOException e) {
            return "(unknown path, " + sidecar.getFileName() + ")";
        }
    }

    static void touch(Path file, Instant when) {
        try {
            Files.setLastModifiedTime(file, FileTime.from(when));
        } catch (IOException e) {
            // Only shortens the time the partial is kept; never worth failing a close for.
        }
    }

    Instant now() {
        return clock.instant();
    }

    static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("could not delete {}: {}", file, e.toString());
        }
    }

    static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing a partial's channel failed: {}", e.toString());
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    static MirrorException io(String what, IOException e) {
        return new MirrorException(Reason.IO, "could not " + what + ": " + e, e);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
