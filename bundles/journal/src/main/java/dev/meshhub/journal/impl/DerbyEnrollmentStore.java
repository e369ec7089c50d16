package dev.meshhub.journal.impl;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;

/**
 * An {@link EnrollmentStore} kept in an embedded Derby database on disk; usable without OSGi.
 *
 * <p>Shapes are checked on the caller's thread before any storage work. Storage work runs on the
 * journal's bounded executor, one transaction per operation, and completes the returned stage from
 * there. Credentials are checked from an in-memory copy of every node, loaded when the store opens
 * and updated after each commit. Only SHA-256 hashes of secrets reach the database; logs show invite
 * and node ids, never tokens or credentials.
 *
 * <p>The store works on a {@link JournalDatabase} it shares with the task journal: one Derby
 * database, one pool of journal threads, one audit trail. {@link #close()} stops accepting work and
 * gives the store's share of the database back; the last share to go lets queued work finish
 * (bounded wait, never interrupting a thread inside JDBC), then shuts the database down cleanly.
 * Afterwards every call fails with UNAVAILABLE.
 */
public final class DerbyEnrollmentStore implements EnrollmentStore, AutoCloseable {

    /** The audit actor for admin operations (there is one admin role for now). */
    static final String ADMIN = "admin";
    static final String UNKNOWN_INVITE_MESSAGE =
            "invite token not recognised; ask an admin for a new one (meshctl invite create)";
    static final String USED_MESSAGE = "invite token was already used; invite tokens are single use";
    static final String DEADLINE_MESSAGE =
            "enrollment did not finish before its deadline; nothing was changed and the invite token is still valid";
    static final int MAX_NOTE_LENGTH = 200;
    private static final int MAX_ADDRESS_LENGTH = 256;
    private static final int MAX_ECHO_LENGTH = 100;
    private static final int ATTEMPTS_FOR_FREE_ID = 10;
    private static final String DUPLICATE_KEY = "23505";

    private static final Logger LOG = LoggerFactory.getLogger(DerbyEnrollmentStore.class);

    /** The credential_hash of a node whose bearer credential is retired: no secret hashes to all zeros. */
    static final String RETIRED_CREDENTIAL = "0".repeat(64);

    private final JournalDatabase database;
    private final Clock clock;
    private final TokenSecrets secrets;
    private final NodeCache nodes;
    private final JournalExecutor executor;
    private final AuditTrail audit;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Opens (creating if missing) a journal database of its own in {@code databaseDirectory} and the
     * store on it; closing the store shuts that database down. Blocks while Derby boots.
     *
     * @param databaseDirectory the Derby database directory; must not exist, be empty, or hold a journal
     * @param clock             the time source for expiry, deadlines and records
     * @param dbThreads         number of journal threads, at least 1
     * @param queueCapacity     how much work may wait for a journal thread, at least 1
     * @throws IllegalArgumentException if an argument is out of range
     * @throws IllegalStateException    if the database cannot be opened, in particular when another
     *                                  process has booted it
     * @see JournalDatabase#open(Path, Clock, int, int)
     */
    public DerbyEnrollmentStore(Path databaseDirectory, Clock clock, int dbThreads, int queueCapacity) {
        this(openOwn(databaseDirectory, clock, dbThreads, queueCapacity), clock, true);
    }

    /**
     * Opens the store on a shared journal database and loads every node into memory. The store takes
     * a share of the database and gives it back on {@link #close()}.
     *
     * @param database the journal database (open)
     * @param clock    the time source for expiry, deadlines and records
     * @throws IllegalStateException if the database is closed or the nodes cannot be read
     */
    public DerbyEnrollmentStore(JournalDatabase database, Clock clock) {
        this(database, clock, false);
    }

