package dev.meshhub.api.enrollment;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Invite tokens, enrollment and node credentials.
 *
 * <p>Methods returning a {@link CompletionStage} do their storage work on the store's own threads
 * and never block the caller. The other methods answer from memory, so a known node can be
 * authenticated on a network thread without touching the database.
 *
 * <p>Failures complete the stage exceptionally with an {@link EnrollmentException}.
 */
@ProviderType
public interface EnrollmentStore {

    /** Default time to live of an invite token. */
    Duration DEFAULT_INVITE_TTL = Duration.ofHours(1);
    /** Longest time to live an invite token may have. */
    Duration MAX_INVITE_TTL = Duration.ofHours(24);

    /**
     * Creates a single-use invite token. Only a hash of its secret is stored; the token itself is
     * in the result and nowhere else.
     *
     * @param ttl  time to live, or {@code null} for {@link #DEFAULT_INVITE_TTL}; must be positive and at
     *             most {@link #MAX_INVITE_TTL}
     * @param note free text recorded with the invite (who or what it is for), may be empty
     */
    CompletionStage<IssuedInvite> createInvite(Duration ttl, String note);

    /**
     * Spends an invite token and enrolls a node, in one transaction: after a crash either the token
     * is still valid or the node is enrolled. The token's shape is checked before any storage work,
     * its expiry at this moment, its secret in constant time.
     *
     * @param inviteToken   the token as the node sent it
     * @param requestedName the name the node asks for; {@code null} or empty for a generated one
     * @param address       the node's peer address, for the record
     * @param deadline      the work is abandoned (and nothing is spent) if it cannot commit before this
     */
    CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address, Instant deadline);

    /** How long after spending a token the same request may enroll again and get the same node. */
    Duration REPLAY_WINDOW = Duration.ofMinutes(10);

    /**
     * As {@link #enroll(String, String, String, Instant)}, idempotent by {@code requestId}: when the
     * token was spent by a request with this id less than {@link #REPLAY_WINDOW} ago (its answer lost
     * on the way to the node, say), the same node is answered again, with an empty credential,
     * instead of "already used". The hub uses the SHA-256 of the node's CSR, which only the holder of
     * the CSR's key can use.
     *
     * @param requestId 64 lowercase hex characters, or null for a single-shot enrollment
     */
    default CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address, Instant deadline,
            String requestId) {
        return enroll(inviteToken, requestedName, address, deadline);
    }

    /**
     * Checks a node credential from memory.
     *
     * @return the node, if the credential is well formed, matches, and the node is not revoked
     */
    Optional<EnrolledNode> authenticate(String credential);

    /** Every enrolled node, revoked ones included, from memory, sorted by name. */
    List<EnrolledNode> nodes();

    /** A node by its id or, failing that, by its name, from memory. */
    Optional<EnrolledNode> find(String idOrName);

    /**
     * Revokes a node: its credential stops working at once. Closing its live session is the
     * caller's part (see {@code NodeDirectory#disconnect}).
     *
     * @param idOrName the node's id or name
     */
    CompletionStage<EnrolledNode> revokeNode(String idOrName);

    /**
     * Retires a node's bearer credential for good, once the node has traded it for a certificate:
     * from the moment the stage completes, {@link #authenticate(String)} refuses it, here and after a
     * restart. Audited. Idempotent (a node without a live credential completes at once).
     *
     * @param nodeId the node's id
     */
    CompletionStage<Void> retireCredential(String nodeId);

    /**
     * Removes a node the hub should forget: its row goes (audited), its name can be enrolled again,
     * and its certificate names a node the hub does not know. Whether it may go (say, not connected)
     * is the caller's decision; its tasks stay in the journal as history.
     *
     * @param idOrName the node's id or name
     */
    default CompletionStage<EnrolledNode> removeNode(String idOrName) {
        return java.util.concurrent.CompletableFuture.failedFuture(new UnsupportedOperationException(
                "this enrollment store cannot remove nodes"));
    }
}
