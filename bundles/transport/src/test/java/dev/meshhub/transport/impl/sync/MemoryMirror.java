package dev.meshhub.transport.impl.sync;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorStore;
import dev.meshhub.api.mirror.MirrorUpload;
import dev.meshhub.api.mirror.MirrorUsage;

/**
 * A mirror in memory with the contract's rules: paths checked, one open upload per path, a partial
 * kept for resume, writes only at the held offset, finish verifying size and SHA-256. Keys are
 * {@code node/path}.
 */
final class MemoryMirror implements MirrorStore {

    final Map<String, byte[]> complete = new ConcurrentHashMap<>();
    final Map<String, ByteArrayOutputStream> partials = new ConcurrentHashMap<>();
    final Set<String> open = ConcurrentHashMap.newKeySet();
    volatile long quotaBytes = Long.MAX_VALUE;

    @Override
    public String checkPath(String path) throws MirrorException {
        if (path == null || path.isEmpty() || path.startsWith("/") || path.contains("..") || path.indexOf('\0') >= 0) {
            throw new MirrorException(Reason.BAD_PATH, "path '" + path + "' is not a clean relative path");
        }
        return path;
    }

    @Override
    public Path nodeRoot(String nodeId) {
        return Path.of("/mirror", nodeId);
    }

    @Override
    public Path existingFile(String nodeId, String path) throws MirrorException {
        if (!complete.containsKey(nodeId + "/" + checkPath(path))) {
            throw new MirrorException(Reason.NOT_FOUND, "no file " + path);
        }
        return nodeRoot(nodeId).resolve(path);
    }

    @Override
    public MirrorUpload openUpload(String nodeId, String path, long expectedSize) throws MirrorException {
        String key = nodeId + "/" + checkPath(path);
        if (expectedSize > quotaBytes) {
            throw new MirrorException(Reason.QUOTA_EXCEEDED, "node " + nodeId + " would exceed its quota");
        }
        if (!open.add(key)) {
            throw new MirrorException(Reason.BUSY, path + " is being uploaded already");
        }
        return new Upload(nodeId, path, key, partials.computeIfAbsent(key, k -> new ByteArrayOutputStream()));
    }

    @Override
    public MirrorUsage usage(String nodeId) {
        return new MirrorUsage(0, 0, quotaBytes);
    }

    static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256(bytes));
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private final class Upload implements MirrorUpload {
        private final String nodeId;
        private final String path;
        private final String key;
        private final ByteArrayOutputStream partial;
        private boolean ended;

        Upload(String nodeId, String path, String key, ByteArrayOutputStream partial) {
            this.nodeId = nodeId;
            this.path = path;
            this.key = key;
            this.partial = partial;
        }

        @Override
        public String nodeId() {
            return nodeId;
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public Path destination() {
            return nodeRoot(nodeId).resolve(path);
        }

        @Override
        public synchronized long offset() {
            return partial.size();
        }

        @Override
        public synchronized void write(long offset, ByteBuffer data) throws MirrorException {
            if (offset != partial.size()) {
                throw new MirrorException(Reason.BAD_OFFSET, "chunk at " + offset + ", expected " + partial.size(), partial.size(), null);
            }
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            partial.writeBytes(bytes);
        }

        @Override
        public synchronized MirrorFile finish(long totalSize, byte[] sha256) throws MirrorException {
            byte[] bytes = partial.toByteArray();
            if (totalSize != bytes.length) {
                throw new MirrorException(Reason.SIZE_MISMATCH, "size " + totalSize + " announced, " + bytes.length + " received");
            }
            if (!Arrays.equals(sha256, MemoryMirror.sha256(bytes))) {
                partials.remove(key);
                throw new MirrorException(Reason.CHECKSUM_MISMATCH, "checksum mismatch; the partial was discarded");
            }
            complete.put(key, bytes);
            partials.remove(key);
            close();
            return new MirrorFile(nodeId, path, destination(), bytes.length, sha256Hex(bytes));
        }

        @Override
        public void discard() {
            partials.remove(key);
            close();
        }

        @Override
        public synchronized void close() {
            if (!ended) {
                ended = true;
                open.remove(key);
            }
        }
    }
}
