package dev.meshhub.cli;

import static dev.meshhub.cli.RelativeTime.relative;
import static dev.meshhub.cli.RelativeTime.span;

import dev.meshhub.proto.v1.ManagementTaskInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Renders {@code meshctl admin tasks}: the scheduler's management tasks as a table or JSON. */
final class ManagementTaskListing {

    private ManagementTaskListing() {
    }

    /**
     * Columns NAME STATE PERIOD LAST-RUN DURATION OUTCOME FAILURES TIMEOUTS SKIPPED NEXT-RUN, times
     * relative to {@code nowMillis}; then one line per ignored task (its problem) and per task with a
     * last error, which do not fit a column.
     */
    static String table(List<ManagementTaskInfo> tasks, long nowMillis) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "STATE", "PERIOD", "LAST-RUN", "DURATION", "OUTCOME", "FAILURES", "TIMEOUTS",
            "SKIPPED", "NEXT-RUN"});
        for (ManagementTaskInfo t : tasks) {
            rows.add(new String[] {
                Table.word(t.getName()), Table.word(t.getState()),
                t.getPeriodMs() > 0 ? span(t.getPeriodMs()) : "-",
                relative(t.getLastStartMs(), nowMillis), span(t.getLastDurationMs()), Table.word(t.getLastOutcome()),
                Long.toString(t.getFailures()), Long.toString(t.getTimeouts()), Long.toString(t.getSkipped()),
                relative(t.getNextRunMs(), nowMillis)});
        }
        StringBuilder b = new StringBuilder(Table.render(rows));
        for (ManagementTaskInfo t : tasks) {
            if (!t.getProblem().isEmpty()) {
                b.append(Table.word(t.getName())).append(": ignored: ").append(Table.text(t.getProblem(), Integer.MAX_VALUE))
                        .append('\n');
            }
            if (!t.getLastError().isEmpty()) {
                b.append(Table.word(t.getName())).append(": last error: ").append(Table.text(t.getLastError(), Integer.MAX_VALUE))
                        .append('\n');
            }
        }
        return b.toString();
    }

    /**
     * A JSON array of {name, serviceId, bundle, state, problem, periodMillis, timeLimitMillis,
     * concurrent, runs, failures, timeouts, skipped, consecutiveFailures, lastStart,
     * lastDurationMillis, lastOutcome, lastError, nextRun}: times ISO-8601 UTC to the millisecond,
     * null (like problem, lastOutcome, lastError and lastDurationMillis) when they have not happened.
     */
    static String json(List<ManagementTaskInfo> tasks) {
        JsonWriter w = new JsonWriter().beginArray();
        for (ManagementTaskInfo t : tasks) {
            w.newline().beginObject()
                    .name("name").value(t.getName())
                    .name("serviceId").value(t.getServiceId())
                    .name("bundle").value(t.getBundle())
                    .name("state").value(t.getState())
                    .name("problem").value(emptyToNull(t.getProblem()))
                    .name("periodMillis").value(t.getPeriodMs())
                    .name("timeLimitMillis").value(t.getTimeLimitMs())
                    .name("concurrent").value(t.getConcurrent())
                    .name("runs").value(t.getRuns())
                    .name("failures").value(t.getFailures())
                    .name("timeouts").value(t.getTimeouts())
                    .name("skipped").value(t.getSkipped())
                    .name("consecutiveFailures").value(t.getConsecutiveFailures())
                    .name("lastStart").value(isoMillis(t.getLastStartMs()))
                    .name("lastDurationMillis");
            if (t.getLastDurationMs() < 0) {
                w.nullValue();
            } else {
                w.value(t.getLastDurationMs());
            }
            w.name("lastOutcome").value(emptyToNull(t.getLastOutcome()))
                    .name("lastError").value(emptyToNull(t.getLastError()))
                    .name("nextRun").value(isoMillis(t.getNextRunMs()))
                    .endObject();
        }
        if (!tasks.isEmpty()) {
            w.newline();
        }
        return w.endArray().toJson() + "\n";
    }

    /**
     * ISO-8601 UTC as {@link Instant#toString()} writes it (milliseconds when there are any), or null
     * for 0. Finer than {@link NodeListing#iso}: management periods may be sub-second, and the
     * monitor's status file writes instants this way.
     */
    static String isoMillis(long epochMillis) {
        return epochMillis <= 0 ? null : Instant.ofEpochMilli(epochMillis).toString();
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
