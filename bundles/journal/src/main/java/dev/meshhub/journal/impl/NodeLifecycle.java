package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;

/**
 * What happens to an enrolled node after its enrollment: revoked, removed, its bearer credential
 * retired. Each is one transaction on a journal thread (the caller submits it there), audited in the
 * same transaction, and applied to the in-memory {@link NodeCache} after the commit.
 */
final class NodeLifecycle {

    /** The credential_hash of a node whose bearer credential is retired: no secret hashes to all zeros. */
    static final String RETIRED_CREDENTIAL = "0".repeat(64);

    private static final Logger LOG = LoggerFactory.getLogger(DerbyEnrollmentStore.class);

    private final JournalDatabase database;
    private final NodeCache nodes;
    private final Clock clock;

    NodeLifecycle(JournalDatabase database, NodeCache nodes, Clock clock) {
        this.database = database;
        this.nodes = nodes;
        this.clock = clock;
    }

    /** Revokes the node (idempotent); its certificate and credential stop working at once. */
    EnrolledNode revoke(String nodeId) throws SQLException {
        Instant now = now();
        boolean[] revokedNow = {false};
        EnrolledNode node = inTransaction(connection -> {
            EnrolledNode before = selectNode(connection, nodeId);
            if (before == null) {
                throw new EnrollmentException(Reason.UNKNOWN, "no node with id or name '" + nodeId + "'");
            }
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE NODES SET revoked_at = ? WHERE node_id = ? AND revoked_at IS NULL")) {
                JournalTime.set(update, 1, now);
                update.setString(2, nodeId);
                revokedNow[0] = update.executeUpdate() == 1;
            }
            if (revokedNow[0]) {
                audit(connection, now, "node.revoke", nodeId, "name=" + before.name());
            }
            return new EnrolledNode(before.nodeId(), before.name(), before.enrolledAt(), true);
        });
        nodes.update(node);
        if (revokedNow[0]) {
            LOG.info("node {} '{}' revoked", nodeId, node.name());
        } else {
            LOG.info("node {} '{}' was already revoked", nodeId, node.name());
        }
        return node;
    }

    /** Retires the node's bearer credential (it traded it for a certificate); idempotent. */
    void retireCredential(String nodeId) throws SQLException {
        Instant now = now();
        boolean retired = inTransaction(connection -> {
            try (PreparedStatement update = connection.prepareStatement(
                    "UPDATE NODES SET credential_hash = ? WHERE node_id = ? AND credential_hash <> ?")) {
                update.setString(1, RETIRED_CREDENTIAL);
                update.setString(2, nodeId);
                update.setString(3, RETIRED_CREDENTIAL);
                if (update.executeUpdate() != 1) {
                    return false;
                }
            }
            audit(connection, now, "node.credential-retired", nodeId, "traded for a certificate");
            return true;
        });
        nodes.retireCredential(nodeId);
        if (retired) {
            LOG.info("node {}: bearer credential retired (the node holds a certificate now)", nodeId);
        }
    }

    /** Forgets a node: its name can be enrolled again and its certificate is no longer recognised. */
    EnrolledNode remove(EnrolledNode node) throws SQLException {
        Instant now = now();
        inTransaction(connection -> {
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM NODES WHERE node_id = ?")) {
                delete.setString(1, node.nodeId());
                delete.executeUpdate();
            }
            audit(connection, now, "node.remove", node.nodeId(), "name=" + node.name() + (node.revoked() ? " (revoked)" : ""));
            return null;
        });
        nodes.remove(node);
        LOG.info("node {} '{}' removed; its name can be enrolled again", node.nodeId(), node.name());
        return node;
    }

    static EnrolledNode selectNode(Connection connection, String nodeId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT node_id, name, enrolled_at, revoked_at FROM NODES WHERE node_id = ?")) {
            select.setString(1, nodeId);
            try (ResultSet rows = select.executeQuery()) {
                if (!rows.next()) {
                    return null;
                }
                return new EnrolledNode(rows.getString("node_id"), rows.getString("name"),
                        JournalTime.get(rows, "enrolled_at"), JournalTime.get(rows, "revoked_at") != null);
            }
        }
    }

    /** Fills the cache from the NODES table. */
    void loadNodes(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT node_id, name, credential_hash, enrolled_at, revoked_at FROM NODES");
             ResultSet rows = select.executeQuery()) {
            while (rows.next()) {
                nodes.put(new EnrolledNode(rows.getString("node_id"), rows.getString("name"),
                                JournalTime.get(rows, "enrolled_at"), JournalTime.get(rows, "revoked_at") != null),
                        RETIRED_CREDENTIAL.equals(rows.getString("credential_hash")) ? null
                                : TokenSecrets.fromHex(rows.getString("credential_hash")));
            }
        }
    }

    private <T> T inTransaction(JournalDatabase.Transaction<T> work) throws SQLException {
        return database.inTransaction(work);
    }

    private void audit(Connection connection, Instant at, String action, String subject, String detail) throws SQLException {
        database.audit().insert(connection, at, DerbyEnrollmentStore.ADMIN, action, subject, detail);
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
