package dev.meshhub.health.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.apache.felix.hc.api.Result;
import org.junit.Test;

import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.TaskScheduleState;

public class ScheduleHealthCheckTest {

    private static ManagementTaskStatus task(String name, TaskScheduleState state, long failingInARow) {
        return new ManagementTaskStatus(name, 1, "dev.meshhub.test", state, state == TaskScheduleState.IGNORED ? "no period" : null,
                Duration.ofSeconds(30), Duration.ofSeconds(30), false, 5, failingInARow, 0, 0, failingInARow, Instant.EPOCH,
                Duration.ofMillis(3), null, failingInARow > 0 ? "IOException: disk full" : null, null);
    }

    @Test
    public void aHungTaskIsCriticalAndNamed() {
        Result result = ScheduleHealthCheck.check(List.of(task("lock-sweep", TaskScheduleState.WAITING, 0),
                task("mesh-monitor", TaskScheduleState.HUNG, 0)));
        assertEquals(Result.Status.CRITICAL, result.getStatus());
        assertTrue(result.toString(), result.toString().contains("'mesh-monitor'") && result.toString().contains("hung"));
    }

    @Test
    public void ignoredOrRepeatedlyFailingTasksWarn() {
        assertEquals(Result.Status.WARN, ScheduleHealthCheck.check(List.of(task("odd", TaskScheduleState.IGNORED, 0))).getStatus());
        Result failing = ScheduleHealthCheck.check(List.of(task("mirror-cleanup", TaskScheduleState.WAITING, 3)));
        assertEquals(Result.Status.WARN, failing.getStatus());
        assertTrue(failing.toString(), failing.toString().contains("disk full"));
        assertEquals("two failures in a row are not yet a warning", Result.Status.OK,
                ScheduleHealthCheck.check(List.of(task("mirror-cleanup", TaskScheduleState.WAITING, 2))).getStatus());
    }
}
