package dev.meshhub.node;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.meshhub.proto.v1.DownloadChunk;
import dev.meshhub.proto.v1.DownloadRequest;
import dev.meshhub.proto.v1.FileDownload;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Fetches one file the hub pushes over the Download RPC, on the calling thread (never the agent's
 * thread), into a temporary file beside its destination: every chunk must start where the last
 * ended and the total may not exceed the announced size; at the end size and SHA-256 must match,
 * the data is forced to disk and the temporary file moved over the destination atomically, so the
 * destination is always entirely old or entirely new. The temporary file is deleted on every other
 * way out (a mismatch, a hub error, a cancel, a disk error).
 *
 * <p>The call is a blocking server stream: the iterator asks for the next chunk only once this
 * thread took the last one, so a slow disk slows the hub down instead of filling memory. It runs in
 * its own cancellable context, a child of the caller's: cancelling the caller's context (a task
 * cancel or timeout) ends it, and so does any early exit here.
 */
final class FileDownloader {

    private static final Logger LOG = Logger.getLogger(FileDownloader.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Temporary files are named {@code .meshhub-download-<16 hex digits>.part}. */
    static final String TEMP_PREFIX = ".meshhub-download-";
    static final String TEMP_SUFFIX = ".part";

    /** How a download ended well. */
    record Result(long size, String sha256) {
    }

    /** A download that did not complete; the message is the task's diagnostic. */
    static final class DownloadException extends Exception {
        private static final long serialVersionUID = 1L;

        DownloadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Channel channel;
    private final Path stateDirectory;

    /** @param channel to the hub, with the node's credential header */
    FileDownloader(Channel channel) {
        this(channel, null);
    }

    /**
     * @param channel   to the hub, with the node's credential header
     * @param stateDirectory where to note temporaries (so a killed agent's are swept at its next start); null: not noted
     */
    FileDownloader(Channel channel, Path stateDirectory) {
        this.channel = channel;
        this.stateDirectory = stateDirectory;
    }

    /** What is wrong with an assignment before anything is fetched, if anything. */
    static Optional<String> problem(FileDownload download) {
        if (download.getTransferId().isEmpty()) {
            return Optional.of("the hub sent a download without a transfer id");
        }
        if (download.getPath().isEmpty()) {
            return Optional.of("the hub sent a download without a destination path");
        }
        if (download.getSize() < 0) {
            return Optional.of("the hub sent a download of negative size (" + download.getSize() + ")");
        }
        if (download.getSha256().size() != 32) {
            return Optional.of("the hub sent a download whose SHA-256 has " + download.getSha256().size()
                    + " bytes instead of 32");
        }
        return Optional.empty();
    }

    /**
     * Downloads {@code download} to {@code destination}. Blocks until the file is in place or the
     * download failed.
     *
     * @param destination from {@link WorkingDirectory#resolveDestination}
     * @param shown       the destination as diagnostics name it (the requested path)
     * @param deadlineMs  deadline of the call (a backstop: the caller's own timeout should come first)
     * @param mayCommit   asked once everything is verified, just before the move; false abandons the
     *                    download (the caller was stopped), true means it will be moved into place
     */
    Result download(FileDownload download, Path destination, String shown, long deadlineMs, BooleanSupplier mayCommit)
            throws DownloadException {
        long size = download.getSize();
        String expected = HexFormat.of().formatHex(download.getSha256().toByteArray());
        Path directory = destination.getParent();
        checkSpace(directory, size, shown);
        Path temp = directory.resolve(TEMP_PREFIX + HexFormat.of().toHexDigits(RANDOM.nextLong()) + TEMP_SUFFIX);
        boolean moved = false;
        Path marker = null;
        Context.CancellableContext call = Context.current().withCancellation();
        Context previous = call.attach();
        try {
            if (!directory.toRealPath().equals(directory)) {
                throw new DownloadException("a directory on the way to " + shown + " is a link; left unchanged", null);
            }
            if (stateDirectory != null) {
                marker = DownloadTemps.register(stateDirectory, temp);
            }
            long written = 0;
            String actual;
            // CREATE_NEW never follows a link and never reuses a file; permissions as any new file (umask).
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                MessageDigest digest = sha256();
                Iterator<DownloadChunk> chunks = NodeServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                        .download(DownloadRequest.newBuilder().setTransferId(download.getTransferId()).setOffset(0)
                                .build());
                while (chunks.hasNext()) {
                    DownloadChunk chunk = chunks.next();
                    if (chunk.getOffset() != written) {
                        throw new DownloadException("the hub sent data at offset " + chunk.getOffset() + " where "
                                + written + " was expected; " + shown + " left unchanged", null);
                    }
                    if (written + chunk.getData().size() > size) {
                        throw new DownloadException("size mismatch: the hub sent more than the " + size
                                + " bytes it announced; " + shown + " left unchanged", null);
                    }
                    ByteBuffer data = chunk.getData().asReadOnlyByteBuffer();
                    digest.update(data.duplicate());
                    while (data.hasRemaining()) {
                        out.write(data);
                    }
                    written += chunk.getData().size();
                }
                if (written != size) {
                    throw new DownloadException("size mismatch: expected " + size + " bytes, received " + written
                            + "; " + shown + " left unchanged", null);
                }
                actual = HexFormat.of().formatHex(digest.digest());
                if (!actual.equals(expected)) {
                    throw new DownloadException("checksum mismatch: expected sha256 " + expected
                            + ", received data has sha256 " + actual + "; " + shown + " left unchanged", null);
                }
                out.force(true);
            }
            if (!mayCommit.getAsBoolean()) {
                throw new DownloadException("stopped before " + shown + " was replaced", null);
            }
            if (Files.isSymbolicLink(destination) || Files.isDirectory(destination, LinkOption.NOFOLLOW_LINKS)) {
                // Checked when resolved; checked again since the workspace may have changed meanwhile.
                throw new DownloadException(shown + " became a symbolic link or a directory during the download;"
                        + " left unchanged", null);
            }
            if (!directory.toRealPath().equals(directory)) {
                // A directory on the way was swapped for a link (into the agent's private state, say).
                throw new DownloadException("a directory on the way to " + shown + " was replaced by a link during the"
                        + " download; left unchanged", null);
            }
            Files.move(temp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            forceDirectory(directory);
            return new Result(written, actual);
        } catch (StatusRuntimeException e) {
            throw new DownloadException("the hub ended the download: " + describe(e.getStatus()) + "; " + shown
                    + " left unchanged", e);
        } catch (IOException e) {
            throw new DownloadException("cannot write " + shown + ": " + reason(e), e);
        } finally {
            call.detach(previous);
            // Ends the call if this thread left the stream early (a mismatch, a disk error).
            call.cancel(null);
            if (!moved) {
                deleteTemp(temp);
            }
            if (marker != null) {
                DownloadTemps.done(marker);
            }
        }
    }

    /** Refuses up front what cannot fit: the file plus the old one it replaces must fit until the move. */
    private static void checkSpace(Path directory, long size, String shown) throws DownloadException {
        long usable;
        try {
            usable = Files.getFileStore(directory).getUsableSpace();
        } catch (IOException e) {
            LOG.log(Level.FINE, "cannot tell the free space of " + directory, e);
            return;
        }
        if (size > usable) {
            throw new DownloadException("not enough disk space for " + shown + ": " + size + " bytes needed, "
                    + usable + " available", null);
        }
    }

    /** Makes the rename durable (Linux); where directories cannot be opened this way, the move still stands. */
    private static void forceDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.FINE, "cannot force directory " + directory + " to disk", e);
        }
    }

    private static void deleteTemp(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            LOG.warning("cannot delete the temporary file " + temp + ": " + reason(e));
        }
    }

    /** The system's reason, e.g. "/ws/logs: No space left on device" or "AccessDeniedException (/ws/logs/x)". */
    static String reason(IOException e) {
        if (e instanceof FileSystemException f && f.getReason() == null) {
            return e.getClass().getSimpleName() + " (" + f.getFile() + ")";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static String describe(Status status) {
        String d = status.getDescription();
        return status.getCode() + (d == null || d.isBlank() ? "" : ": " + d);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
