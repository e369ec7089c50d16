package dev.meshhub.cli;

import java.util.Locale;

/**
 * Short spans and times relative to now, for tables a person scans: {@code 250ms}, {@code 1.5s},
 * {@code 30s}, {@code 2m5s}, {@code 1h30m}; {@code 4s ago}, {@code in 3s}. At most two units: the
 * exact values are in {@code --json}.
 */
final class RelativeTime {

    private RelativeTime() {
    }

    /** A period or a run's duration; "-" when negative (not known). */
    static String span(long millis) {
        if (millis < 0) {
            return "-";
        }
        if (millis < 1_000) {
            return millis + "ms";
        }
        if (millis < 10_000 && millis % 1_000 != 0) {
            // Tenths matter for short runs and periods; truncated, so 1999 ms is "1.9s", never "2.0s".
            return String.format(Locale.ROOT, "%d.%ds", millis / 1_000, millis % 1_000 / 100);
        }
        return seconds(millis / 1_000);
    }

    /** "4s ago", "in 3s", or "now" within a second; "-" for 0 (never happened / not scheduled). */
    static String relative(long epochMillis, long nowMillis) {
        if (epochMillis <= 0) {
            return "-";
        }
        long delta = nowMillis - epochMillis;
        if (Math.abs(delta) < 1_000) {
            return "now";
        }
        return delta > 0 ? seconds(delta / 1_000) + " ago" : "in " + seconds(-delta / 1_000);
    }

    private static String seconds(long s) {
        if (s < 60) {
            return s + "s";
        }
        if (s < 3_600) {
            return s / 60 + "m" + (s % 60 == 0 ? "" : s % 60 + "s");
        }
        if (s < 86_400) {
            return s / 3_600 + "h" + (s % 3_600 / 60 == 0 ? "" : s % 3_600 / 60 + "m");
        }
        return s / 86_400 + "d" + (s % 86_400 / 3_600 == 0 ? "" : s % 86_400 / 3_600 + "h");
    }
}
