package dev.meshhub.metrics.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.Test;

import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.TaskScheduleState;
import dev.meshhub.api.node.DisconnectCause;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.node.NodeLinkStats;
import dev.meshhub.api.node.NodeSession;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

public class MeshCollectorTest {

    private static final Instant T = Instant.parse("2026-12-05T10:00:00Z");

    private static NodeDirectory directory(List<NodeSession> sessions) {
        return new NodeDirectory() {
            @Override
            public List<NodeSession> connected() {
                return sessions;
            }

            @Override
            public Optional<NodeSession> session(String nodeId) {
                return sessions.stream().filter(s -> s.nodeId().equals(nodeId)).findFirst();
            }

            @Override
            public boolean disconnect(String nodeId, DisconnectCause cause, String detail) {
                return false;
            }

            @Override
            public NodeLinkStats linkStats() {
                return new NodeLinkStats(7, 1, 2);
            }
        };
    }

    private static String exposition(MeshCollector collector) throws Exception {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(collector);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void nodesAreCountedByConfinementWithoutTheirIds() throws Exception {
        List<NodeSession> sessions = List.of(
                new NodeSession("n-000000000001", "web-1", "10.0.0.1:4000", T, T, 0, "", "bwrap"),
                new NodeSession("n-000000000002", "web-2", "10.0.0.2:4000", T, T, 0, "", "unconfined: bwrap not installed"),
                new NodeSession("n-000000000003", "old-agent", "10.0.0.3:4000", T, T, 0, "", ""));
        ManagementScheduler scheduler = () -> List.of(
                status("lock-sweep", 1, TaskScheduleState.WAITING), status("lock-sweep", 2, TaskScheduleState.HUNG));
        String text = exposition(new MeshCollector(new MeshCollector.Services(() -> directory(sessions), () -> null, () -> null,
                () -> scheduler, () -> null, () -> dispatcher, () -> null), Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(1)));

        assertTrue(text, text.contains("meshhub_nodes_connected 3.0"));
        assertTrue(text, text.contains("meshhub_nodes_by_confinement{confinement=\"bwrap\"} 1.0"));
        assertTrue(text, text.contains("meshhub_nodes_by_confinement{confinement=\"unconfined\"} 1.0"));
        assertTrue(text, text.contains("meshhub_nodes_by_confinement{confinement=\"unreported\"} 1.0"));
        assertTrue(text, text.contains("meshhub_enrollment_attempts_total 7.0"));
        assertTrue(text, text.contains("meshhub_session_takeovers_total{outcome=\"replaced\"} 2.0"));
        assertFalse("no node id or name in any series", text.contains("n-00000000000") || text.contains("web-1"));
        assertTrue("two tasks of one name stay apart", text.contains("task=\"lock-sweep#2\""));
        assertTrue(text, text.contains("meshhub_tasks_dispatched_total{kind=\"command\"} 2.0"));
        assertTrue(text, text.contains("meshhub_tasks_dispatched_total{kind=\"push\"} 1.0"));
        assertTrue(text, text.contains("meshhub_tasks_dispatched_total{kind=\"other\"} 0.0"));
        assertTrue("buckets are cumulative in the exposition", text.contains("meshhub_dispatch_start_seconds_bucket{le=\"0.001\"} 1")
                && text.contains("meshhub_dispatch_start_seconds_bucket{le=\"0.01\"} 2")
                && text.contains("meshhub_dispatch_start_seconds_bucket{le=\"+Inf\"} 3"));
        assertTrue(text, text.contains("meshhub_dispatch_start_seconds_count 3"));
        assertTrue(text, text.contains("meshhub_management_task_state{state=\"HUNG\",task=\"lock-sweep#2\"} 1.0"));
    }

    private final dev.meshhub.api.task.TaskDispatcher dispatcher = new dev.meshhub.api.task.TaskDispatcher() {
        private final dev.meshhub.api.stats.DistributionRecorder starts = new dev.meshhub.api.stats.DistributionRecorder(0.001, 0.01, 0.1);

        {
            starts.record(0.0005);
            starts.record(0.005);
            starts.record(2);
        }

        @Override
        public dev.meshhub.api.task.TaskHandle dispatch(String node, dev.meshhub.api.task.CommandSpec command,
                dev.meshhub.api.task.TaskOutputListener output) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean cancel(String taskId, String reason) {
            return false;
        }

        @Override
        public java.util.Optional<dev.meshhub.api.stats.DispatchStats> stats() {
            return java.util.Optional.of(new dev.meshhub.api.stats.DispatchStats(3, starts.snapshot(), java.util.Map.of("command", 2L, "push", 1L)));
        }
    };

    @Test
    public void aServiceAwayLeavesItsSeriesOutAndSaysSo() throws Exception {
        String text = exposition(new MeshCollector(new MeshCollector.Services(() -> null, () -> null, () -> null, () -> null,
                () -> null, () -> null, () -> null), Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofSeconds(1)));
        assertTrue(text, text.contains("meshhub_service_up{service=\"transport\"} 0.0"));
        assertTrue(text, text.contains("meshhub_service_up{service=\"journal\"} 0.0"));
        assertFalse(text, text.contains("meshhub_nodes_connected"));
        assertFalse(text, text.contains("meshhub_tasks"));
    }

    @Test
    public void confinementIsABoundedClass() {
        assertEquals("bwrap", MeshCollector.confinementClass("bwrap 0.8.0"));
        assertEquals("unconfined", MeshCollector.confinementClass("Unconfined: no user namespaces"));
        assertEquals("unreported", MeshCollector.confinementClass(""));
        assertEquals("unreported", MeshCollector.confinementClass(null));
        assertEquals("other", MeshCollector.confinementClass("firejail"));
    }

    private static ManagementTaskStatus status(String name, long serviceId, TaskScheduleState state) {
        return new ManagementTaskStatus(name, serviceId, "dev.meshhub.locks", state, null, Duration.ofSeconds(30),
                Duration.ofSeconds(30), false, 3, 1, 0, 0, 1, T, Duration.ofMillis(12), null, null, null);
    }
}