    private DerbyEnrollmentStore(JournalDatabase database, Clock clock, boolean ownDatabase) {
        this.database = Objects.requireNonNull(database, "database");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.secrets = new TokenSecrets(new SecureRandom());
        this.nodes = new NodeCache(secrets.decoy());
        this.executor = database.executor();
        this.audit = database.audit();
        if (!ownDatabase) {
            database.retain();
        }
        // From here on the store holds a share: the opener's (its own database) or the one just taken.
        boolean loaded = false;
        try {
            database.inTransaction(connection -> {
                loadNodes(connection);
                return null;
            });
            loaded = true;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the nodes of the journal database in " + database.directory()
                    + ": SQLState " + e.getSQLState() + " (" + e.getMessage() + ")", e);
        } finally {
            if (!loaded) {
                closed.set(true);
                database.release();
            }
        }
        LOG.info("enrollment store open with {} node(s)", nodes.size());
    }

    /** A database the store will own: the opener's share passes to the store. */
    private static JournalDatabase openOwn(Path databaseDirectory, Clock clock, int dbThreads, int queueCapacity) {
        Objects.requireNonNull(clock, "clock");
        return JournalDatabase.open(databaseDirectory, clock, dbThreads, queueCapacity);
    }

    /** The absolute database directory. */
    public Path databaseDirectory() {
        return database.directory();
    }

    @Override
    public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
        if (closed.get()) {
            return stopped();
        }
        Duration effectiveTtl = ttl == null ? DEFAULT_INVITE_TTL : ttl;
        if (effectiveTtl.isNegative() || effectiveTtl.isZero() || effectiveTtl.compareTo(MAX_INVITE_TTL) > 0) {
            return JournalExecutor.failed(Reason.MALFORMED, "invite ttl must be more than 0 and at most "
                    + MAX_INVITE_TTL + " (" + MAX_INVITE_TTL.toHours() + " hours); got " + effectiveTtl
                    + " (default " + DEFAULT_INVITE_TTL + ")");
        }
        String cleanNote = truncate(note == null ? "" : note, MAX_NOTE_LENGTH);
        return executor.submit("invite.create", () -> createInviteNow(effectiveTtl, cleanNote));
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline) {
        return enroll(inviteToken, requestedName, address, deadline, null);
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline, String requestId) {
        if (requestId != null && !requestId.matches("[0-9a-f]{64}")) {
            return JournalExecutor.failed(Reason.MALFORMED, "an enrollment request id is 64 lowercase hex characters");
        }
        if (closed.get()) {
            return stopped();
        }
        Optional<InviteToken> token = InviteToken.parse(inviteToken);
        if (token.isEmpty()) {
            LOG.warn("enrollment refused: malformed invite token ({} characters)",
                    inviteToken == null ? "null" : inviteToken.length());
            return JournalExecutor.failed(Reason.MALFORMED, InviteToken.MALFORMED_MESSAGE);
        }
        if (!NodeNames.wantsGenerated(requestedName) && !NodeNames.isAcceptable(requestedName)) {
            LOG.warn("enrollment with invite {} refused: malformed node name ({} characters)",
                    token.get().inviteId(), requestedName.length());
            return JournalExecutor.failed(Reason.MALFORMED, NodeNames.MALFORMED_MESSAGE);
        }
        String from = printable(address, MAX_ADDRESS_LENGTH);
        return executor.submit("node.enroll", () -> enrollNow(token.get(), requestedName, from, deadline, requestId));
    }

    @Override
    public Optional<EnrolledNode> authenticate(String credential) {
        ensureOpen();
        return NodeCredential.parse(credential).flatMap(nodes::authenticate);
    }

    @Override
    public List<EnrolledNode> nodes() {
        ensureOpen();
        return nodes.all();
    }

    @Override
    public Optional<EnrolledNode> find(String idOrName) {
        ensureOpen();
        return idOrName == null ? Optional.empty() : nodes.find(idOrName);
    }

    @Override
    public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
        if (closed.get()) {
            return stopped();
        }
        Optional<EnrolledNode> known = idOrName == null ? Optional.empty() : nodes.find(idOrName);
        if (known.isEmpty()) {
            return JournalExecutor.failed(Reason.UNKNOWN,
                    "no node with id or name '" + printable(idOrName, MAX_ECHO_LENGTH) + "'");
        }
        String nodeId = known.get().nodeId();
        return executor.submit("node.revoke", () -> revokeNow(nodeId));
    }

    @Override
    public CompletionStage<EnrolledNode> removeNode(String idOrName) {
        if (closed.get()) {
            return stopped();
        }
        Optional<EnrolledNode> known = idOrName == null ? Optional.empty() : nodes.find(idOrName);
        if (known.isEmpty()) {
            return JournalExecutor.failed(Reason.UNKNOWN, "no node with id or name '" + printable(idOrName, MAX_ECHO_LENGTH) + "'");
        }
        EnrolledNode node = known.get();
        return executor.submit("node.remove", () -> {
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
        });
    }

    @Override
    public CompletionStage<Void> retireCredential(String nodeId) {
        if (closed.get()) {
            return stopped();
        }
        if (nodeId == null || !nodes.hasCredential(nodeId)) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        return executor.submit("node.retire-credential", () -> {
            retireNow(nodeId);
            return null;
        });
    }

    /**
     * Stops the store: refuses new work and gives its share of the database back. If that was the
     * last share, queued work finishes (at most 10 s, never interrupted) and the Derby database shuts
     * down. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("enrollment store closing");
        database.release();
    }

    // ---- storage work, on journal threads ----

    private IssuedInvite createInviteNow(Duration ttl, String note) throws SQLException {
        Instant now = now();
        Instant expiresAt = now.plus(ttl);
        InviteToken token = inTransaction(connection -> {
            InviteToken fresh = InviteToken.issue(secrets);
            for (int attempt = 1; inviteExists(connection, fresh.inviteId()); attempt++) {
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
            audit(connection, now, "invite.create", fresh.inviteId(),
                    "expires " + expiresAt + (note.isEmpty() ? "" : "; note: " + note));
            return fresh;
        });
        LOG.info("invite {} created; expires at {}", token.inviteId(), expiresAt);
        return new IssuedInvite(token.inviteId(), token.text(), expiresAt);
    }

    private Enrollment enrollNow(InviteToken token, String requestedName, String address, Instant deadline, String requestId)
            throws SQLException {
        Instant started = clock.instant();
        try {
            if (deadline != null && !started.isBefore(deadline)) {
                throw new EnrollmentException(Reason.DEADLINE, DEADLINE_MESSAGE);
            }
            Instant now = started.truncatedTo(ChronoUnit.MILLIS);
            String nodeId = NodeCredential.newNodeId(secrets);
            NodeCredential credential = NodeCredential.issue(nodeId, secrets);
            byte[] credentialHash = TokenSecrets.sha256(credential.secret());
            EnrolledNode[] replayed = {null};
            EnrolledNode node = inTransaction(connection -> {
                String earlier = spendInvite(connection, token, nodeId, now, requestId);
                if (earlier != null) {
                    EnrolledNode again = selectNode(connection, earlier);
                    if (again == null || again.revoked()) {
                        throw new EnrollmentException(Reason.USED, USED_MESSAGE);
                    }
                    audit(connection, now, "node.enroll.replayed", earlier, "invite=" + token.inviteId() + " from=" + address);
                    replayed[0] = again;
                    return again;
                }
                String name = chooseName(connection, requestedName);
                insertNode(connection, nodeId, name, credentialHash, now, address);
                audit(connection, now, "node.enroll", nodeId,
                        "name=" + name + " invite=" + token.inviteId() + " from=" + address);
                if (deadline != null && !clock.instant().isBefore(deadline)) {
                    throw new EnrollmentException(Reason.DEADLINE, DEADLINE_MESSAGE);
                }
                return new EnrolledNode(nodeId, name, now, false);
            });
            if (replayed[0] != null) {
                LOG.info("node {} '{}': its enrollment with invite {} answered again (same request, from {}): the first answer"
                        + " was lost", node.nodeId(), node.name(), token.inviteId(), address);
                return new Enrollment(node, "");
            }
            nodes.put(node, credentialHash);
            LOG.info("node {} '{}' enrolled from {} with invite {}", nodeId, node.name(), address, token.inviteId());
            return new Enrollment(node, credential.text());
        } catch (EnrollmentException e) {
            LOG.warn("enrollment with invite {} refused: {}", token.inviteId(), e.reason());
            throw e;
        }
    }

    /**
     * Checks the invite and marks it used, or throws; the caller's transaction rolls back on a throw.
     *
     * @return null when spent now; the node it enrolled when the same request spent it within the replay window
     */
    private String spendInvite(Connection connection, InviteToken token, String nodeId, Instant now, String requestId)
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
            throw new EnrollmentException(Reason.UNKNOWN, UNKNOWN_INVITE_MESSAGE);
        }
        if (usedAt != null && requestId != null && requestId.equals(usedByRequest) && usedBy != null
                && now.isBefore(usedAt.plus(REPLAY_WINDOW))) {
            return usedBy;
        }
        if (!now.isBefore(expiresAt)) {
            throw new EnrollmentException(Reason.EXPIRED,
                    "invite token expired at " + expiresAt + "; ask an admin for a new one");
        }
        if (usedAt != null) {
            throw new EnrollmentException(Reason.USED, USED_MESSAGE);
        }
        // The guard makes the second of two concurrent enrollments wait for the first, then miss.
        try (PreparedStatement claim = connection.prepareStatement(
                "UPDATE INVITES SET used_at = ?, used_by_node = ?, used_by_request = ? WHERE invite_id = ? AND used_at IS NULL")) {
            JournalTime.set(claim, 1, now);
            claim.setString(2, nodeId);
            claim.setString(3, requestId);
            claim.setString(4, token.inviteId());
            if (claim.executeUpdate() != 1) {
                throw new EnrollmentException(Reason.USED, USED_MESSAGE);
            }
        }
        return null;
    }

    private String chooseName(Connection connection, String requested) throws SQLException {
        if (NodeNames.wantsGenerated(requested)) {
            for (int attempt = 0; attempt < ATTEMPTS_FOR_FREE_ID; attempt++) {
                String generated = NodeNames.generate(secrets);
                if (nodeIdByName(connection, generated) == null) {
                    return generated;
                }
            }
            throw new IllegalStateException("no free generated node name after " + ATTEMPTS_FOR_FREE_ID + " attempts");
        }
        String holder = nodeIdByName(connection, requested);
        if (holder != null) {
            throw nameTaken(requested, holder);
        }
        return requested;
    }

    private void insertNode(Connection connection, String nodeId, String name, byte[] credentialHash,
                            Instant now, String address) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO NODES"
                + " (node_id, name, credential_hash, enrolled_at, enrolled_from) VALUES (?, ?, ?, ?, ?)")) {
            insert.setString(1, nodeId);
            insert.setString(2, name);
            insert.setString(3, TokenSecrets.toHex(credentialHash));
            JournalTime.set(insert, 4, now);
            insert.setString(5, address);
            insert.executeUpdate();
        } catch (SQLException e) {
            // Another enrollment took the name between our check and this insert.
            String holder = DUPLICATE_KEY.equals(e.getSQLState()) ? nodeIdByName(connection, name) : null;
            if (holder != null) {
                throw nameTaken(name, holder);
            }
            throw e;
        }
    }

    private EnrolledNode revokeNow(String nodeId) throws SQLException {
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

    private void retireNow(String nodeId) throws SQLException {
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

    // ---- SQL helpers ----

    private <T> T inTransaction(JournalDatabase.Transaction<T> work) throws SQLException {
        return database.inTransaction(work);
    }

    private static boolean inviteExists(Connection connection, String inviteId) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement("SELECT 1 FROM INVITES WHERE invite_id = ?")) {
            select.setString(1, inviteId);
            try (ResultSet rows = select.executeQuery()) {
                return rows.next();
            }
        }
    }

    private static String nodeIdByName(Connection connection, String name) throws SQLException {
        // Names differing only in case are one name (a case-insensitive file system or eye takes them for one).
        try (PreparedStatement select = connection.prepareStatement("SELECT node_id FROM NODES WHERE LOWER(name) = ?")) {
            select.setString(1, name.toLowerCase(java.util.Locale.ROOT));
            try (ResultSet rows = select.executeQuery()) {
                return rows.next() ? rows.getString(1) : null;
            }
        }
    }

    private static EnrolledNode selectNode(Connection connection, String nodeId) throws SQLException {
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

    private void loadNodes(Connection connection) throws SQLException {
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

    private void audit(Connection connection, Instant at, String action, String subject, String detail)
            throws SQLException {
        audit.insert(connection, at, ADMIN, action, subject, detail);
    }

    // ---- small things ----

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new EnrollmentException(Reason.UNAVAILABLE, JournalExecutor.STOPPED_MESSAGE);
        }
    }

    private static <T> CompletionStage<T> stopped() {
        return JournalExecutor.failed(Reason.UNAVAILABLE, JournalExecutor.STOPPED_MESSAGE);
    }

    private static EnrollmentException nameTaken(String name, String holder) {
        return new EnrollmentException(Reason.NAME_TAKEN,
                "node name '" + name + "' is taken by node " + holder + "; start the node with another --name");
    }

    private static String truncate(String text, int max) {
        return BoundedText.truncate(text, max);
    }

    private static String printable(String text, int max) {
        return BoundedText.printable(text, max);
    }
}
