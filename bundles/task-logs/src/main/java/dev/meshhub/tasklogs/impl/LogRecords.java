package dev.meshhub.tasklogs.impl;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Positional reads of a log file's records (see {@link TaskLogFormat}): a header at a time, a payload
 * only when asked for, never more than one record in memory, never past a limit the caller sets (the
 * length a live writer has committed, or the file's size).
 */
final class LogRecords {

    /** A record's header at a file position. */
    record Header(long position, byte type, int length) {

        /** Whether this is a record of the format at all (else the log is damaged here). */
        boolean valid() {
            return TaskLogFormat.isValid(type, length);
        }

        long payloadPosition() {
            return position + TaskLogFormat.HEADER_BYTES;
        }

        long end() {
            return payloadPosition() + length;
        }
    }

    private LogRecords() {
    }

    /**
     * Checks the magic at the start of the file.
     *
     * @return false if the file does not hold the whole magic before {@code limit} yet
     * @throws IOException if the file starts with anything else
     */
    static boolean checkMagic(FileChannel channel, long limit, Path path) throws IOException {
        if (limit < TaskLogFormat.MAGIC.length) {
            return false;
        }
        ByteBuffer start = ByteBuffer.allocate(TaskLogFormat.MAGIC.length);
        if (!readFully(channel, start, 0)) {
            return false;
        }
        if (!TaskLogFormat.hasMagic(start.array())) {
            throw new IOException(path + " is not a task log: it does not start with MHLOG1");
        }
        return true;
    }

    /**
     * The header at {@code position}: null when the record does not lie wholly before {@code limit}
     * (not written yet, or cut short by a crash); an invalid header (see {@link Header#valid}) as soon
     * as its five bytes are there.
     */
    static Header header(FileChannel channel, long position, long limit) throws IOException {
        if (position + TaskLogFormat.HEADER_BYTES > limit) {
            return null;
        }
        ByteBuffer bytes = ByteBuffer.allocate(TaskLogFormat.HEADER_BYTES);
        if (!readFully(channel, bytes, position)) {
            return null;
        }
        bytes.flip();
        Header header = new Header(position, bytes.get(), bytes.getInt());
        if (header.valid() && header.end() > limit) {
            return null;
        }
        return header;
    }

    /** A whole record's payload, from its byte {@code skip} on. */
    static byte[] payload(FileChannel channel, Header header, int skip) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(header.length() - skip);
        if (!readFully(channel, bytes, header.payloadPosition() + skip)) {
            throw new EOFException("the task log became shorter while it was read (at file byte " + header.position()
                    + "); was it replaced?");
        }
        return bytes.array();
    }

    /** A description of a damaged header, for the log's info. */
    static String damage(Header header, long loggedBytes) {
        return "log unreadable after output byte " + loggedBytes + ": file byte " + header.position()
                + " holds no valid record (type " + header.type() + ", length " + header.length() + ")";
    }

    private static boolean readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                return false;
            }
        }
        return true;
    }
}
