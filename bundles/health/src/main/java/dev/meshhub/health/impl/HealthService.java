package dev.meshhub.health.impl;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.apache.felix.hc.api.execution.HealthCheckExecutionResult;
import org.apache.felix.hc.api.execution.HealthCheckExecutor;
import org.apache.felix.hc.api.execution.HealthCheckSelector;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.meshhub.api.health.HealthReport;
import dev.meshhub.api.health.HubHealth;

/**
 * {@link HubHealth} over Felix Health Checks' executor: every health check service in the framework
 * (meshhub's, tagged {@code meshhub}, and any an integrator adds), run with the executor's time limit
 * and result cache, folded into one report, worst first.
 */
@Component(service = HubHealth.class)
public final class HealthService implements HubHealth {

    /** Felix Health Checks' tag selecting every check (an empty selector selects none). */
    static final String ALL = "*";

    private final HealthCheckExecutor executor;
    private final Clock clock = Clock.systemUTC();

    @Activate
    public HealthService(@Reference HealthCheckExecutor executor) {
        this.executor = executor;
    }

    @Override
    public HealthReport check() {
        return report(executor.execute(HealthCheckSelector.tags(ALL)), clock);
    }

    static HealthReport report(List<HealthCheckExecutionResult> results, Clock clock) {
        List<HealthReport.Check> checks = new ArrayList<>();
        Result.Status worst = Result.Status.OK;
        for (HealthCheckExecutionResult each : results) {
            Result result = each.getHealthCheckResult();
            List<String> messages = new ArrayList<>();
            for (ResultLog.Entry entry : result) {
                if (!entry.isDebug()) {
                    messages.add(entry.getStatus() + " " + entry.getMessage());
                }
            }
            checks.add(new HealthReport.Check(each.getHealthCheckMetadata().getName(), result.getStatus().name(), messages,
                    each.getElapsedTimeInMs(), each.hasTimedOut()));
            if (result.getStatus().ordinal() > worst.ordinal()) {
                worst = result.getStatus();
            }
        }
        checks.sort(Comparator.comparing((HealthReport.Check check) -> Result.Status.valueOf(check.status()).ordinal()).reversed()
                .thenComparing(HealthReport.Check::name));
        boolean healthy = worst == Result.Status.OK || worst == Result.Status.WARN;
        return new HealthReport(worst.name(), healthy && !checks.isEmpty(), checks, clock.instant());
    }
}
