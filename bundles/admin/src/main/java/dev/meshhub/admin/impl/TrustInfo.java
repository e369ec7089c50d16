package dev.meshhub.admin.impl;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.proto.v1.CaRotationInfo;
import dev.meshhub.proto.v1.CreateInviteResponse;
import dev.meshhub.proto.v1.HubTrust;
import dev.meshhub.proto.v1.HubTrustInfo;

/** What a node needs to trust the hub, as the admin API hands it out (from memory: the PKI answers without blocking). */
final class TrustInfo {

    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private TrustInfo() {
    }

    static HubTrustInfo of(HubPki pki, NodeDirectory nodes, EnrollmentStore enrollment) {
        HubTrustInfo.Builder info = HubTrustInfo.newBuilder()
                .setCaPin(pki.caPin())
                .setTrustBundlePem(HubTrust.toPem(pki.trustBundle()))
                .addAllHubNames(hubNames(pki.serverIdentity().certificate()))
                .setEnrollmentAttempts(nodes == null ? -1 : nodes.linkStats().enrollmentAttempts());
        pki.rotation().ifPresent(rotation -> info.setRotation(CaRotationInfo.newBuilder()
                .setNewCaPin(rotation.newCaPin())
                .setStartedAtMs(rotation.startedAt().toEpochMilli())
                .setRetireByMs(rotation.retireBy().toEpochMilli())
                .setNodesOnNewCa(nodes == null ? -1 : nodes.linkStats().nodesOnNewCa())
                .setNodesEnrolled(enrollment == null ? -1 : enrollment.nodes().stream().filter(node -> !node.revoked()).count())));
        return info.build();
    }

    /** Adds the pin and the hub's names to an invite, when the PKI runs (else the CLI says the pin is unknown). */
    static CreateInviteResponse.Builder addTo(CreateInviteResponse.Builder invite, HubPki pki) {
        if (pki != null) {
            invite.setCaPin(pki.caPin()).addAllHubNames(hubNames(pki.serverIdentity().certificate()));
        }
        return invite;
    }

    /** The DNS names and addresses a certificate lists, in its order. */
    static List<String> hubNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
            if (alternatives != null) {
                for (List<?> name : alternatives) {
                    Object type = name.get(0);
                    if (Integer.valueOf(DNS_NAME).equals(type) || Integer.valueOf(IP_ADDRESS).equals(type)) {
                        names.add(String.valueOf(name.get(1)));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // A certificate the PKI made itself: unparsable names mean none to offer.
        }
        return names;
    }
}
