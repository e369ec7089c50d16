package dev.meshhub.bench;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/** How the figures are written: one line per benchmark (BENCHMARKS.md), then detail lines. */
final class Report {

    static final String PASS = "PASS";
    static final String MISS = "MISS";

    private Report() {
    }

    /**
     * One benchmark's outcome.
     *
     * @param verdict {@link #PASS}, {@link #MISS}, or "MISS (not measurable: why)"
     */
    record Row(int number, String name, String measured, String baseline, String ratio, String goal, String verdict,
            List<String> details) {

        static Row notMeasurable(int number, String name, String goal, String why, List<String> details) {
            return new Row(number, name, "-", "-", "-", goal, MISS + " (not measurable: " + why + ")", details);
        }

        /** The one line of BENCHMARKS.md: name, measured, baseline, ratio, goal, PASS/MISS. */
        String line() {
            return String.format(Locale.ROOT, "%d %s | %s | baseline %s | ratio %s | goal %s | %s", number, name, measured,
                    baseline, ratio, goal, verdict);
        }
    }

    /** {@link #PASS} when nothing missed, else "MISS (what missed; ...)". */
    static String verdict(List<String> missed) {
        return missed.isEmpty() ? PASS : MISS + " (" + String.join("; ", missed) + ")";
    }

    /** Nanoseconds as milliseconds, with as many decimals as a latency of that size deserves. */
    static String millis(double nanos) {
        double ms = nanos / 1e6;
        if (ms < 10) {
            return String.format(Locale.ROOT, "%.3f ms", ms);
        }
        if (ms < 100) {
            return String.format(Locale.ROOT, "%.2f ms", ms);
        }
        return String.format(Locale.ROOT, "%.1f ms", ms);
    }

    static String ratio(double ratio) {
        return String.format(Locale.ROOT, ratio < 10 ? "%.2fx" : "%.1fx", ratio);
    }

    static String rate(double tasksPerSecond) {
        return String.format(Locale.ROOT, "%,.0f tasks/s", tasksPerSecond);
    }

    static String percent(double value) {
        return String.format(Locale.ROOT, "%.0f%%", value);
    }

    /** "median M (N rounds, spread MIN to MAX, +-P%)". */
    static String spread(Spread spread, DoubleFunction<String> format) {
        return "median " + format.apply(spread.median()) + " (" + spread.rounds() + " rounds, spread "
                + format.apply(spread.min()) + " to " + format.apply(spread.max()) + ", +-" + percent(spread.halfRangePercent()) + ")";
    }
}
