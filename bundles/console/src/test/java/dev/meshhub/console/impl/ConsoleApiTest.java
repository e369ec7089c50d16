package dev.meshhub.console.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.junit.Test;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskOutputListener;

public class ConsoleApiTest {

    private final List<String> audited = new ArrayList<>();
    private final List<String> cancelled = new ArrayList<>();
    private final AuditLog audit = (actor, action, subject, detail) -> {
        audited.add(actor + " " + action + " " + subject);
        return CompletableFuture.completedFuture(null);
    };
    private final TaskDispatcher dispatcher = new TaskDispatcher() {
        @Override
        public TaskHandle dispatch(String node, CommandSpec command, TaskOutputListener output) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean cancel(String taskId, String reason) {
            cancelled.add(taskId + ": " + reason);
            return taskId.equals("t-running");
        }
    };
    private final ConsoleApi api = new ConsoleApi(new ConsoleApi.Services(() -> null, () -> null, () -> null, () -> null,
            () -> dispatcher, () -> null, () -> null, () -> audit, (topic, properties) -> { }, () -> null, () -> null, () -> null));

    @Test
    public void aCancelIsAuditedAndAnEndedTaskSaysSo() throws Exception {
        ConsoleApi.Answer done = api.post("tasks/t-running/cancel", "console", Map.of());
        assertEquals(200, done.status());
        assertEquals(List.of("console task.cancel t-running"), audited);
        assertEquals(List.of("t-running: cancelled by an admin (web console)"), cancelled);
        ConsoleApi.Answer ended = api.post("tasks/t-ended/cancel", "console", Map.of());
        assertEquals(409, ended.status());
        assertEquals("nothing audited for a refused act", 1, audited.size());
    }

    @Test
    public void missingServicesAndUnknownPathsAnswerClearly() throws Exception {
        ConsoleApi.Answer nodes = api.get("nodes", Map.of());
        assertEquals(503, nodes.status());
        assertTrue(nodes.body().toString(), nodes.body().toString().contains("feature meshhub-journal"));
        assertEquals(404, api.get("secrets", Map.of()).status());
        assertEquals(404, api.post("nodes/x/delete", "console", Map.of()).status());
        assertEquals(503, api.post("nodes/x/revoke", "console", Map.of()).status());
        assertEquals(503, api.post("invites", "console", Map.of()).status());
        assertEquals(503, api.post("nodes/x/policy", "console", Map.of("mode", "PERMISSIVE")).status());
    }

    @Test
    public void pagesAreBounded() {
        assertEquals(100, ConsoleApi.bounded(null, 1, ConsoleApi.MAX_PAGE, 100));
        assertEquals(ConsoleApi.MAX_PAGE, ConsoleApi.bounded("1000000", 1, ConsoleApi.MAX_PAGE, 100));
        assertEquals(1, ConsoleApi.bounded("-5", 1, ConsoleApi.MAX_PAGE, 100));
        assertEquals(100, ConsoleApi.bounded("ten", 1, ConsoleApi.MAX_PAGE, 100));
    }

    @Test
    public void aTaskShowsTheEndOfItsOutputAsText() {
        byte[] output = ("x".repeat(ConsoleViews.OUTPUT_BYTES) + "the end").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var task = new dev.meshhub.api.task.TaskRecord("t-1", "n-1", "alpha", "command", "echo", new byte[0],
                dev.meshhub.api.task.TaskState.SUCCEEDED, Instant.EPOCH, Instant.EPOCH, Instant.EPOCH, Instant.EPOCH, 0, "", output, "echo");
        String shown = (String) ConsoleViews.task(task, true).get("output");
        assertEquals(ConsoleViews.OUTPUT_BYTES, shown.length());
        assertTrue(shown.endsWith("the end"));
        assertEquals("1970-01-01T00:00:00Z", ConsoleViews.task(task, false).get("createdAt"));
    }
}
