package dev.meshhub.transport.impl;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;

/**
 * Nodes n-1 and n-2 (names {@code name-n-1}, {@code name-n-2}), found by id or by name; credential
 * {@code cred-<id>} authenticates a node. Enrollment answers with {@link #enrollments}: by default the
 * token {@code good} enrolls node n-3 and anything else is UNKNOWN.
 */
public final class FakeEnrollmentStore implements EnrollmentStore {

    public final Map<String, EnrolledNode> nodes = new ConcurrentHashMap<>(Map.of(
            "n-1", new EnrolledNode("n-1", "name-n-1", Instant.EPOCH, false),
            "n-2", new EnrolledNode("n-2", "name-n-2", Instant.EPOCH, false)));
    public final AtomicInteger enrollCalls = new AtomicInteger();
    public volatile Function<String, CompletionStage<Enrollment>> enrollments = token -> token.equals("good")
            ? CompletableFuture.completedFuture(new Enrollment(new EnrolledNode("n-3", "name-n-3", Instant.EPOCH, false), "cred-n-3"))
            : CompletableFuture.failedFuture(new EnrollmentException(EnrollmentException.Reason.UNKNOWN, "invite token not recognised"));

    @Override
    public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
        throw new AssertionError("not used");
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address, Instant deadline) {
        enrollCalls.incrementAndGet();
        return enrollments.apply(inviteToken);
    }

    @Override
    public Optional<EnrolledNode> authenticate(String credential) {
        return credential != null && credential.startsWith("cred-")
                ? Optional.ofNullable(nodes.get(credential.substring(5))).filter(n -> !n.revoked()) : Optional.empty();
    }

    @Override
    public List<EnrolledNode> nodes() {
        return List.copyOf(nodes.values());
    }

    @Override
    public Optional<EnrolledNode> find(String idOrName) {
        return nodes.values().stream().filter(n -> n.nodeId().equals(idOrName) || n.name().equals(idOrName)).findFirst();
    }

    @Override
    public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
        throw new AssertionError("not used");
    }

    /** Node ids whose credential was retired, in order. */
    public final java.util.List<String> retired = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<Void> retireCredential(String nodeId) {
        retired.add(nodeId);
        return CompletableFuture.completedFuture(null);
    }
}
