package dev.meshhub.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The median of one figure over repeated rounds, and how far the rounds spread around it.
 *
 * @param median the median (mean of the middle two for an even count)
 * @param min    the lowest round
 * @param max    the highest round
 * @param rounds how many rounds
 */
record Spread(double median, double min, double max, int rounds) {

    static Spread of(List<? extends Number> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no rounds");
        }
        List<Double> sorted = new ArrayList<>();
        for (Number value : values) {
            sorted.add(value.doubleValue());
        }
        Collections.sort(sorted);
        int n = sorted.size();
        double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        return new Spread(median, sorted.get(0), sorted.get(n - 1), n);
    }

    /** Half the range as a share of the median, in percent (0 for a single round or a zero median). */
    double halfRangePercent() {
        return median == 0 ? 0 : (max - min) / 2 / median * 100;
    }
}
