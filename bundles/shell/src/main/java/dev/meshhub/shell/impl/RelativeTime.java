package dev.meshhub.shell.impl;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Short spans and times relative to now: {@code 250ms}, {@code 1.5s}, {@code 2m5s}; {@code 4s ago},
 * {@code in 3s}. The same words as meshctl's (which cannot share this code: it runs on a plain class
 * path without the api bundle), so the shell and the CLI read alike.
 */
final class RelativeTime {

    private RelativeTime() {
    }

    /** A period or a run's duration; "-" when absent. */
    static String span(Duration duration) {
        if (duration == null || duration.isNegative()) {
            return "-";
        }
        long millis = duration.toMillis();
        if (millis < 1_000) {
            return millis + "ms";
        }
        if (millis < 10_000 && millis % 1_000 != 0) {
            // Tenths matter for short runs and periods; truncated, so 1999 ms is "1.9s", never "2.0s".
            return String.format(Locale.ROOT, "%d.%ds", millis / 1_000, millis % 1_000 / 100);
        }
        return seconds(millis / 1_000);
    }

    /** "4s ago", "in 3s", or "now" within a second; "-" when absent. */
    static String relative(Instant instant, Instant now) {
        if (instant == null) {
            return "-";
        }
        long delta = Duration.between(instant, now).toMillis();
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
