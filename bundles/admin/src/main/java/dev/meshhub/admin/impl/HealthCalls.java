package dev.meshhub.admin.impl;

import java.util.concurrent.Semaphore;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.health.HealthReport;
import dev.meshhub.server.support.Answers;
import dev.meshhub.api.health.HubHealth;
import dev.meshhub.proto.v1.HealthCheckInfo;
import dev.meshhub.proto.v1.HealthInfo;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * The admin API's health call. Health checks touch disks (the journal's probe file) and wait for the
 * checks' executor, so each call runs on a thread of its own, at most {@value #AT_ONCE} at once; more
 * are refused with RESOURCE_EXHAUSTED rather than queued behind a slow disk.
 */
final class HealthCalls {

    static final int AT_ONCE = 4;
    private static final Logger LOG = LoggerFactory.getLogger(HealthCalls.class);

    private final HubServices services;
    private final Semaphore running = new Semaphore(AT_ONCE);

    HealthCalls(HubServices services) {
        this.services = services;
    }

    void getHealth(StreamObserver<HealthInfo> responseObserver) {
        HubHealth health = services.health();
        if (health == null) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription(
                    "no health service is running; start the meshhub-health feature (bundle dev.meshhub.health)"));
            return;
        }
        if (!running.tryAcquire()) {
            Answers.fail(responseObserver, Status.RESOURCE_EXHAUSTED.withDescription(
                    AT_ONCE + " health calls are running already; retry in a few seconds"));
            return;
        }
        Thread worker = new Thread(() -> {
            try {
                Answers.complete(responseObserver, toWire(health.check()));
            } catch (RuntimeException e) {
                LOG.warn("the health checks failed to run", e);
                Answers.fail(responseObserver, Status.INTERNAL.withDescription("the health checks failed to run; see the hub log"));
            } finally {
                running.release();
            }
        }, "meshhub-admin-health");
        worker.setDaemon(true);
        worker.start();
    }

    static HealthInfo toWire(HealthReport report) {
        HealthInfo.Builder info = HealthInfo.newBuilder().setStatus(report.status()).setHealthy(report.healthy())
                .setTakenAtMs(report.takenAt().toEpochMilli());
        for (HealthReport.Check check : report.checks()) {
            info.addChecks(HealthCheckInfo.newBuilder().setName(check.name()).setStatus(check.status())
                    .addAllMessages(check.messages()).setElapsedMs(check.elapsedMs()).setTimedOut(check.timedOut()));
        }
        return info.build();
    }
}
