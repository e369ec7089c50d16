package dev.meshhub.node;

import io.grpc.Status;
import java.util.Locale;
import java.util.logging.Level;

/** How the agent words what the hub answered, and durations, in its log lines and exit messages. */
final class StatusText {

    private StatusText() {
    }

    /** How loud a failed call is: INFO while the hub is merely unreachable (it is retried), WARNING otherwise. */
    static Level levelFor(Status status) {
        return status.getCode() == Status.Code.UNAVAILABLE ? Level.INFO : Level.WARNING;
    }

    /** What the hub said: its description, or the status code when it said nothing. */
    static String hubMessage(Status status) {
        String d = status.getDescription();
        return d == null || d.isBlank() ? status.getCode().name() : d;
    }

    /** Code, description and root cause, e.g. {@code UNAVAILABLE: io exception (Connection refused)}. */
    static String describe(Status status) {
        StringBuilder b = new StringBuilder(status.getCode().name());
        if (status.getDescription() != null && !status.getDescription().isBlank()) {
            b.append(": ").append(status.getDescription());
        }
        Throwable root = status.getCause();
        if (root != null) {
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            b.append(" (").append(root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName())
                    .append(')');
        }
        return b.toString();
    }

    /** {@code 350 ms}, {@code 1.3 s}. */
    static String seconds(long millis) {
        return millis < 1000 ? millis + " ms" : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
