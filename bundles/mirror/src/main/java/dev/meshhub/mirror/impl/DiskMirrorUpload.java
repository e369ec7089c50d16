package dev.meshhub.mirror.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.mirror.MirrorException;
import dev.meshhub.api.mirror.MirrorException.Reason;
import dev.meshhub.api.mirror.MirrorFile;
import dev.meshhub.api.mirror.MirrorUpload;

/**
 * One upload into a partial file, through a channel kept open for the upload's life. The methods are
 * synchronized although the API asks for one thread at a time: the store's {@link DiskMirror#close()}
 * may close an upload from another thread, and the monitor makes that safe at no real cost.
 */
final class DiskMirrorUpload implements MirrorUpload {

    private static final Logger LOG = LoggerFactory.getLogger(DiskMirrorUpload.class);

    private enum State {
        OPEN, FINISHED, CLOSED, DISCARDED
    }

    private final DiskMirror store;
    private final NodeState node;
    private final String path;
    private final String partialName;
    private final Path destination;
    private final Path partial;
    private final Path sidecar;
    private final FileChannel channel;
    private final MessageDigest digest;
    /** Guarded by this. */
    private long offset;
    /** Guarded by this. */
    private State state = State.OPEN;
    /** Guarded by this; set once finished, so a repeated finish can be answered. */
    private MirrorFile finished;
    private byte[] finishedDigest;

    DiskMirrorUpload(DiskMirror store, NodeState node, String path, String partialName, Path destination, Path partial,
                     Path sidecar, FileChannel channel, MessageDigest digest, long offset) {
        this.store = store;
        this.node = node;
        this.path = path;
        this.partialName = partialName;
        this.destination = destination;
        this.partial = partial;
        this.sidecar = sidecar;
        this.channel = channel;
        this.digest = digest;
        this.offset = offset;
    }

