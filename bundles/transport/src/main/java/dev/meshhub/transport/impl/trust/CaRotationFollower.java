package dev.meshhub.transport.impl.trust;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.ByteString;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.pki.CaRotation;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.PkiException;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.TrustUpdate;
import dev.meshhub.transport.impl.session.NodeSessionHandle;

/**
 * Carries a CA rotation through the connected fleet, one {@link #tick()} at a time (on the
 * transport's timer, never on a network thread): tells every session of a node not yet on the new
 * CA to renew now (TaskStream {@code TrustUpdate}), notes which enrolled nodes hold a certificate of
 * the new CA, and retires the old CA once all of them do, or when the rotation's grace period ends.
 * When the rotation is over (here or by an admin's {@code --finish}) every session gets the bundle
 * without the old CA.
 */
public final class CaRotationFollower {

    private static final Logger LOG = LoggerFactory.getLogger(CaRotationFollower.class);

    /** What the follower needs from the transport. */
    public interface Fleet {
        /** The sessions that said Hello, now. */
        Collection<NodeSessionHandle> liveSessions();

        /** Publishes the count of enrolled nodes on the new CA (-1: no rotation). */
        void nodesOnNewCa(long count);
    }

    private final Supplier<HubPki> pki;
    private final Supplier<EnrollmentStore> store;
    private final Fleet fleet;
    private final Clock clock;
    /** The new CA of the rotation being followed, or null. */
    private X509Certificate following;
    private Instant startedAt;
    private final Set<String> onNewCa = new HashSet<>();
    /** Sessions already told to renew in this rotation (weak: a session that ends is forgotten). */
    private final Set<NodeSessionHandle> told = Collections.newSetFromMap(new WeakHashMap<>());

    public CaRotationFollower(Supplier<HubPki> pki, Supplier<EnrollmentStore> store, Fleet fleet, Clock clock) {
        this.pki = pki;
        this.store = store;
        this.fleet = fleet;
        this.clock = clock;
    }

    /** One step; called every second or so by one thread. */
    public synchronized void tick() {
        HubPki current = pki.get();
        if (current == null) {
            return;
        }
        Optional<CaRotation> rotation = current.rotation();
        if (rotation.isEmpty()) {
            if (following != null) {
                ended(current);
            }
            fleet.nodesOnNewCa(-1);
            return;
        }
        CaRotation running = rotation.get();
        if (!running.newCa().equals(following)) {
            following = running.newCa();
            startedAt = clock.instant();
            onNewCa.clear();
            told.clear();
            LOG.info("CA rotation to {}: asking every connected node to renew its certificate now", running.newCaPin());
        }
        HubMessage renewNow = trustUpdate(current.trustBundle(), true);
        for (NodeSessionHandle session : fleet.liveSessions()) {
            X509Certificate certificate = session.certificate();
            if (certificate == null || onNewCa.contains(session.nodeId())) {
                continue; // a bearer session, or counted already: no signature to check again every second
            }
            if (running.issuedByNewCa(certificate)) {
                onNewCa.add(session.nodeId());
            } else if (renewNow != null && told.add(session)) {
                session.send(renewNow);
            }
        }
        EnrollmentStore enrollment = store.get();
        if (enrollment == null) {
            return;
        }
        List<String> enrolled = enrollment.nodes().stream().filter(node -> !node.revoked()).map(EnrolledNode::nodeId).toList();
        long renewed = enrolled.stream().filter(onNewCa::contains).count();
        fleet.nodesOnNewCa(renewed);
        boolean everyone = renewed == enrolled.size();
        boolean graceOver = !clock.instant().isBefore(running.retireBy());
        if (everyone || graceOver) {
            retire(current, everyone ? "all " + enrolled.size() + " enrolled node(s) hold a certificate of the new CA"
                    : "its grace period ended with " + (enrolled.size() - renewed) + " of " + enrolled.size()
                            + " node(s) still on the old CA (they must enroll again)");
        }
    }

    private void retire(HubPki current, String why) {
        try {
            if (current.retireOldCa()) {
                LOG.info("old CA retired {} after the rotation was seen: {}", Duration.between(startedAt, clock.instant()), why);
            }
        } catch (PkiException e) {
            LOG.error("the old CA could not be retired ({}); trying again shortly", e.getMessage());
            return;
        }
        ended(current);
        fleet.nodesOnNewCa(-1);
    }

    /** The rotation is over: every session gets the bundle without the old CA. */
    private void ended(HubPki current) {
        following = null;
        onNewCa.clear();
        told.clear();
        HubMessage bundle = trustUpdate(current.trustBundle(), false);
        if (bundle == null) {
            return;
        }
        int sent = 0;
        for (NodeSessionHandle session : fleet.liveSessions()) {
            if (session.send(bundle)) {
                sent++;
            }
        }
        LOG.info("CA rotation over; {} connected node(s) sent the trust bundle without the old CA", sent);
    }

    private static HubMessage trustUpdate(List<X509Certificate> bundle, boolean renewNow) {
        TrustUpdate.Builder update = TrustUpdate.newBuilder().setRenewNow(renewNow);
        try {
            for (X509Certificate ca : bundle) {
                update.addTrustBundle(ByteString.copyFrom(ca.getEncoded()));
            }
        } catch (CertificateEncodingException e) {
            LOG.error("the trust bundle cannot be encoded; nodes are not told of the CA rotation", e);
            return null;
        }
        return HubMessage.newBuilder().setTrustUpdate(update).build();
    }
}
