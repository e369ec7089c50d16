package dev.meshhub.transport.impl.rpc;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failed enrollments per peer host in fixed one-minute windows and refuses a host that went
 * over its limit until its window ends. Memory-bounded: at most {@link #MAX_TRACKED_HOSTS} hosts are
 * tracked; past that, expired windows are dropped first, then hosts that are not refused yet (fewest
 * failures first), and only then the oldest refused ones, down to nine tenths of the bound: a flood
 * of new addresses never makes the limiter forget everyone at once, least of all the hosts it refuses.
 */
public final class EnrollmentRateLimiter {

    static final int MAX_TRACKED_HOSTS = 10_000;
    static final Duration WINDOW = Duration.ofMinutes(1);

    private record Window(Instant start, int failures) {
    }

    private final Map<String, Window> windows = new ConcurrentHashMap<>();
    private final Clock clock;
    private volatile int failuresPerWindow;

    public EnrollmentRateLimiter(Clock clock, int failuresPerWindow) {
        this.clock = clock;
        this.failuresPerWindow = failuresPerWindow;
    }

    /** A new limit, for the next attempt of every host (windows already counting keep their counts). */
    public void limit(int failures) {
        failuresPerWindow = failures;
    }

    /** How long the host must wait, or {@link Duration#ZERO} when it may try. */
    public Duration retryAfter(String host) {
        Window window = windows.get(host);
        if (window == null || window.failures() < failuresPerWindow) {
            return Duration.ZERO;
        }
        Duration left = Duration.between(clock.instant(), window.start().plus(WINDOW));
        return left.isNegative() || left.isZero() ? Duration.ZERO : left;
    }

    /** Records one failed attempt from the host. */
    public void failed(String host) {
        Instant now = clock.instant();
        if (windows.size() >= MAX_TRACKED_HOSTS && !windows.containsKey(host)) {
            prune(now);
        }
        windows.compute(host, (h, window) -> window == null || !now.isBefore(window.start().plus(WINDOW))
                ? new Window(now, 1)
                : new Window(window.start(), window.failures() + 1));
    }

    private void prune(Instant now) {
        for (Iterator<Window> it = windows.values().iterator(); it.hasNext(); ) {
            if (!now.isBefore(it.next().start().plus(WINDOW))) {
                it.remove();
            }
        }
        if (windows.size() < MAX_TRACKED_HOSTS) {
            return;
        }
        int target = MAX_TRACKED_HOSTS * 9 / 10;
        int limit = failuresPerWindow;
        java.util.List<Map.Entry<String, Window>> byRisk = new java.util.ArrayList<>(windows.entrySet());
        // Least worth keeping first: not refused yet and with few failures, then refused and oldest.
        byRisk.sort(java.util.Comparator.<Map.Entry<String, Window>>comparingInt(e -> e.getValue().failures() >= limit ? 1 : 0)
                .thenComparingInt(e -> e.getValue().failures())
                .thenComparing(e -> e.getValue().start()));
        for (Map.Entry<String, Window> entry : byRisk) {
            if (windows.size() <= target) {
                break;
            }
            windows.remove(entry.getKey(), entry.getValue());
        }
    }

    int trackedHosts() {
        return windows.size();
    }
}
