package dev.meshhub.monitor.snapshot;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

import org.junit.Test;

/** The failures a live test cannot provoke (a full disk, a read-only mount) get the right advice too. */
public class StatusFileExceptionTest {

    private static final Path FILE = Path.of("/srv/meshhub/data/status/mesh.json");
    private static final String ADVICE_TAIL = " or set statusDirectory in etc/dev.meshhub.monitor.cfg;"
            + " the snapshot is still served by meshctl status";

    private static String message(IOException cause) {
        IOException failure = StatusFileException.writing(FILE, "dev.meshhub.monitor", cause);
        assertSame(cause, failure.getCause());
        return failure.getMessage();
    }

    @Test
    public void deniedInTheDirectory() {
        assertEquals("cannot write mesh status to " + FILE + ": directory not writable (AccessDeniedException);"
                + " fix its permissions" + ADVICE_TAIL,
                message(new AccessDeniedException("/srv/meshhub/data/status/.mesh.json.1f.tmp")));
    }

    @Test
    public void deniedOnTheFile() {
        assertTrue(message(new AccessDeniedException(FILE.toString())).contains(": file not writable ("));
    }

    @Test
    public void diskFull() {
        assertEquals("cannot write mesh status to " + FILE + ": disk full (FileSystemException); free disk space"
                + ADVICE_TAIL, message(new FileSystemException(FILE.toString(), null, "No space left on device")));
    }

    @Test
    public void readOnlyFileSystem() {
        assertTrue(message(new FileSystemException(FILE.toString(), null, "Read-only file system"))
                .contains(": read-only file system (FileSystemException); mount it writable or set statusDirectory"));
    }

    @Test
    public void anythingElseKeepsTheSystemsReason() {
        assertTrue(message(new IOException("Input/output error"))
                .contains(": Input/output error (IOException); check the directory or set statusDirectory"));
    }

    @Test
    public void interruptedWriteIsAnInterruptedIOException() {
        IOException failure = StatusFileException.writing(FILE, "dev.meshhub.monitor", new ClosedByInterruptException());
        assertTrue(failure instanceof InterruptedIOException);
        assertEquals("interrupted while writing mesh status to " + FILE, failure.getMessage());
    }
}
