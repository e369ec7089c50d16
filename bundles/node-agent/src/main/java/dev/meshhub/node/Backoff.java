package dev.meshhub.node;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with full jitter: the n-th delay (n from 0) is drawn uniformly from
 * {@code [0, min(cap, base * 2^n)]}.
 *
 * <p>Full jitter spreads the reconnects of many nodes after a hub restart over the whole window
 * instead of letting them arrive in waves (no thundering herd). {@link #reset()} starts over
 * after a session proved healthy.
 *
 * <p>Not thread-safe: the node agent uses it from its one executor thread only.
 */
public class Backoff {

    /** First window: the first retry waits up to this long. */
    public static final Duration DEFAULT_BASE = Duration.ofMillis(500);
    /** Largest window. */
    public static final Duration DEFAULT_CAP = Duration.ofSeconds(30);

    private final long baseMillis;
    private final long capMillis;
    private final DoubleSupplier random;
    private int attempt;

    /**
     * @param base   the first window, positive
     * @param cap    the largest window, at least {@code base}
     * @param random source of uniformly distributed values in {@code [0, 1)}
     */
    public Backoff(Duration base, Duration cap, DoubleSupplier random) {
        this.baseMillis = base.toMillis();
        this.capMillis = cap.toMillis();
        if (baseMillis <= 0) {
            throw new IllegalArgumentException("base must be positive, got " + base);
        }
        if (capMillis < baseMillis) {
            throw new IllegalArgumentException("cap " + cap + " is smaller than base " + base);
        }
        this.random = random;
    }

    /** Base 500 ms, cap 30 s, {@link ThreadLocalRandom}. */
    public static Backoff withDefaults() {
        return new Backoff(DEFAULT_BASE, DEFAULT_CAP, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** The delay before the next attempt; each call widens the window until the cap. */
    public Duration nextDelay() {
        long ceiling = ceilingMillis(attempt);
        if (attempt < Integer.MAX_VALUE) {
            attempt++;
        }
        double r = random.getAsDouble();
        if (!(r >= 0.0) || r >= 1.0) {
            r = 0.0; // a broken random source must not produce negative or huge delays
        }
        return Duration.ofMillis(Math.min(ceiling, (long) Math.floor(r * (ceiling + 1))));
    }

    /** The upper bound of the window for the given attempt (0-based). */
    public long ceilingMillis(int attemptIndex) {
        if (attemptIndex >= 62 || baseMillis > (capMillis >> attemptIndex)) {
            return capMillis;
        }
        return Math.min(capMillis, baseMillis << attemptIndex);
    }

    /** Starts over at the base window (after a healthy session). */
    public void reset() {
        attempt = 0;
    }

    /** How many delays were handed out since the last reset. */
    public int attempts() {
        return attempt;
    }
}
