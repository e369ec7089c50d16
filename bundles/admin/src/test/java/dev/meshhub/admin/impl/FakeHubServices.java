package dev.meshhub.admin.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.monitor.MeshStatus;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.sync.FileTransfers;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;

/** The services an admin call answers from, set by each test; unset ones are absent, as when their bundle is stopped. */
final class FakeHubServices implements HubServices {

    dev.meshhub.api.health.HubHealth health;

    volatile EnrollmentStore enrollment;
    volatile NodeDirectory nodes;
    volatile TaskDispatcher dispatcher;
    volatile TaskJournal journal;
    volatile SandboxPolicy policy;
    volatile PolicyAdministration policyAdministration;
    volatile ManagementScheduler scheduler;
    volatile MeshStatus meshStatus;
    volatile FileTransfers transfers;
    volatile dev.meshhub.api.pki.HubPki pki;
    volatile dev.meshhub.api.output.TaskLogs taskLogs;

    @Override
    public dev.meshhub.api.output.TaskLogs taskLogs() {
        return taskLogs;
    }
    final List<String> posted = new ArrayList<>();

    @Override
    public EnrollmentStore enrollment() {
        return enrollment;
    }

    @Override
    public NodeDirectory nodes() {
        return nodes;
    }

    @Override
    public TaskDispatcher dispatcher() {
        return dispatcher;
    }

    @Override
    public TaskJournal journal() {
        return journal;
    }

    @Override
    public SandboxPolicy policy() {
        return policy;
    }

    @Override
    public PolicyAdministration policyAdministration() {
        return policyAdministration;
    }

    @Override
    public ManagementScheduler scheduler() {
        return scheduler;
    }

    @Override
    public MeshStatus meshStatus() {
        return meshStatus;
    }

    @Override
    public dev.meshhub.api.health.HubHealth health() {
        return health;
    }

    @Override
    public FileTransfers transfers() {
        return transfers;
    }

    @Override
    public dev.meshhub.api.pki.HubPki pki() {
        return pki;
    }

    @Override
    public synchronized void post(String topic, Map<String, Object> properties) {
        posted.add(topic + " " + properties);
    }
}
