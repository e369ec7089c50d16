package dev.meshhub.mirror.impl;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;

/** An enrollment store that only lists a fixed set of nodes; the mirror needs nothing else. */
final class FixedEnrollmentStore implements EnrollmentStore {

    private final List<EnrolledNode> nodes;

    FixedEnrollmentStore(EnrolledNode... nodes) {
        this.nodes = List.of(nodes);
    }

    static EnrolledNode active(String id) {
        return new EnrolledNode(id, "name-" + id, Instant.EPOCH, false);
    }

    static EnrolledNode revoked(String id) {
        return new EnrolledNode(id, "name-" + id, Instant.EPOCH, true);
    }

    @Override
    public List<EnrolledNode> nodes() {
        return nodes;
    }

    @Override
    public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Optional<EnrolledNode> authenticate(String credential) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Optional<EnrolledNode> find(String idOrName) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
        throw new UnsupportedOperationException();
    }

    @Override
    public CompletionStage<Void> retireCredential(String nodeId) {
        throw new UnsupportedOperationException();
    }
}
