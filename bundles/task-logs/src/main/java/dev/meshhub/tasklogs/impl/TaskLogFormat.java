package dev.meshhub.tasklogs.impl;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import dev.meshhub.api.task.TaskOutput;

/**
 * The log file format, version 1 (also described for admins in {@code docs/task-logs.md}).
 *
 * <pre>
 * file    = magic record*
 * magic   = "MHLOG1\n"                              (7 bytes, ASCII)
 * record  = type:u8 length:u32 payload[length]      (length big-endian, 0 to 1048576)
 * type    = 1 stdout chunk | 2 stderr chunk | 3 note | 4 end
 * </pre>
 *
 * <ul>
 * <li>Chunks hold output bytes as received, in arrival order across both streams; the output offset of
 * a chunk's first byte is the sum of the lengths of the chunks before it. A chunk the hub received
 * larger than 1 MiB is written as several records.
 * <li>A note (UTF-8 text) says something about the log; today only where and why it was truncated,
 * written once, when truncation starts (e.g. {@code log truncated: the per-task cap of 1073741824 bytes
 * (maxTaskLogBytes) was reached at output byte 1073741824}).
 * <li>The end record (UTF-8, {@code key=value} lines, unknown keys ignored) is the last record:
 * {@code ending=} how the task ended (one line), {@code outputBytes=} bytes the hub received,
 * {@code loggedBytes=} bytes the chunks hold, {@code truncated=true|false}, {@code truncation=} the
 * reason ("" when not truncated).
 * </ul>
 *
 * <p>A log without an end record was not finished by its writer (the hub stopped or crashed, or the
 * disk failed). A record cut short at the end of the file (a crash in mid-write) is ignored: readers
 * stop at the last whole record. A record with an unknown type or a length over 1 MiB is damage:
 * readers stop there and report the log truncated.
 */
final class TaskLogFormat {

    static final byte[] MAGIC = "MHLOG1\n".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 5;
    static final int MAX_PAYLOAD = 1 << 20;
    static final byte STDOUT = 1;
    static final byte STDERR = 2;
    static final byte NOTE = 3;
    static final byte END = 4;
    /** How much of an ending or a reason is kept: one readable line, never a big record. */
    private static final int MAX_LINE = 8192;

    /**
     * What an end record says.
     *
     * @param ending      how the task ended, one line
     * @param outputBytes output bytes the hub received
     * @param loggedBytes output bytes the log's chunks hold
     * @param truncated   whether output was left out
     * @param truncation  why ("" when not truncated)
     */
    record End(String ending, long outputBytes, long loggedBytes, boolean truncated, String truncation) {
    }

    private TaskLogFormat() {
    }

    static ByteBuffer header(byte type, int length) {
        return ByteBuffer.allocate(HEADER_BYTES).put(type).putInt(length).flip();
    }

    static byte typeOf(TaskOutput.Stream stream) {
        return stream == TaskOutput.Stream.STDERR ? STDERR : STDOUT;
    }

    static TaskOutput.Stream streamOf(byte type) {
        return type == STDERR ? TaskOutput.Stream.STDERR : TaskOutput.Stream.STDOUT;
    }

    static boolean isChunk(byte type) {
        return type == STDOUT || type == STDERR;
    }

    static boolean isValid(byte type, int length) {
        return type >= STDOUT && type <= END && length >= 0 && length <= MAX_PAYLOAD;
    }

    static boolean hasMagic(byte[] start) {
        return Arrays.equals(start, MAGIC);
    }

    /** Text as one line of bounded length: line breaks become spaces. */
    static String oneLine(String text) {
        if (text == null) {
            return "";
        }
        String line = text.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
        return line.length() > MAX_LINE ? line.substring(0, MAX_LINE) + "..." : line;
    }

    static byte[] note(String text) {
        return oneLine(text).getBytes(StandardCharsets.UTF_8);
    }

    static String text(byte[] payload) {
        return new String(payload, StandardCharsets.UTF_8);
    }

    static byte[] end(End end) {
        String text = "ending=" + oneLine(end.ending()) + "\noutputBytes=" + end.outputBytes() + "\nloggedBytes="
                + end.loggedBytes() + "\ntruncated=" + end.truncated() + "\ntruncation=" + oneLine(end.truncation()) + "\n";
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Reads an end record; missing or unreadable numbers count as -1, missing text as "". */
    static End parseEnd(byte[] payload) {
        String ending = "";
        String truncation = "";
        long output = -1;
        long logged = -1;
        boolean truncated = false;
        for (String line : text(payload).split("\n")) {
            int equals = line.indexOf('=');
            if (equals < 0) {
                continue;
            }
            String value = line.substring(equals + 1);
            switch (line.substring(0, equals)) {
                case "ending" -> ending = value;
                case "outputBytes" -> output = number(value);
                case "loggedBytes" -> logged = number(value);
                case "truncated" -> truncated = Boolean.parseBoolean(value.strip());
                case "truncation" -> truncation = value;
                default -> {
                    // a later version's key
                }
            }
        }
        return new End(ending, output, logged, truncated, truncation);
    }

    private static long number(String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
