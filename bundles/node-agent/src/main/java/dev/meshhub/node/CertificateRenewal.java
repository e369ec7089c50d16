package dev.meshhub.node;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.io.IOException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Renews the node's certificate at two thirds of its life, over the open connection: a unary
 * SyncConfiguration with a CSR for a new key, beside the TaskStream, which goes on undisturbed. The
 * new certificate is kept, and new calls move to a channel that presents it. A failure is retried
 * every minute until the certificate expires. Confined to the agent's thread.
 */
final class CertificateRenewal {

    private static final Logger LOG = Logger.getLogger(CertificateRenewal.class.getName());
    /** A failed renewal is tried again after this. */
    static final Duration RETRY = Duration.ofMinutes(1);
    private static final long DEADLINE_MS = 10_000;

    /** What the renewal needs from the agent. */
    interface Agent {
        boolean stopping();

        ManagedChannel channel();

        NodeInfo info();

        /** Moves new calls onto a channel with the current certificate; false when the agent had to stop. */
        boolean relink();
    }

    private final ScheduledExecutorService executor;
    private final Executor serial;
    private final NodeCredentials credentials;
    private final Agent agent;
    private ScheduledFuture<?> next;

    CertificateRenewal(ScheduledExecutorService executor, Executor serial, NodeCredentials credentials, Agent agent) {
        this.executor = executor;
        this.serial = serial;
        this.credentials = credentials;
        this.agent = agent;
    }

    /** Schedules the renewal of the current certificate (none without one), replacing any scheduled. */
    void schedule() {
        scheduleAt(credentials.certificate() == null ? null : credentials.renewalTime());
    }

    /** Renews at once (the hub asked: its CA is rotating), replacing the scheduled renewal. */
    void renewNow() {
        if (credentials.certificate() != null) {
            scheduleAt(Instant.now());
        }
    }

    /**
     * The hub's CAs changed (a CA rotation): keeps the bundle it sent for later connections, and
     * renews at once when asked. Nothing to do for a node on a bearer credential (plaintext port).
     */
    void trustUpdated(dev.meshhub.proto.v1.TrustUpdate update, CredentialStore store) {
        if (credentials.certificate() == null || update.getTrustBundleCount() == 0) {
            return;
        }
        try {
            store.saveHubCas(NodeKeyMaterial.fromDer(update.getTrustBundleList()));
        } catch (IOException | CertificateException e) {
            LOG.warning("the hub's new trust bundle could not be kept (" + e.getMessage() + "); the current one stays");
        }
        if (update.getRenewNow()) {
            LOG.info("the hub's CA is rotating: renewing the node certificate now");
            renewNow();
        } else {
            LOG.info("the hub's CA rotation is over; kept the trust bundle of " + update.getTrustBundleCount() + " CA(s)");
        }
    }

    void cancel() {
        scheduleAt(null);
    }

    private void scheduleAt(Instant at) {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        if (at == null || agent.stopping()) {
            return;
        }
        long delay = Math.max(0, Duration.between(Instant.now(), at).toMillis());
        next = executor.schedule(this::renew, delay, TimeUnit.MILLISECONDS);
    }

    private void renew() {
        next = null;
        if (agent.stopping()) {
            return;
        }
        ListenableFuture<SyncConfigurationResponse> call = NodeServiceGrpc.newFutureStub(agent.channel())
                .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS)
                .syncConfiguration(credentials.renewal(agent.info()));
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(SyncConfigurationResponse response) {
                if (agent.stopping()) {
                    return;
                }
                try {
                    credentials.renewed(response);
                } catch (IOException | CertificateException e) {
                    LOG.warning("the renewed certificate could not be kept (" + e.getMessage() + "); retrying in a minute");
                    scheduleAt(Instant.now().plus(RETRY));
                    return;
                }
                LOG.info("certificate renewed; valid until " + credentials.certificate().notAfter());
                if (agent.relink()) {
                    schedule();
                }
            }

            @Override
            public void onFailure(Throwable t) {
                if (agent.stopping()) {
                    return;
                }
                LOG.warning("certificate renewal failed: " + StatusText.describe(Status.fromThrowable(t)) + "; retrying in a minute"
                        + " (it is valid until " + credentials.certificate().notAfter() + ")");
                scheduleAt(Instant.now().plus(RETRY));
            }
        }, serial);
    }
}
