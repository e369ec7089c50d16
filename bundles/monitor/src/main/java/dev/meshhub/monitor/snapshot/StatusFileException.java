package dev.meshhub.monitor.snapshot;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A status file could not be written. The message names the file, what failed and what to do, for
 * the scheduler's log; the cause is the original exception.
 */
public final class StatusFileException extends IOException {

    private static final long serialVersionUID = 1L;

    private StatusFileException(String message, IOException cause) {
        super(message, cause);
    }

    /**
     * Explains a failure to write {@code file}.
     *
     * @param file  the status file
     * @param pid   the monitor's configuration PID, named in the advice
     * @param cause what the file system said
     * @return an {@link InterruptedIOException} if the write was interrupted, else a
     *         {@code StatusFileException}
     */
    public static IOException writing(Path file, String pid, IOException cause) {
        if (cause instanceof ClosedByInterruptException || cause instanceof InterruptedIOException) {
            InterruptedIOException interrupted = new InterruptedIOException(
                    "interrupted while writing mesh status to " + file);
            interrupted.initCause(cause);
            return interrupted;
        }
        String what;
        String todo;
        String reason = cause instanceof FileSystemException fs && fs.getReason() != null
                ? fs.getReason() : String.valueOf(cause.getMessage());
        String lower = reason.toLowerCase(Locale.ROOT);
        if (cause instanceof AccessDeniedException denied) {
            // Denied on the file itself (appending to a read-only file), else on creating one in the directory.
            what = file.toString().equals(denied.getFile()) ? "file not writable" : "directory not writable";
            todo = "fix its permissions";
        } else if (lower.contains("operation not permitted")) {
            // EPERM: an immutable file or directory (chattr +i), or a mandatory access policy.
            what = file.toString().equals(cause instanceof FileSystemException fs ? fs.getFile() : null)
                    ? "file not writable (operation not permitted)" : "directory not writable (operation not permitted)";
            todo = "fix its permissions or attributes (lsattr, chattr -i)";
        } else if (lower.contains("read-only")) {
            what = "read-only file system";
            todo = "mount it writable";
        } else if (lower.contains("no space") || lower.contains("quota")) {
            what = "disk full";
            todo = "free disk space";
        } else if (cause instanceof FileAlreadyExistsException || cause instanceof NotDirectoryException) {
            FileSystemException fs = (FileSystemException) cause;
            what = fs.getFile() + " is not a directory";
            todo = "remove or rename it";
        } else {
            what = reason;
            todo = "check the directory";
        }
        return new StatusFileException("cannot write mesh status to " + file + ": " + what + " ("
                + cause.getClass().getSimpleName() + "); " + todo + " or set statusDirectory in etc/" + pid
                + ".cfg; the snapshot is still served by meshctl status", cause);
    }
}
