package dev.meshhub.api.stats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts values into fixed buckets, from any thread, without locks (one {@link LongAdder} per bucket):
 * cheap enough for a hot path such as every journal commit. {@link #snapshot()} reads it at any time.
 */
public final class DistributionRecorder {

    /** Bounds for durations in seconds: 100 us to 10 s. */
    public static final double[] SECONDS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
        2.5, 5, 10};

    private final double[] bounds;
    private final LongAdder[] counts;
    private final DoubleAdder sum = new DoubleAdder();

    /** @param upperBounds inclusive upper bounds, strictly ascending */
    public DistributionRecorder(double... upperBounds) {
        bounds = upperBounds.clone();
        for (int i = 1; i < bounds.length; i++) {
            if (!(bounds[i] > bounds[i - 1])) {
                throw new IllegalArgumentException("bounds must be strictly ascending: " + Arrays.toString(upperBounds));
            }
        }
        counts = new LongAdder[bounds.length + 1];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /** Counts one value. */
    public void record(double value) {
        int at = Arrays.binarySearch(bounds, value);
        counts[at >= 0 ? at : -at - 1].increment();
        sum.add(value);
    }

    /** What was counted so far. */
    public Distribution snapshot() {
        List<Double> upper = new ArrayList<>(bounds.length);
        for (double bound : bounds) {
            upper.add(bound);
        }
        List<Long> each = new ArrayList<>(counts.length);
        for (LongAdder count : counts) {
            each.add(count.sum());
        }
        return new Distribution(upper, each, sum.sum());
    }
}
