package dev.meshhub.monitor.jsonl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import dev.meshhub.api.monitor.MeshSnapshot;
import dev.meshhub.monitor.snapshot.SnapshotJson;
import dev.meshhub.monitor.snapshot.StatusDirectory;
import dev.meshhub.monitor.snapshot.StatusFileException;

/**
 * Appends snapshots to {@code mesh.jsonl}, one compact JSON document per line, and rotates the file
 * to {@code mesh.jsonl.1} by size.
 *
 * <p>Every line but the last is always whole. The last one can be cut short by a crash or an
 * interrupted run; the next append cuts such a fragment off before writing, so it never ends up in
 * the middle of the file.
 */
final class MeshJsonlFile {

    /** The file's name inside the status directory. */
    static final String NAME = "mesh.jsonl";
    /** The rotated file's name. */
    static final String ROTATED_NAME = NAME + ".1";

    private static final int SCAN_CHUNK = 8192;

    private MeshJsonlFile() {
    }

    /**
     * Appends one line holding the snapshot and forces it to disk. If the file is not empty and the
     * line would take it past {@code maxBytes}, it is first renamed to {@value #ROTATED_NAME}
     * (replacing an older one). Creates the directory if missing.
     *
     * @throws IOException explaining what failed and what to do; an {@link java.io.InterruptedIOException}
     *                     if interrupted
     */
    static void append(Path file, MeshSnapshot snapshot, long maxBytes) throws IOException {
        byte[] line = (SnapshotJson.toJson(snapshot, false) + "\n").getBytes(StandardCharsets.UTF_8);
        Path directory = file.getParent();
        try {
            Files.createDirectories(directory);
            long size = dropPartialLastLine(file);
            boolean newFile = size == 0;
            if (size > 0 && size + line.length > maxBytes) {
                Files.move(file, file.resolveSibling(ROTATED_NAME), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                newFile = true;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                // One write of the whole line, at the end (O_APPEND): a reader never sees half a line
                // followed by another. The loop only matters for the rare short write.
                ByteBuffer buffer = ByteBuffer.wrap(line);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            if (newFile) {
                StatusDirectory.sync(directory);
            }
        } catch (IOException e) {
            throw StatusFileException.writing(file, JsonlMonitorConfiguration.PID, e);
        }
    }

    /**
     * Cuts off a last line without its newline (left by a crash or an interrupted write).
     *
     * @return the file's size afterwards; 0 if it does not exist
     */
    private static long dropPartialLastLine(Path file) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return 0;
        }
        try (channel) {
            long size = channel.size();
            if (size == 0 || lastByte(channel, size) == '\n') {
                return size;
            }
            long keep = afterLastNewline(channel, size);
            channel.truncate(keep);
            channel.force(true);
            return keep;
        }
    }

    private static byte lastByte(FileChannel channel, long size) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        channel.read(one, size - 1);
        return one.get(0);
    }

    /** The position just after the last newline before {@code size}, or 0 if there is none. */
    private static long afterLastNewline(FileChannel channel, long size) throws IOException {
        ByteBuffer chunk = ByteBuffer.allocate(SCAN_CHUNK);
        long end = size;
        while (end > 0) {
            long start = Math.max(0, end - SCAN_CHUNK);
            chunk.clear().limit((int) (end - start));
            while (chunk.hasRemaining() && channel.read(chunk, start + chunk.position()) >= 0) {
                // read the whole chunk
            }
            for (int i = chunk.position() - 1; i >= 0; i--) {
                if (chunk.get(i) == '\n') {
                    return start + i + 1;
                }
            }
            end = start;
        }
        return 0;
    }
}
