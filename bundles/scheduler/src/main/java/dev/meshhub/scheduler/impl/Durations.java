package dev.meshhub.scheduler.impl;

import java.time.Duration;

/** Short human forms of durations for log lines: {@code 250 ms}, {@code 30 s}, {@code 5 min}, {@code 2 h}. */
final class Durations {

    private Durations() {
    }

    static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis < 1000 || (millis < 10_000 && millis % 1000 != 0)) {
            return millis + " ms";
        }
        long seconds = duration.toSeconds();
        if (seconds < 120 || seconds % 60 != 0) {
            return seconds + " s";
        }
        long minutes = duration.toMinutes();
        if (minutes < 120 || minutes % 60 != 0) {
            return minutes + " min";
        }
        return duration.toHours() + " h";
    }
}
