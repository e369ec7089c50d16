package dev.meshhub.runtime;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive lock on {@code data/hub.lock} that keeps a second hub from starting on the same home
 * (it would wipe the first one's framework cache and share its database). The operating system
 * releases the lock when the process ends, however it ends.
 */
final class HubLock implements AutoCloseable {

    static final String FILE = "data/hub.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private HubLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code home}.
     *
     * @throws LaunchException if another process (or this one) holds it
     */
    static HubLock acquire(Path home) throws IOException, LaunchException {
        Path file = home.resolve(FILE);
        Files.createDirectories(file.getParent());
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new LaunchException("another hub is already running from " + home + " (" + FILE
                    + " is held); stop it first");
        }
        // For whoever looks at the file: which process holds it.
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(("pid=" + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
        return new HubLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