    @Override
    public String nodeId() {
        return node.nodeId;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public Path destination() {
        return destination;
    }

    @Override
    public synchronized long offset() {
        return offset;
    }

    @Override
    public synchronized void write(long at, ByteBuffer data) throws MirrorException {
        if (state == State.FINISHED) {
            throw new MirrorException(Reason.BAD_OFFSET, "chunk at offset " + at + " after the final one: "
                    + MirrorPaths.quote(path) + " is complete with " + offset + " bytes", offset, null);
        }
        requireOpen();
        if (at != offset) {
            LOG.debug("node {}: chunk of {} at offset {} refused, expected {}", node.nodeId, MirrorPaths.quote(path),
                    at, offset);
            throw new MirrorException(Reason.BAD_OFFSET, "chunk at offset " + at + ", expected " + offset
                    + ": the hub holds " + offset + " bytes of " + MirrorPaths.quote(path) + "; resend from " + offset,
                    offset, null);
        }
        int length = data.remaining();
        if (length == 0) {
            return;
        }
        store.reserve(node, path, length);
        ByteBuffer forDigest = data.duplicate();
        long position = offset;
        try {
            while (data.hasRemaining()) {
                position += channel.write(data, position);
            }
        } catch (IOException e) {
            store.released(node, length);
            try {
                // Keeps the partial a prefix the digest can be primed from again on resume.
                channel.truncate(offset);
            } catch (IOException truncateFailed) {
                e.addSuppressed(truncateFailed);
            }
            end(State.CLOSED);
            throw MirrorFiles.io("write " + MirrorPaths.quote(path) + " of node " + node.nodeId + " at offset " + offset
                    + " (the upload is closed; open it again to resume from the bytes held)", e);
        }
        digest.update(forDigest);
        offset = position;
        store.committed(node);
    }

    @Override
    public synchronized MirrorFile finish(long totalSize, byte[] sha256) throws MirrorException {
        if (state == State.FINISHED) {
            // A retried finish (say, the reply was lost) gets the same answer; anything else is a mistake.
            if (totalSize == finished.size() && Arrays.equals(sha256, finishedDigest)) {
                return finished;
            }
            throw new MirrorException(Reason.IO, "the upload of " + MirrorPaths.quote(path) + " for node "
                    + node.nodeId + " is finished already, as " + finished.size() + " bytes with SHA-256 "
                    + finished.sha256());
        }
        requireOpen();
        if (sha256 == null || sha256.length != DiskMirror.SHA256_LENGTH) {
            // A malformed digest says nothing about the data: keep it and let the node send a proper one.
            throw new MirrorException(Reason.CHECKSUM_MISMATCH, "the node sent a SHA-256 of "
                    + (sha256 == null ? "no" : String.valueOf(sha256.length)) + " bytes for "
                    + MirrorPaths.quote(path) + "; a SHA-256 has 32. The upload stays open");
        }
        if (totalSize != offset) {
            long held = offset;
            drop();
            LOG.warn("node {}: upload of {} failed: {} bytes received, the node says {}; partial discarded",
                    node.nodeId, MirrorPaths.quote(path), held, totalSize);
            throw new MirrorException(Reason.SIZE_MISMATCH, "received " + held + " bytes of " + MirrorPaths.quote(path)
                    + ", the node says " + totalSize + "; the partial was discarded and the mirror's copy left as it"
                    + " was. Upload the file again");
        }
        byte[] actual = digest.digest();
        if (!MessageDigest.isEqual(actual, sha256)) {
            String received = HexFormat.of().formatHex(actual);
            String claimed = HexFormat.of().formatHex(sha256);
            drop();
            LOG.warn("node {}: upload of {} failed: SHA-256 of the {} bytes received is {}, the node says {};"
                    + " partial discarded", node.nodeId, MirrorPaths.quote(path), totalSize, received, claimed);
            throw new MirrorException(Reason.CHECKSUM_MISMATCH, "SHA-256 of the " + totalSize + " bytes received of "
                    + MirrorPaths.quote(path) + " is " + received + ", the node says " + claimed
                    + "; the partial was discarded and the mirror's copy left as it was. Upload the file again");
        }
        try {
            channel.force(true);
            channel.close();
        } catch (IOException e) {
            end(State.CLOSED);
            throw MirrorFiles.io("force " + MirrorPaths.quote(path) + " of node " + node.nodeId + " to disk", e);
        }
        MirrorFile file;
        try {
            file = store.install(this, HexFormat.of().formatHex(actual));
        } catch (MirrorException | RuntimeException e) {
            // The verified partial stays; a resume at its full size can finish it once the cause is fixed.
            end(State.CLOSED);
            throw e;
        }
        finished = file;
        finishedDigest = actual.clone();
        end(State.FINISHED);
        LOG.debug("node {}: {} mirrored, {} bytes, SHA-256 {}", node.nodeId, MirrorPaths.quote(path), file.size(),
                file.sha256());
        return file;
    }

    @Override
    public synchronized void discard() {
        switch (state) {
            case OPEN:
                drop();
                break;
            case CLOSED:
                // The slot was given up on close; take it back first so a newer upload of the same path
                // does not lose its partial.
                if (store.claim(node, partialName)) {
                    try {
                        store.deletePartial(node, partial, sidecar, DiskMirror.sizeOrZero(partial));
                    } finally {
                        store.unclaim(node, partialName);
                    }
                    state = State.DISCARDED;
                } else {
                    LOG.debug("node {}: discard of closed upload {} skipped, the path is open again", node.nodeId,
                            MirrorPaths.quote(path));
                }
                break;
            default:
                break;
        }
    }

    @Override
    public synchronized void close() {
        if (state != State.OPEN) {
            return;
        }
        // The TTL counts from when the upload ended, not from its last chunk.
        MirrorFiles.touch(partial, store.now());
        end(State.CLOSED);
        LOG.debug("node {}: upload of {} closed at offset {}, kept for resume", node.nodeId, MirrorPaths.quote(path),
                offset);
    }

    NodeState node() {
        return node;
    }

    String partialName() {
        return partialName;
    }

    Path partial() {
        return partial;
    }

    Path sidecar() {
        return sidecar;
    }

    /** Closes the channel and deletes the partial while still holding the slot. */
    private void drop() {
        MirrorFiles.closeQuietly(channel);
        store.deletePartial(node, partial, sidecar, offset);
        end(State.DISCARDED);
    }

    private void end(State next) {
        MirrorFiles.closeQuietly(channel);
        state = next;
        store.ended(this);
    }

    private void requireOpen() throws MirrorException {
        if (state != State.OPEN) {
            throw new MirrorException(Reason.IO, "the upload of " + MirrorPaths.quote(path) + " for node "
                    + node.nodeId + " is " + (state == State.CLOSED ? "closed" : "discarded")
                    + "; open it again to continue");
        }
    }
}
