package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;

/** The INVITES table: issuing an invite and spending one, inside the caller's transaction. */
final class InviteTable {

    private static final int ATTEMPTS_FOR_FREE_ID = 10;

    private InviteTable() {
    }

    /** Issues a new invite (an id not taken yet) and stores the SHA-256 of its secret. */
    static InviteToken insert(Connection connection, TokenSecrets secrets, String note, Instant now, Instant expiresAt)
            throws SQLException {
        InviteToken fresh = InviteToken.issue(secrets);
        for (int attempt = 1; exists(connection, fresh.inviteId()); attempt++) {
            if (attempt == ATTEMPTS_FOR_FREE_ID) {
                throw new IllegalStateException("no free invite id after " + attempt + " attempts");
            }
            fresh = InviteToken.issue(secrets);
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO INVITES"
                + " (invite_id, secret_hash, note, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
            insert.setString(1, fresh.inviteId());
            insert.setString(2, TokenSecrets.toHex(TokenSecrets.sha256(fresh.secret())));
            insert.setString(3, note);
            JournalTime.set(insert, 4, now);
            JournalTime.set(insert, 5, expiresAt);
            insert.executeUpdate();
        }
        return fresh;
    }

    /**
     * Checks the invite and marks it used, or throws; the caller's transaction rolls back on a throw.
     *
     * @return null when spent now; the node it enrolled when the same request spent it within the replay window
     */
    static String spend(Connection connection, TokenSecrets secrets, InviteToken token, String nodeId, Instant now, String requestId)
            throws SQLException {
        byte[] stored = null;
        Instant expiresAt = null;
        Instant usedAt = null;
        String usedBy = null;
        String usedByRequest = null;
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT secret_hash, expires_at, used_at, used_by_node, used_by_request FROM INVITES WHERE invite_id = ?")) {
            select.setString(1, token.inviteId());
            try (ResultSet rows = select.executeQuery()) {
                if (rows.next()) {
                    stored = TokenSecrets.fromHex(rows.getString("secret_hash"));
                    expiresAt = JournalTime.get(rows, "expires_at");
                    usedAt = JournalTime.get(rows, "used_at");
                    usedBy = rows.getString("used_by_node");
                    usedByRequest = rows.getString("used_by_request");
                }
            }
        }
        // Unknown id and wrong secret look alike, and take the same work.
        boolean matches = TokenSecrets.matches(TokenSecrets.sha256(token.secret()), stored == null ? secrets.decoy() : stored);
        if (stored == null || !matches) {
            throw new EnrollmentException(Reason.UNKNOWN, DerbyEnrollmentStore.UNKNOWN_INVITE_MESSAGE);
        }
        if (usedAt != null && requestId != null && requestId.equals(usedByRequest) && usedBy != null
                && now.isBefore(usedAt.plus(DerbyEnrollmentStore.REPLAY_WINDOW))) {
            return usedBy;
        }
        if (!now.isBefore(expiresAt)) {
            throw new EnrollmentException(Reason.EXPIRED,
                    "invite token expired at " + expiresAt + "; ask an admin for a new one");
        }
        if (usedAt != null) {
            throw new EnrollmentException(Reason.USED, DerbyEnrollmentStore.USED_MESSAGE);
        }
        // The guard makes the second of two concurrent enrollments wait for the first, then miss.
        try (PreparedStatement claim = connection.prepareStatement(
                "UPDATE INVITES SET used_at = ?, used_by_node = ?, used_by_request = ? WHERE invite_id = ? AND used_at IS NULL")) {
            JournalTime.set(claim, 1, now);
            claim.setString(2, nodeId);
            claim.setString(3, requestId);
            claim.setString(4, token.inviteId());
            if (claim.executeUpdate() != 1) {
                throw new EnrollmentException(Reason.USED, DerbyEnrollmentStore.USED_MESSAGE);
            }
        }
        return null;
    }

    private static boolean exists(Connection connection, String inviteId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT 1 FROM INVITES WHERE invite_id = ?")) {
            select.setString(1, inviteId);
            try (ResultSet rows = select.executeQuery()) {
                return rows.next();
            }
        }
    }
}
