package dev.meshhub.health.impl;

import java.util.List;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.management.ManagementTaskStatus;
import dev.meshhub.api.management.TaskScheduleState;

/**
 * The management scheduler's health ({@code hc.name = scheduler}): CRITICAL when it is not running or
 * a task is HUNG (past its time limit and not returned), WARN for a task not run (IGNORED) or failing
 * {@value #FAILING_IN_A_ROW} times in a row.
 */
@Component(service = HealthCheck.class, property = {HealthCheck.NAME + "=scheduler", HealthCheck.TAGS + "=meshhub"})
public final class ScheduleHealthCheck implements HealthCheck {

    static final int FAILING_IN_A_ROW = 3;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile ManagementScheduler scheduler;

    @Override
    public Result execute() {
        ManagementScheduler current = scheduler;
        return current == null ? new Result(Result.Status.CRITICAL, "the management scheduler is not running (feature"
                + " meshhub-scheduler): no housekeeping, no monitor, no retention") : check(current.tasks());
    }

    static Result check(List<ManagementTaskStatus> tasks) {
        ResultLog log = new ResultLog();
        int fine = 0;
        for (ManagementTaskStatus task : tasks) {
            if (task.state() == TaskScheduleState.HUNG) {
                log.add(new ResultLog.Entry(Result.Status.CRITICAL, "management task '" + task.name() + "' (" + task.bundle()
                        + ") is hung: its run passed its time limit of " + task.timeLimit() + " and has not returned"));
            } else if (task.state() == TaskScheduleState.IGNORED) {
                log.add(new ResultLog.Entry(Result.Status.WARN, "management task '" + task.name() + "' (" + task.bundle()
                        + ") is not run: " + task.problem()));
            } else if (task.consecutiveFailures() >= FAILING_IN_A_ROW) {
                log.add(new ResultLog.Entry(Result.Status.WARN, "management task '" + task.name() + "' failed its last "
                        + task.consecutiveFailures() + " runs: " + task.lastError()));
            } else {
                fine++;
            }
        }
        log.add(new ResultLog.Entry(Result.Status.OK, fine + " of " + tasks.size() + " management tasks on schedule"));
        return new Result(log);
    }
}
