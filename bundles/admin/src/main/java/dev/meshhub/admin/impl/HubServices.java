package dev.meshhub.admin.impl;

import java.util.Map;

import dev.meshhub.api.health.HubHealth;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.sync.FileTransfers;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;

/**
 * The hub's services the admin API answers from: only {@code dev.meshhub.api} services, each of which
 * may be absent at any moment (its bundle stopped or being replaced). A getter returns {@code null}
 * then, and the call that needed it says what to start.
 */
interface HubServices {

    EnrollmentStore enrollment();

    NodeDirectory nodes();

    TaskDispatcher dispatcher();

    TaskJournal journal();

    SandboxPolicy policy();

    PolicyAdministration policyAdministration();

    ManagementScheduler scheduler();

    MeshStatus meshStatus();

    /** The health checks' runner (feature meshhub-health). */
    HubHealth health();

    FileTransfers transfers();

    HubPki pki();

    /** The tasks' whole output logs (feature meshhub-task-logs). */
    TaskLogs taskLogs();

    /** Posts an event on EventAdmin, if one runs. */
    void post(String topic, Map<String, Object> properties);
}
