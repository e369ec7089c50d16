package dev.meshhub.shell.impl;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.health.HealthReport;
import dev.meshhub.api.health.HubHealth;

/** {@code mesh:health}: every health check run now, in the words of {@code meshctl health} and {@code /system/health?format=text}. */
@Component(service = HealthCommand.class, property = {"osgi.command.scope=mesh", "osgi.command.function=health"})
public class HealthCommand {

    static final String NO_HEALTH = "no health service is running; start the meshhub-health feature (bundle dev.meshhub.health)";

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile HubHealth health;

    @Descriptor("run the hub's health checks now and show each one's status, worst first")
    public String health() {
        HubHealth current = health;
        if (current == null) {
            throw new IllegalStateException(NO_HEALTH);
        }
        return text(current.check());
    }

    static String text(HealthReport report) {
        return report.text();
    }
}
