package dev.meshhub.admin.impl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.proto.v1.HubTrustInfo;
import dev.meshhub.proto.v1.RotateCaRequest;
import dev.meshhub.server.support.Answers;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** The admin API's calls about the hub's CA: its trust as nodes need it, and rotating it. */
final class TrustCalls {

    private static final Logger LOG = LoggerFactory.getLogger(TrustCalls.class);

    private final HubServices services;

    TrustCalls(HubServices services) {
        this.services = services;
    }

    void getHubTrust(StreamObserver<HubTrustInfo> responseObserver) {
        HubPki pki = pkiOrFail(responseObserver);
        if (pki == null) {
            return;
        }
        Answers.complete(responseObserver, TrustInfo.of(pki, services.nodes(), services.enrollment()));
    }

    void rotateCa(RotateCaRequest request, StreamObserver<HubTrustInfo> responseObserver) {
        HubPki pki = pkiOrFail(responseObserver);
        if (pki == null) {
            return;
        }
        if (request.getFinish() && pki.rotation().isEmpty()) {
            Answers.fail(responseObserver, Status.FAILED_PRECONDITION.withDescription(
                    "no CA rotation is running; start one with meshctl ca rotate"));
            return;
        }
        // The PKI writes a new CA (or moves files) to disk: not on this gRPC thread.
        Thread worker = new Thread(() -> {
            try {
                if (request.getFinish()) {
                    pki.retireOldCa();
                    LOG.info("an admin retired the old CA before every node renewed; the hub serves with {}", pki.caPin());
                } else {
                    pki.rotateCa();
                }
                Answers.complete(responseObserver, TrustInfo.of(pki, services.nodes(), services.enrollment()));
            } catch (PkiException e) {
                Answers.fail(responseObserver, (e.reason() == PkiException.Reason.BAD_REQUEST ? Status.FAILED_PRECONDITION
                        : Status.UNAVAILABLE).withDescription(e.getMessage()));
            } catch (RuntimeException e) {
                LOG.warn("CA rotation failed", e);
                Answers.fail(responseObserver, Status.INTERNAL.withDescription("the CA rotation failed inside the hub; see the hub log"));
            }
        }, "meshhub-ca-rotate");
        worker.setDaemon(true);
        worker.start();
    }

    private <T> HubPki pkiOrFail(StreamObserver<T> observer) {
        HubPki pki = services.pki();
        if (pki == null) {
            Answers.fail(observer, Status.FAILED_PRECONDITION.withDescription(
                    "the hub's PKI is not running (bundle dev.meshhub.pki; its error in the hub log names the file at fault)"));
        }
        return pki;
    }
}
