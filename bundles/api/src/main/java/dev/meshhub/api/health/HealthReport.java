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
     * The report for a person, as {@code meshctl health}, {@code mesh:health} and {@code /system/health?format=text}
     * print it: the overall status and when, then each check's status and name with its messages indented.
     */
    public String text() {
        StringBuilder text = new StringBuilder(status).append(healthy ? " (healthy)" : " (unhealthy)").append(", checked at ")
                .append(takenAt).append('\n');
        for (Check check : checks) {
            text.append(String.format(java.util.Locale.ROOT, "%-8s %s%s%n", check.status(), check.name(), check.timedOut() ? " (timed out)" : ""));
            for (String message : check.messages()) {
                text.append("           ").append(message).append('\n');
            }
        }
        return text.toString();
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
