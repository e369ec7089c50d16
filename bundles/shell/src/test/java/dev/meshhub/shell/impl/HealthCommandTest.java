package dev.meshhub.shell.impl;

import static org.junit.Assert.assertEquals;

import java.time.Instant;
import java.util.List;

import org.junit.Test;

import dev.meshhub.api.health.HealthReport;

public class HealthCommandTest {

    @Test
    public void theReportReadsWorstFirstWithEachMessage() {
        HealthReport report = new HealthReport("CRITICAL", false, List.of(
                new HealthReport.Check("journal", "CRITICAL", List.of("CRITICAL cannot create a file in /hub/data/journal/log"), 3, false),
                new HealthReport.Check("transport", "OK", List.of("OK nodes connect on 0.0.0.0:7700"), 1, false)),
                Instant.parse("2026-12-05T08:00:00Z"));
        assertEquals(""
                + "CRITICAL (unhealthy), checked at 2026-12-05T08:00:00Z\n"
                + "CRITICAL journal\n"
                + "           CRITICAL cannot create a file in /hub/data/journal/log\n"
                + "OK       transport\n"
                + "           OK nodes connect on 0.0.0.0:7700\n", HealthCommand.text(report));
    }

    @Test(expected = IllegalStateException.class)
    public void withoutTheHealthFeatureItSaysWhatToStart() {
        new HealthCommand().health();
    }
}
