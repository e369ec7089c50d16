package dev.meshhub.api.stats;

import java.util.List;

/**
 * Values counted in fixed buckets, as a Prometheus classic histogram holds them.
 *
 * @param upperBounds each bucket's inclusive upper bound, ascending (the last bucket, above every bound, has none)
 * @param counts      values per bucket (not cumulative): {@code upperBounds.size() + 1} of them
 * @param sum         the sum of every value counted
 */
public record Distribution(List<Double> upperBounds, List<Long> counts, double sum) {

    public Distribution {
        upperBounds = List.copyOf(upperBounds);
        counts = List.copyOf(counts);
        if (counts.size() != upperBounds.size() + 1) {
            throw new IllegalArgumentException(counts.size() + " counts for " + upperBounds.size() + " bounds; expected one more");
        }
    }

    /** How many values were counted. */
    public long count() {
        long total = 0;
        for (long each : counts) {
            total += each;
        }
        return total;
    }
}
