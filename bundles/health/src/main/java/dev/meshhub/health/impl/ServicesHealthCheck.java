package dev.meshhub.health.impl;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.TaskJournal;

/**
 * The services a working hub needs, present ({@code hc.name = services}): the node directory
 * (transport), the task journal, a sandbox policy (without one no task runs) and the management
 * scheduler. A missing one is CRITICAL, named with the feature that brings it. A check a stopped
 * bundle took away with it cannot report; this one notices its service is gone.
 */
@Component(service = HealthCheck.class, property = {HealthCheck.NAME + "=services", HealthCheck.TAGS + "=meshhub"})
public final class ServicesHealthCheck implements HealthCheck {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile NodeDirectory nodeDirectory;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskJournal taskJournal;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile SandboxPolicy sandboxPolicy;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile ManagementScheduler managementScheduler;

    @Override
    public Result execute() {
        List<String> missing = new ArrayList<>();
        if (nodeDirectory == null) {
            missing.add("NodeDirectory (feature meshhub-transport: nodes cannot connect)");
        }
        if (taskJournal == null) {
            missing.add("TaskJournal (feature meshhub-journal: no task can be journaled)");
        }
        if (sandboxPolicy == null) {
            missing.add("SandboxPolicy (feature meshhub-policy, or your own policy bundle: no task runs without one)");
        }
        if (managementScheduler == null) {
            missing.add("ManagementScheduler (feature meshhub-scheduler)");
        }
        return missing.isEmpty() ? new Result(Result.Status.OK, "transport, journal, policy and scheduler services present")
                : new Result(Result.Status.CRITICAL, "missing: " + String.join("; ", missing));
    }
}
