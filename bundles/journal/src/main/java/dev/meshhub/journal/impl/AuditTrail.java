package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one place that writes {@code AUDIT} rows, in the caller's transaction: the enrollment store
 * inside its own transactions (an invite and its audit row commit together), the {@code AuditLog}
 * service through the group-commit writer. Values are cut to the column sizes, never refused.
 */
final class AuditTrail {

    static final int MAX_ACTOR_LENGTH = 64;
    static final int MAX_ACTION_LENGTH = 32;
    static final int MAX_SUBJECT_LENGTH = 64;
    static final int MAX_DETAIL_LENGTH = 1000;

    /** Last id handed out; seeded from the table on open. Rolled-back work leaves gaps. */
    private final AtomicLong lastId = new AtomicLong();

    /** Seeds the ids from the rows already on disk. */
    void load(Connection connection) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT MAX(id) FROM AUDIT");
             ResultSet rows = select.executeQuery()) {
            lastId.set(rows.next() ? rows.getLong(1) : 0L);
        }
    }

    /** Inserts one row in the caller's transaction. */
    void insert(Connection connection, Instant at, String actor, String action, String subject, String detail)
            throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO AUDIT (id, \"AT\", actor, action, subject, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
            insert.setLong(1, lastId.incrementAndGet());
            JournalTime.set(insert, 2, at);
            insert.setString(3, BoundedText.truncate(actor, MAX_ACTOR_LENGTH));
            insert.setString(4, BoundedText.truncate(action, MAX_ACTION_LENGTH));
            insert.setString(5, BoundedText.truncate(subject, MAX_SUBJECT_LENGTH));
            insert.setString(6, BoundedText.truncate(detail == null ? "" : detail, MAX_DETAIL_LENGTH));
            insert.executeUpdate();
        }
    }

    /** The latest {@code limit} rows, newest first. */
    static java.util.List<dev.meshhub.api.audit.AuditEntry> recent(Connection connection, int limit) throws SQLException {
        java.util.List<dev.meshhub.api.audit.AuditEntry> entries = new java.util.ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(
                "SELECT id, \"AT\", actor, action, subject, detail FROM AUDIT ORDER BY id DESC FETCH FIRST " + limit + " ROWS ONLY");
             ResultSet rows = select.executeQuery()) {
            while (rows.next()) {
                entries.add(new dev.meshhub.api.audit.AuditEntry(rows.getLong("id"), JournalTime.get(rows, "AT"), rows.getString("actor"),
                        rows.getString("action"), rows.getString("subject"), rows.getString("detail")));
            }
        }
        return entries;
    }
}
