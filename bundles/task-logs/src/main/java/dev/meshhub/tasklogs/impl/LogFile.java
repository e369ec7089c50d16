package dev.meshhub.tasklogs.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;

/**
 * The file of one log being written: made (replacing an old log of the same task), appended to one
 * whole record at a time with a gathering write, forced, closed. Used by one thread at a time.
 */
final class LogFile {

    private final Path path;
    private FileChannel channel;
    /** Bytes of whole records (and the magic) written. */
    private long length;
    /** Whether the file holds whole records only (false if a failed write left bytes that could not be cut off). */
    private boolean whole = true;

    LogFile(Path path) {
        this.path = path;
    }

    Path path() {
        return path;
    }

    long length() {
        return length;
    }

    boolean isOpen() {
        return channel != null;
    }

    /** Whether the file ends with a whole record, so that another may follow (false after an uncut failed write). */
    boolean whole() {
        return whole;
    }

    /**
     * Makes the file and writes the magic.
     *
     * @return the size of the old log it replaced (a task run again, say after a hub restart), 0 if none
     */
    long create() throws IOException {
        for (int attempt = 1;; attempt++) {
            try {
                OwnerOnly.createDirectories(path.getParent());
                long replaced = removeOld();
                channel = OwnerOnly.createFile(path);
                write(ByteBuffer.wrap(TaskLogFormat.MAGIC));
                length = TaskLogFormat.MAGIC.length;
                return replaced;
            } catch (NoSuchFileException e) {
                if (attempt == 3 || channel != null) {
                    throw e;
                }
                // Retention removed the shard directory, empty, in between: make it again.
            }
        }
    }

    private long removeOld() throws IOException {
        BasicFileAttributes old;
        try {
            old = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException none) {
            return 0;
        }
        Files.deleteIfExists(path);
        return old.isRegularFile() ? old.size() : 0;
    }

    /**
     * Appends one whole record. On failure the file is cut back to its last whole record where the
     * disk allows (see {@link #whole}), and the exception thrown.
     */
    void append(byte type, byte[] data, int offset, int count) throws IOException {
        if (!whole) {
            throw new IOException("the log ends with a record cut short that could not be removed");
        }
        try {
            write(TaskLogFormat.header(type, count), ByteBuffer.wrap(data, offset, count));
            length += TaskLogFormat.HEADER_BYTES + count;
        } catch (IOException e) {
            whole = cutBack();
            throw e;
        }
    }

    private boolean cutBack() {
        try {
            if (channel.size() > length) {
                channel.truncate(length);
            }
            channel.position(length);
            return channel.size() == length;
        } catch (IOException e) {
            return false; // readers stop at the last whole record anyway
        }
    }

    private void write(ByteBuffer... buffers) throws IOException {
        while (buffers[buffers.length - 1].hasRemaining()) {
            channel.write(buffers);
        }
    }

    void force() throws IOException {
        channel.force(true);
    }

    /** Closes the file (quietly: everything it holds was written, and forced if it mattered). */
    void close() {
        FileChannel open = channel;
        channel = null;
        if (open != null) {
            try {
                open.close();
            } catch (IOException ignored) {
                // nothing left to lose
            }
        }
    }

    Instant modified() throws IOException {
        return Files.getLastModifiedTime(path).toInstant();
    }

    /** What went wrong, for an admin: "permission denied", "No space left on device". */
    static String describe(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
