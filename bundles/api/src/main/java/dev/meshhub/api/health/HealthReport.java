package dev.meshhub.api.health;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of every health check at one moment.
 *
 * @param status  the worst status of any check: OK, WARN, TEMPORARILY_UNAVAILABLE, CRITICAL or HEALTH_CHECK_ERROR
 * @param healthy whether the hub is fit to serve (every check OK or WARN): HTTP 200 rather than 503
 * @param checks  each check's result, worst first
 * @param takenAt when the checks ran
 */
public record HealthReport(String status, boolean healthy, List<Check> checks, Instant takenAt) {

    public HealthReport {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(takenAt, "takenAt");
        checks = List.copyOf(checks);
    }

    /**
     * One check's result.
     *
     * @param name      its {@code hc.name}
     * @param status    its status
     * @param messages  what it said, each as {@code STATUS message}
     * @param elapsedMs how long it ran
     * @param timedOut  whether it passed the executor's time limit
     */
    public record Check(String name, String status, List<String> messages, long elapsedMs, boolean timedOut) {
        public Check {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(status, "status");
            messages = List.copyOf(messages);
        }
    }
}
