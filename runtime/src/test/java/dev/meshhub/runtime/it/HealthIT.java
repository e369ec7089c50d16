package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

import dev.meshhub.api.health.HealthReport;
import dev.meshhub.api.health.HubHealth;
import dev.meshhub.proto.v1.GetHealthRequest;
import dev.meshhub.proto.v1.HealthInfo;

/**
 * The hub's health checks in Felix: every meshhub check reports, the admin API serves the same report
 * as /system/health, and a stopped transport is named by the services check (its own check left with it).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HealthIT extends HubTestBase {

    @Inject
    private HubHealth health;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("HealthIT", Map.of(), "meshhub");
    }

    private static HealthReport.Check check(HealthReport report, String name) {
        return report.checks().stream().filter(c -> c.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no check " + name + " in " + report));
    }

    @Test
    public void everyMeshhubCheckReportsAndTheAdminApiServesTheSameReport() throws Exception {
        Poll.until("healthy", Duration.ofSeconds(10), () -> health.check().healthy());
        HealthReport report = health.check();
        assertEquals("OK", report.status());
        for (String name : new String[] {"journal", "transport", "mirror-disk-reserve", "scheduler", "services"}) {
            assertEquals(name, "OK", check(report, name).status());
        }
        assertTrue(check(report, "transport").messages().toString(), check(report, "transport").messages().get(0)
                .contains("127.0.0.1:" + context.getProperty(HubTestSupport.NODE_PORT)));

        org.apache.felix.service.command.CommandProcessor processor = context.getService(
                context.getServiceReference(org.apache.felix.service.command.CommandProcessor.class));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream console = new java.io.PrintStream(out, true);
        try (org.apache.felix.service.command.CommandSession session = processor.createSession(
                new java.io.ByteArrayInputStream(new byte[0]), console, console)) {
            String shell = String.valueOf(session.execute("mesh:health"));
            assertTrue(shell, shell.startsWith("OK (healthy)") && shell.contains("OK       journal"));
        }

        HealthInfo wire = hub.admin().getHealth(GetHealthRequest.getDefaultInstance());
        assertTrue(wire.getHealthy());
        assertEquals("OK", wire.getStatus());
        assertEquals(report.checks().size(), wire.getChecksCount());
    }

    @Test
    public void aStoppedTransportIsNamedAndTheHubRecoversWhenItStarts() throws Exception {
        Bundle transport = bundle("dev.meshhub.transport");
        transport.stop();
        try {
            Poll.until("unhealthy", Duration.ofSeconds(10), () -> !health.check().healthy());
            HealthReport report = health.check();
            assertEquals("CRITICAL", report.status());
            assertEquals("the worst check comes first", "services", report.checks().get(0).name());
            assertTrue(report.checks().get(0).messages().toString(),
                    report.checks().get(0).messages().get(0).contains("NodeDirectory (feature meshhub-transport"));
            assertFalse("the transport's own check left with its bundle",
                    report.checks().stream().anyMatch(c -> c.name().equals("transport")));
        } finally {
            transport.start();
        }
        Poll.until("healthy again", Duration.ofSeconds(15), () -> health.check().healthy());
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getSymbolicName().equals(symbolicName)) {
                return bundle;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }
}
