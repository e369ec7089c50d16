package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.GetHubTrustRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.HubTrust;
import dev.meshhub.proto.v1.HubTrustInfo;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RotateCaRequest;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.TrustUpdate;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/**
 * A CA rotation in the real hub with nodes connected: the admin API starts it; connected nodes are
 * told over their streams to renew and do, without their streams ending; a node enrolled meanwhile
 * gets a certificate of the new CA; an enrolled node that stays away holds the old CA until an admin
 * finishes the rotation; afterwards the hub serves with the new CA, invites print its pin, and a
 * certificate of the old CA fails the TLS handshake. A second rotation with every node connected
 * ends by itself once the last one renewed.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class CaRotationIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @Inject
    private HubPki pki;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("CaRotationIT", Map.of(), "meshhub");
    }

    /** A node and the stream it keeps open through the rotation. */
    private record Connected(TestNode node, TestStream stream) {
    }

    private Connected connect(TestNode node) {
        TestStream stream = node.stream().hello().keepAlive();
        Poll.until(node.getNodeName() + " listed", PATIENCE, () -> directory.session(node.getNodeId()).isPresent());
        return new Connected(node, stream);
    }

    private static TrustUpdate awaitTrustUpdate(TestStream stream, boolean renewNow) {
        List<TrustUpdate> seen = new ArrayList<>();
        Poll.until("a TrustUpdate (renew_now " + renewNow + ")", PATIENCE, () -> {
            for (HubMessage message : stream.received) {
                if (message.hasTrustUpdate() && message.getTrustUpdate().getRenewNow() == renewNow) {
                    seen.add(message.getTrustUpdate());
                    return true;
                }
            }
            return false;
        });
        return seen.get(0);
    }

    private HubTrustInfo trust() throws Exception {
        return hub.admin().getHubTrust(GetHubTrustRequest.getDefaultInstance());
    }

    /** A channel that verifies the hub by {@code pin} alone, as a joining node does. */
    private ManagedChannel pinned(String pin) {
        return NettyChannelBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", hub.nodePort),
                TlsChannelCredentials.newBuilder().trustManager(HubTrust.pinned(pin)).build()).build();
    }

    @Test
    public void nodesRenewOverTheirStreamsAndTheOldCaIsRetiredWhileTheyStayConnected() throws Exception {
        String oldPin = pki.caPin();
        List<Connected> fleet = new ArrayList<>();
        for (String name : List.of("rot-a", "rot-b", "rot-c")) {
            fleet.add(connect(hub.enroll(name)));
        }
        TestNode away = hub.enroll("rot-away");
        List<java.time.Instant> sessionsBefore = fleet.stream().map(c -> directory.session(c.node().getNodeId()).orElseThrow().connectedSince()).toList();

        var adminBeforeRotation = hub.admin();
        StatusRuntimeException nothingToFinish = HubIT.failure(() -> adminBeforeRotation.rotateCa(RotateCaRequest.newBuilder()
                .setFinish(true).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, nothingToFinish.getStatus().getCode());
        assertTrue(nothingToFinish.getMessage(), nothingToFinish.getStatus().getDescription().contains("no CA rotation is running"));
        assertEquals("nothing changed", oldPin, pki.caPin());

        HubTrustInfo started = hub.admin().rotateCa(RotateCaRequest.getDefaultInstance());
        assertTrue(started.hasRotation());
        String newPin = started.getRotation().getNewCaPin();
        assertNotEquals(oldPin, newPin);
        assertEquals("the node port still serves with the old CA", oldPin, started.getCaPin());
        assertEquals(4, started.getRotation().getNodesEnrolled());
        var admin = hub.admin();
        StatusRuntimeException twice = HubIT.failure(() -> admin.rotateCa(RotateCaRequest.getDefaultInstance()));
        assertEquals(Status.Code.FAILED_PRECONDITION, twice.getStatus().getCode());
        assertTrue(twice.getMessage(), twice.getStatus().getDescription().contains("already running"));

        // A node joining during the rotation verifies the hub by the pin invites print now (the old
        // one), and its certificate comes from the new CA.
        String invitePin;
        var invite = hub.admin().createInvite(CreateInviteRequest.newBuilder().setNote("during").build());
        invitePin = invite.getCaPin();
        assertEquals(oldPin, invitePin);
        ManagedChannel joining = pinned(invitePin);
        TestNode latecomer;
        try {
            NodeServiceGrpc.newBlockingStub(joining).withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(
                    SyncConfigurationRequest.newBuilder().setInviteToken(hub.invite()).setNodeName("rot-probe")
                            .setCsr(TestCertificates.throwawayCsr()).build());
            latecomer = TestNode.enroll(hub, SyncConfigurationRequest.newBuilder().setInviteToken(invite.getToken())
                    .setNodeName("rot-late").build());
        } finally {
            joining.shutdownNow();
        }
        X509Certificate newCa = pki.rotation().orElseThrow().newCa();
        latecomer.chain.get(0).verify(newCa.getPublicKey());
        fleet.add(connect(latecomer));
        hub.admin().revokeNode(RevokeNodeRequest.newBuilder().setNode("rot-probe").build());

        List<TestNode> renewed = new ArrayList<>();
        List<TestNode> previous = new ArrayList<>();
        for (Connected connected : fleet.subList(0, 3)) {
            TrustUpdate update = awaitTrustUpdate(connected.stream(), true);
            assertEquals("both CAs while rotating", 2, update.getTrustBundleCount());
            TestNode next = connected.node().renew(hub);
            next.chain.get(0).verify(newCa.getPublicKey());
            renewed.add(next);
            previous.add(connected.node());
        }
        Poll.until("4 of 5 enrolled nodes on the new CA", PATIENCE, () -> {
            try {
                return trust().getRotation().getNodesOnNewCa() == 4;
            } catch (Exception e) {
                return false;
            }
        });
        // rot-away never connects: the rotation waits for it (or its grace period, days away).
        Thread.sleep(2000);
        assertTrue("an enrolled node still on the old CA holds the rotation", pki.rotation().isPresent());
        assertEquals(5, trust().getRotation().getNodesEnrolled());

        HubTrustInfo finished = hub.admin().rotateCa(RotateCaRequest.newBuilder().setFinish(true).build());
        assertFalse(finished.hasRotation());
        assertEquals(newPin, finished.getCaPin());
        assertEquals(newPin, pki.caPin());
        for (Connected connected : fleet) {
            TrustUpdate over = awaitTrustUpdate(connected.stream(), false);
            assertEquals("the bundle without the old CA", 1, over.getTrustBundleCount());
            assertFalse("the stream carried on through the rotation", connected.stream().ended.isDone());
        }
        assertEquals("not one session was replaced", sessionsBefore, fleet.subList(0, 3).stream()
                .map(c -> directory.session(c.node().getNodeId()).orElseThrow().connectedSince()).toList());

        // The old CA is gone: its certificates fail the TLS handshake, the renewed ones work.
        for (TestNode old : List.of(away, previous.get(0))) {
            ManagedChannel channel = HubClient.nodeChannel(hub.home, hub.nodePort, null,
                    TestCertificates.keyManagers(old.keys.getPrivate(), old.chain));
            try {
                StatusRuntimeException refused = HubIT.failure(() -> NodeServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(SyncConfigurationRequest.getDefaultInstance()));
                assertEquals(refused.toString(), Status.Code.UNAVAILABLE, refused.getStatus().getCode());
            } finally {
                channel.shutdownNow();
            }
        }
        assertEquals(renewed.get(0).getNodeId(), renewed.get(0).node().syncConfiguration(SyncConfigurationRequest.getDefaultInstance())
                .getNodeId());
        assertEquals("invites print the new pin", newPin,
                hub.admin().createInvite(CreateInviteRequest.newBuilder().setNote("after").build()).getCaPin());
        ManagedChannel byNewPin = pinned(newPin);
        try {
            assertEquals("rot-new", NodeServiceGrpc.newBlockingStub(byNewPin).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .syncConfiguration(SyncConfigurationRequest.newBuilder().setInviteToken(hub.invite()).setNodeName("rot-new")
                            .setCsr(TestCertificates.throwawayCsr()).build()).getNodeName());
        } finally {
            byNewPin.shutdownNow();
        }
        hub.admin().revokeNode(RevokeNodeRequest.newBuilder().setNode("rot-new").build());
        hub.admin().revokeNode(RevokeNodeRequest.newBuilder().setNode("rot-away").build());

        // A second rotation, every enrolled node connected: it ends by itself once the last one renews.
        List<Connected> current = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            current.add(new Connected(renewed.get(i), fleet.get(i).stream()));
        }
        current.add(fleet.get(3));
        List<Long> asked = new ArrayList<>();
        for (Connected connected : current) {
            asked.add(connected.stream().received.stream().filter(m -> m.hasTrustUpdate() && m.getTrustUpdate().getRenewNow()).count());
        }
        String secondPin = hub.admin().rotateCa(RotateCaRequest.getDefaultInstance()).getRotation().getNewCaPin();
        long start = System.nanoTime();
        for (int i = 0; i < current.size(); i++) {
            Connected connected = current.get(i);
            long before = asked.get(i);
            Poll.until("asked to renew again", PATIENCE, () -> connected.stream().received.stream()
                    .filter(m -> m.hasTrustUpdate() && m.getTrustUpdate().getRenewNow()).count() > before);
            connected.node().renew(hub);
        }
        Poll.until("the old CA retired by itself", PATIENCE, () -> pki.rotation().isEmpty());
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(secondPin, pki.caPin());
        for (Connected connected : current) {
            assertFalse(connected.stream().ended.isDone());
        }
        System.out.println("CaRotationIT: second rotation of 4 connected nodes retired the old CA " + millis + " ms after it began");
    }
}
