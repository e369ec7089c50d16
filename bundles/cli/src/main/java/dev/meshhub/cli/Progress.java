package dev.meshhub.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows a transfer's progress: on a terminal, one bar redrawn in place ({@code \r}) with bytes, rate
 * and ETA; otherwise (a pipe, a log) a plain line at most every few seconds, so logs stay readable.
 */
final class Progress {

    static final long PLAIN_EVERY_NANOS = 5_000_000_000L;
    private static final int BAR = 24;

    private final PrintStream err;
    private final boolean terminal;
    private final String what;
    private long startNanos = -1;
    private long startBytes;
    private long lastPlain;
    private boolean drawn;

    Progress(PrintStream err, boolean terminal, String what) {
        this.err = err;
        this.terminal = terminal;
        this.what = what;
    }

    /** The transfer starts with {@code bytes} already held (a resume). */
    void start(long bytes, long total, long nowNanos) {
        startNanos = nowNanos;
        startBytes = bytes;
        lastPlain = nowNanos;
        if (!terminal) {
            err.println(what + ": " + (bytes > 0 ? "resuming at " + size(bytes) + " of " : "starting, ") + size(total));
        }
    }

    void update(long bytes, long total, long nowNanos) {
        if (startNanos < 0) {
            start(0, total, nowNanos);
        }
        if (terminal) {
            err.print("\r" + line(bytes, total, nowNanos));
            err.flush();
            drawn = true;
        } else if (nowNanos - lastPlain >= PLAIN_EVERY_NANOS) {
            lastPlain = nowNanos;
            err.println(what + ": " + line(bytes, total, nowNanos).strip());
        }
    }

    /** Ends the bar's line (a terminal) before the final message. */
    void end() {
        if (terminal && drawn) {
            err.println();
        }
    }

    String line(long bytes, long total, long nowNanos) {
        double seconds = Math.max(1e-9, (nowNanos - startNanos) / 1e9);
        double rate = (bytes - startBytes) / seconds;
        StringBuilder text = new StringBuilder();
        if (total > 0) {
            int filled = (int) Math.min(BAR, BAR * bytes / total);
            text.append('[').append("#".repeat(filled)).append(".".repeat(BAR - filled)).append("] ")
                    .append(String.format(Locale.ROOT, "%3d%% ", 100 * bytes / total));
        }
        text.append(size(bytes));
        if (total > 0) {
            text.append(" / ").append(size(total));
        }
        text.append("  ").append(size((long) rate)).append("/s");
        if (total > 0 && rate > 0 && bytes < total) {
            text.append("  ETA ").append(duration((long) ((total - bytes) / rate)));
        }
        return text.append("   ").toString();
    }

    static String size(long bytes) {
        if (bytes < 0) {
            return "?";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + String.format(Locale.ROOT, "%02ds", seconds % 60);
        }
        return seconds / 3600 + "h" + String.format(Locale.ROOT, "%02dm", seconds / 60 % 60);
    }
}
