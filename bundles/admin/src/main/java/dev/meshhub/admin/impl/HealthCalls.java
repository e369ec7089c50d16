package dev.meshhub.admin.impl;

import dev.meshhub.api.health.HealthReport;
import dev.meshhub.server.support.Answers;
import dev.meshhub.api.health.HubHealth;
import dev.meshhub.proto.v1.HealthCheckInfo;
import dev.meshhub.proto.v1.HealthInfo;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** The admin API's health call: every health check run now, off the gRPC threads ({@link BlockingCalls}). */
final class HealthCalls {

    private final HubServices services;
    private final BlockingCalls blocking;

    HealthCalls(HubServices services, BlockingCalls blocking) {
        this.services = services;
        this.blocking = blocking;
    }

    void getHealth(StreamObserver<HealthInfo> responseObserver) {
        HubHealth health = services.health();
        if (health == null) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription(
                    "no health service is running; start the meshhub-health feature (bundle dev.meshhub.health)"));
            return;
        }
        blocking.run("health", responseObserver, () -> toWire(health.check()));
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
