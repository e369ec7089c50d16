package dev.meshhub.node;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * java.util.logging set up programmatically: one line per record on stderr,
 * {@code 2025-01-31T12:00:00.123Z INFO    connected to hub:7700 as n-... (name)}.
 *
 * <p>Libraries (gRPC, Netty) stay at INFO; {@code dev.meshhub} gets the requested level. Stack
 * traces only when verbose.
 */
public final class OneLineLogging {

    // Held strongly: LogManager keeps loggers weakly, and a collected logger loses its level.
    private static Logger meshhubLogger;

    private OneLineLogging() {
    }

    /** Replaces any JUL configuration of this JVM. */
    public static synchronized void configure(boolean verbose) {
        LogManager.getLogManager().reset();
        Handler handler = new ConsoleHandler(); // writes to System.err; close() only flushes
        handler.setLevel(Level.ALL);
        handler.setFormatter(new OneLineFormatter(verbose));
        Logger root = Logger.getLogger("");
        root.addHandler(handler);
        root.setLevel(Level.INFO);
        meshhubLogger = Logger.getLogger("dev.meshhub");
        meshhubLogger.setLevel(verbose ? Level.FINE : Level.INFO);
    }

    /**
     * Writes one line in the same format straight to stderr, bypassing java.util.logging: during
     * JVM shutdown the LogManager resets its handlers concurrently with our shutdown hook.
     */
    public static void direct(Level level, String message) {
        LogRecord record = new LogRecord(level, message);
        System.err.print(new OneLineFormatter(false).format(record));
        System.err.flush();
    }

    /** The one-line format. */
    static final class OneLineFormatter extends Formatter {
        private static final DateTimeFormatter TIME =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        private final boolean stackTraces;

        OneLineFormatter(boolean stackTraces) {
            this.stackTraces = stackTraces;
        }

        @Override
        public String format(LogRecord record) {
            StringBuilder b = new StringBuilder(128);
            b.append(TIME.format(Instant.ofEpochMilli(record.getMillis()))).append(' ');
            String level = record.getLevel().getName();
            b.append(level);
            for (int i = level.length(); i < 7; i++) {
                b.append(' ');
            }
            b.append(' ');
            String message = formatMessage(record);
            b.append(message == null ? "" : message.replace('\n', ' ').replace('\r', ' '));
            Throwable thrown = record.getThrown();
            if (thrown != null) {
                if (stackTraces) {
                    StringWriter trace = new StringWriter();
                    thrown.printStackTrace(new PrintWriter(trace));
                    b.append(System.lineSeparator()).append(trace.toString().stripTrailing());
                } else {
                    b.append(" (").append(thrown).append(')');
                }
            }
            return b.append(System.lineSeparator()).toString();
        }
    }
}
