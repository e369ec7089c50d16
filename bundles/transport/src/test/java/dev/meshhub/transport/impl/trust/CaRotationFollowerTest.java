package dev.meshhub.transport.impl.trust;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

import dev.meshhub.api.pki.CaRotation;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.IssuedCertificate;
import dev.meshhub.api.pki.ServerIdentity;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.testing.MutableClock;
import dev.meshhub.testing.RecordingStreamObserver;
import dev.meshhub.transport.impl.FakeEnrollmentStore;
import dev.meshhub.transport.impl.TestCas;
import dev.meshhub.transport.impl.session.NodeSessionHandle;

/**
 * The rotation as the fleet sees it: every connected node is asked once to renew, the old CA is
 * retired the moment the last enrolled node holds a new-CA certificate (or when the grace ends), and
 * then every node gets the bundle without the old CA.
 */
public class CaRotationFollowerTest {

    private final MutableClock clock = new MutableClock();
    private final TestCas oldCa = new TestCas("old CA");
    private final TestCas newCa = new TestCas("new CA");
    private final RotatingPki pki = new RotatingPki();
    private final FakeEnrollmentStore store = new FakeEnrollmentStore();
    private final List<NodeSessionHandle> live = new ArrayList<>();
    private final List<Long> published = new ArrayList<>();
    private final CaRotationFollower follower = new CaRotationFollower(() -> pki, () -> store, new CaRotationFollower.Fleet() {
        @Override
        public Collection<NodeSessionHandle> liveSessions() {
            return live;
        }

        @Override
        public void nodesOnNewCa(long count) {
            published.add(count);
        }
    }, clock);

    /** A PKI whose rotation the test starts; retiring drops the old CA. */
    private final class RotatingPki implements HubPki {
        volatile CaRotation rotation;
        final AtomicInteger retired = new AtomicInteger();

        @Override
        public String caPin() {
            return "sha256:serving";
        }

        @Override
        public List<X509Certificate> trustBundle() {
            return rotation == null ? List.of(newCa.certificate) : List.of(oldCa.certificate, newCa.certificate);
        }

        @Override
        public ServerIdentity serverIdentity() {
            throw new AssertionError("not used");
        }

        @Override
        public IssuedCertificate issueNodeCertificate(String nodeId, String nodeName, byte[] csr) {
            throw new AssertionError("not used");
        }

        @Override
        public void checkNodeCsr(byte[] csr) {
            throw new AssertionError("not used");
        }

        @Override
        public Optional<String> nodeIdOf(X509Certificate certificate) {
            throw new AssertionError("not used");
        }

        @Override
        public Optional<CaRotation> rotation() {
            return Optional.ofNullable(rotation);
        }

        @Override
        public CaRotation rotateCa() {
            throw new AssertionError("not used");
        }

        @Override
        public boolean retireOldCa() {
            boolean was = rotation != null;
            rotation = null;
            retired.incrementAndGet();
            return was;
        }
    }

    private RecordingStreamObserver<HubMessage> connect(String nodeId, TestCas issuer) {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = new NodeSessionHandle(nodeId, "name-" + nodeId, "10.0.0.1:4000", stream, clock);
        session.certificate(issuer.issue(nodeId, clock.instant().plus(Duration.ofDays(7))));
        live.add(session);
        return stream;
    }

    private static List<HubMessage> trustUpdates(RecordingStreamObserver<HubMessage> stream) {
        return stream.sent.stream().filter(HubMessage::hasTrustUpdate).toList();
    }

    private void rotate() {
        Instant now = clock.instant();
        pki.rotation = new CaRotation(oldCa.certificate, newCa.certificate, "sha256:new", now, now.plus(Duration.ofHours(1)));
    }

    @Test
    public void everyNodeIsAskedOnceAndTheOldCaGoesWhenTheLastOneRenewed() {
        RecordingStreamObserver<HubMessage> first = connect("n-1", oldCa);
        RecordingStreamObserver<HubMessage> second = connect("n-2", oldCa);
        follower.tick();
        assertTrue("no rotation, nothing said", trustUpdates(first).isEmpty());

        rotate();
        follower.tick();
        follower.tick();
        for (RecordingStreamObserver<HubMessage> stream : List.of(first, second)) {
            List<HubMessage> updates = trustUpdates(stream);
            assertEquals("asked once, however many ticks", 1, updates.size());
            assertTrue(updates.get(0).getTrustUpdate().getRenewNow());
            assertEquals("both CAs to verify the hub with", 2, updates.get(0).getTrustUpdate().getTrustBundleCount());
        }
        assertEquals(Long.valueOf(0), published.get(published.size() - 1));

        live.get(0).certificate(newCa.issue("n-1", clock.instant().plus(Duration.ofDays(7))));
        follower.tick();
        assertEquals(Long.valueOf(1), published.get(published.size() - 1));
        assertEquals("one node still on the old CA", 0, pki.retired.get());

        live.get(1).certificate(newCa.issue("n-2", clock.instant().plus(Duration.ofDays(7))));
        follower.tick();
        assertEquals(1, pki.retired.get());
        assertEquals(Long.valueOf(-1), published.get(published.size() - 1));
        for (RecordingStreamObserver<HubMessage> stream : List.of(first, second)) {
            HubMessage last = trustUpdates(stream).get(trustUpdates(stream).size() - 1);
            assertEquals("the bundle without the old CA", 1, last.getTrustUpdate().getTrustBundleCount());
            assertTrue(!last.getTrustUpdate().getRenewNow());
        }
        follower.tick();
        assertEquals("retired once", 1, pki.retired.get());
    }

    @Test
    public void anOfflineNodeHoldsTheOldCaOnlyUntilTheGraceEnds() {
        // FakeEnrollmentStore knows n-1 and n-2; only n-1 is connected (and renews).
        connect("n-1", oldCa);
        rotate();
        follower.tick();
        live.get(0).certificate(newCa.issue("n-1", clock.instant().plus(Duration.ofDays(7))));
        follower.tick();
        assertEquals("n-2 is enrolled but offline", 0, pki.retired.get());

        clock.advance(Duration.ofHours(1));
        follower.tick();
        assertEquals(1, pki.retired.get());
    }

    @Test
    public void aRevokedNodeDoesNotHoldTheRotationUp() {
        store.nodes.put("n-2", new dev.meshhub.api.enrollment.EnrolledNode("n-2", "name-n-2", Instant.EPOCH, true));
        connect("n-1", oldCa);
        rotate();
        follower.tick();
        live.get(0).certificate(newCa.issue("n-1", clock.instant().plus(Duration.ofDays(7))));
        follower.tick();
        assertEquals(1, pki.retired.get());
    }
}
